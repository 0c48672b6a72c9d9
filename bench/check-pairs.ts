// `svd check --pairs` throughput: 10,000 math pairs (or the count given as the first argument), each distinct so that
// the compile cache does not flatter the figure, checked in one process. Prints pairs per second, and how many
// verdicts agree with the way each pair was made (equivalent rewriting or not).
//   node --import tsx bench/check-pairs.ts [count]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mulberry32 } from '../src/core/method/seedChoices';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist/cli.js');

interface Pair {
  id: number;
  gold: string;
  answer: string;
  equivalent: boolean;
}

const REASONING =
  'We set up the relation from the statement, simplify each side, and check the edge cases against the conditions ' +
  'given. Substituting back confirms the value, and no other case satisfies every constraint. ';

/** One gold answer and a rewriting of it, equivalent or not, in the forms MATH-style answers take. */
function makePair(id: number, next: () => number): Pair {
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const a = int(1, 999);
  const b = int(2, 997) + (id % 7);
  const k = int(2, 9);
  const kinds: Array<[string, string, boolean]> = [
    [`${a + id}`, `${a + id}`, true],
    [`${a + id}`, `${a + id + 1}`, false],
    [`\\frac{${a}}{${b}}`, `\\dfrac{${k * a}}{${k * b}}`, true],
    [`\\frac{${a}}{${b}}`, `${a}/${b + 1}`, false],
    [`${k}\\sqrt{${b}}`, `\\sqrt{${k * k * b}}`, true],
    [`${k}\\sqrt{${b}}`, `${k}\\sqrt{${b + 1}}`, false],
    [`\\frac{${a}\\pi}{${b}}`, `${a}\\pi/${b}`, true],
    [`\\left( ${a}, ${b} \\right)`, `(${a},${b})`, true],
    [`\\left( ${a}, ${b} \\right)`, `(${b},${a})`, a === b],
    [`${a}x^2 + ${b}x`, `x(${a}x+${b})`, true],
    [`${(a / 8).toFixed(3)}`, `${(a / 8).toFixed(3)}0`, true],
  ];
  const [gold, rewritten, equivalent] = kinds[id % kinds.length]!;
  const prefix = REASONING.repeat(1 + (id % 4));
  const answer = id % 10 === 0 ? `<think>${prefix}</think>So the answer is $\\boxed{${rewritten}}$.` : `${prefix}\n\nTherefore the answer is $\\boxed{${rewritten}}$.`;
  return { id, gold, answer, equivalent };
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 10_000);
  const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
  const next = mulberry32(20241);
  const pairs = Array.from({ length: count }, (_, id) => makePair(id, next));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-bench-pairs-'));
  const file = path.join(dir, 'pairs.jsonl');
  writeFileSync(file, pairs.map(({ id, gold, answer }) => JSON.stringify({ id, gold, answer, domain: 'math' })).join('\n') + '\n');

  const started = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, 'check', '--pairs', file], { cwd: ROOT });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('close', (exit) => resolve({ code: exit, stdout: Buffer.concat(out).toString('utf8'), stderr: err }));
  });
  const seconds = (performance.now() - started) / 1000;
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`svd check --pairs exited ${code}: ${stderr}`);

  const results = stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { line: number; id: string; correct?: boolean });
  let agree = 0;
  results.forEach((result, i) => {
    if (result.line !== i + 1) throw new Error(`result ${i + 1} is for line ${result.line}: out of order`);
    if (result.correct === pairs[i]!.equivalent) agree++;
  });
  console.log(`svd check --pairs: ${results.length} math pairs in ${seconds.toFixed(2)} s, one process (start-up included)`);
  console.log(`  ${Math.round(results.length / seconds)} pairs/s; verdicts agreeing with the construction: ${agree}/${results.length}`);
  console.log(`  ${stderr.trim()}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
