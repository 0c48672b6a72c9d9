// The layer rules in eslint.config.mjs fire: each planted import below breaks one rule and must be reported by it,
// and each allowed import must pass. `npm run lint` keeps the real tree clean; this keeps the rules from going
// quiet (a resolver that stops resolving would otherwise pass everything).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';

const ROOT = path.resolve(__dirname, '../..');
const eslint = new ESLint({ cwd: ROOT });

/** The rules that report `code` as if it were the file `file` (repository-relative; the file need not exist). */
async function rulesBroken(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

const planted: [string, string, string][] = [
  ['src/core/base/planted.ts', "import { RunStore } from '../record/store';\nexport const x = RunStore;\n", 'import-x/no-restricted-paths'],
  ['src/core/record/planted.ts', "import { runPipeline } from '../method/pipeline';\nexport const x = runPipeline;\n", 'import-x/no-restricted-paths'],
  ['src/core/method/planted.ts', "import { exportRun } from '../training/export';\nexport const x = exportRun;\n", 'import-x/no-restricted-paths'],
  ['src/core/training/planted.ts', "import { runSweep } from '../experiments/sweep';\nexport const x = runSweep;\n", 'import-x/no-restricted-paths'],
  ['src/core/method/planted2.ts', "import { main } from '../../cli/main';\nexport const x = main;\n", 'import-x/no-restricted-paths'],
  ['src/core/record/planted.ts', "import * as vscode from 'vscode';\nexport const x = vscode;\n", 'no-restricted-imports'],
  ['src/cli/planted.ts', "import OpenAI from 'openai';\nexport const x = new OpenAI();\n", 'no-restricted-imports'],
  ['src/vscode/planted.ts', "import { getLlama } from 'node-llama-cpp';\nexport const x = getLlama;\n", 'no-restricted-imports'],
  ['src/engine/planted.ts', "import { RunStore } from '../core/record/store';\nexport const x = RunStore;\n", 'import-x/no-restricted-paths'],
  ['src/vscode/planted.ts', "import { main } from '../cli/main';\nexport const x = main;\n", 'import-x/no-restricted-paths'],
  ['src/protocol/planted.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", 'no-restricted-imports'],
  ['src/protocol/planted.ts', "import { RunStore } from '../core/record/store';\nexport const x = RunStore;\n", 'import-x/no-restricted-paths'],
  ['src/protocol/review.ts', "import { auditRun } from '../core/record/audit';\nexport const x = auditRun;\n", 'import-x/no-restricted-paths'],
  ['webview-ui/src/planted.ts', "import { STAGES } from '../../src/core/base/types';\nexport const x = STAGES;\n", 'import-x/no-restricted-paths'],
  ['webview-ui/src/planted.ts', "import path from 'path';\nexport const x = path;\n", 'no-restricted-imports'],
  ['src/core/base/planted.ts', 'export default 1;\n', 'import-x/no-default-export'],
];

for (const [file, code, rule] of planted) {
  test(`${rule} refuses in ${file}: ${code.split('\n')[0]}`, async () => {
    assert.ok((await rulesBroken(file, code)).includes(rule), `${rule} did not fire`);
  });
}

const allowed: [string, string][] = [
  ['src/core/method/planted.ts', "import { RunStore } from '../record/store';\nexport const x = RunStore;\n"],
  ['src/core/method/openaiClient.ts', "import OpenAI from 'openai';\nexport const x = new OpenAI();\n"],
  ['src/core/training/planted.ts', "import type OpenAI from 'openai';\nexport type X = OpenAI;\n"],
  ['src/vscode/planted.ts', "import * as vscode from 'vscode';\nexport const x = vscode;\n"],
  ['src/protocol/planted.ts', "import { STAGES } from '../core/base/types';\nexport const x = STAGES;\n"],
  ['webview-ui/src/planted.ts', "import { ReviewFilter } from '../../src/protocol/review';\nexport const x = ReviewFilter;\n"],
];

for (const [file, code] of allowed) {
  test(`allowed in ${file}: ${code.split('\n')[0]}`, async () => {
    assert.deepEqual(await rulesBroken(file, code), []);
  });
}

test('import-x/no-cycle refuses two modules that import each other', async () => {
  // Cycles need both files on disk; they live for this test only.
  const dir = mkdtempSync(path.join(ROOT, 'src/core/base/lint-cycle-'));
  try {
    writeFileSync(path.join(dir, 'a.ts'), "import { b } from './b';\nexport const a = (): unknown => b;\n");
    writeFileSync(path.join(dir, 'b.ts'), "import { a } from './a';\nexport const b = (): unknown => a;\n");
    const results = await eslint.lintFiles([path.join(dir, 'a.ts')]);
    assert.ok(results[0]!.messages.some((m) => m.ruleId === 'import-x/no-cycle'), JSON.stringify(results[0]!.messages));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
