// The seed files' editor code under plain Node (the `vscode` stub): which run the lenses of a file with several runs
// point at (the one the settings name), and that exported data gets no lenses.
import '../../stubs/register-vscode';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import type * as vscode from 'vscode';
import { identifyRun } from '../../../src/core/method/runPlan';
import { parseRunConfig } from '../../../src/core/base/config';
import { ApiKeys } from '../../../src/vscode/platform/apiKeys';
import { createPlatform, type Platform } from '../../../src/vscode/platform/feature';
import { SettingsRunIds, settingsPlan, settingsTarget } from '../../../src/vscode/runs/settingsRun';
import { SeedCodeLensProvider } from '../../../src/vscode/seeds/codelens';
import { type CodeLens, stub, textDocument, Uri, window } from '../../stubs/vscode';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'svd-vscode-seeds-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let count = 0;

function platform(): Platform {
  const secrets = { get: async () => undefined, store: async () => undefined, delete: async () => undefined } as unknown as vscode.SecretStorage;
  const extension = { subscriptions: [], extensionPath: '/ext', extensionUri: Uri.file('/ext'), globalStorageUri: Uri.file('/storage'), secrets } as unknown as vscode.ExtensionContext;
  const log = window.createOutputChannel('test') as unknown as vscode.LogOutputChannel;
  return createPlatform(extension, log, new ApiKeys(secrets));
}

/** A workspace open in the stubbed window, with a seed file of two questions. */
function workspace(): { root: string; seeds: string } {
  const root = path.join(scratch, `ws-${++count}`);
  mkdirSync(root, { recursive: true });
  stub.reset(root);
  const seeds = path.join(root, 'seeds.jsonl');
  writeFileSync(seeds, ['What is 1 + 1?', 'What is 2 + 2?'].map((question, i) => JSON.stringify({ id: `q${i}`, domain: 'math', question })).join('\n') + '\n');
  return { root, seeds };
}

const lensTargets = (lenses: vscode.CodeLens[]) => (lenses as unknown as CodeLens[]).map((lens) => `${lens.command?.command} ${String(lens.command?.arguments?.[0])}`);

beforeEach(() => stub.reset());

describe('the run the settings name', () => {
  test('is the id svd run derives from the same file and parameters, and changes with them', async () => {
    const { seeds } = workspace();
    const p = platform();
    const ids = new SettingsRunIds(() => p.settings());
    const s = p.settings();
    const cli = await identifyRun({ seedsFile: seeds, runsDir: s.runsDir, config: parseRunConfig({}), target: { model: 'Qwen3-0.6B-Q8_0', engine: 'embedded' } });
    assert.deepEqual(settingsTarget(s), { model: 'Qwen3-0.6B-Q8_0', engine: 'embedded' });
    assert.equal(await ids.runIdOf(seeds), cli.runId);
    assert.equal((await settingsPlan(seeds, s)).plan.runId, cli.runId);
    // Another n: another run. A server's URL is no part of the id, its model is.
    stub.settings.set('svd.candidates', 8);
    const eight = await ids.runIdOf(seeds);
    assert.notEqual(eight, cli.runId);
    stub.settings.set('svd.endpoint.baseUrl', 'http://localhost:8000/v1');
    stub.settings.set('svd.endpoint.model', 'Qwen3-0.6B-Q8_0');
    assert.equal(await ids.runIdOf(seeds), eight);
    stub.settings.set('svd.endpoint.baseUrl', 'http://replica:8000/v1');
    assert.equal(await ids.runIdOf(seeds), eight);
    stub.settings.set('svd.endpoint.model', 'other');
    assert.notEqual(await ids.runIdOf(seeds), eight);
    assert.equal(await ids.runIdOf(path.join(path.dirname(seeds), 'missing.jsonl')), undefined, 'no file, no run');
  });
});

describe('seed file lenses', () => {
  test('with several runs of the file they point at the one the settings name, else at the newest', async () => {
    const { seeds } = workspace();
    let wanted: string | undefined = 'older';
    const provider = new SeedCodeLensProvider({
      runsForFile: () => [
        { runId: 'newest', state: 'finished' },
        { runId: 'older', state: 'stopped' },
      ],
      settingsRunId: async () => wanted,
      isTrusted: () => true,
    });
    const document = textDocument(Uri.file(seeds), '{"id": "q0", "domain": "math", "question": "What is 1 + 1?"}\n') as unknown as vscode.TextDocument;
    assert.deepEqual(lensTargets(await provider.provideCodeLenses(document)), [`svd.run ${Uri.file(seeds).toString()}`, 'svd.resume older', 'svd.openReview older']);
    wanted = 'gone';
    assert.deepEqual(lensTargets(await provider.provideCodeLenses(document)), [`svd.run ${Uri.file(seeds).toString()}`, 'svd.openReview newest']);
    provider.dispose();
  });

  test('exported data gets none, whatever its name', async () => {
    const { root } = workspace();
    const provider = new SeedCodeLensProvider({ runsForFile: () => [], isTrusted: () => true });
    const row = JSON.stringify({ prompt: [{ role: 'user', content: 'q' }], completion: [{ role: 'assistant', content: 'a' }] });
    const exported = textDocument(Uri.file(path.join(root, 'my-data.jsonl')), `${row}\n${row}\n`) as unknown as vscode.TextDocument;
    assert.deepEqual(await provider.provideCodeLenses(exported), []);
    const named = textDocument(Uri.file(path.join(root, 'r-1a2b.openai.jsonl')), '') as unknown as vscode.TextDocument;
    assert.deepEqual(await provider.provideCodeLenses(named), []);
    provider.dispose();
  });
});
