// Feature commands and their argument parsing under plain Node (the `vscode` stub): the seed file a command runs on,
// the result file a view opens, export with and without questions, and training's refusals before anything runs.
import '../../stubs/register-vscode';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import type * as vscode from 'vscode';
import { parseRunConfig } from '../../../src/core/base/config';
import type { NewRunEvent } from '../../../src/core/record/events';
import { RunStore } from '../../../src/core/record/store';
import { DEFAULT_EXPORT_CHOICES } from '../../../src/core/training/exportChoices';
import { experimentFileOf } from '../../../src/vscode/experiments/panels';
import { ApiKeys } from '../../../src/vscode/platform/apiKeys';
import { isDeclined, type CommandResult } from '../../../src/vscode/platform/commandResult';
import { createPlatform, type FeatureContext } from '../../../src/vscode/platform/feature';
import { RunSessions } from '../../../src/vscode/runs/runSessions';
import { RunsTreeProvider } from '../../../src/vscode/runs/runsTree';
import { seedFileArgument } from '../../../src/vscode/seeds/pickSeedFile';
import { registerTrainingCommands, TRAINER_ITEMS } from '../../../src/vscode/training/commands';
import { exportChoiceItems, exportChoicesOf, registerExportCommand } from '../../../src/vscode/training/exportCommand';
import type { TrainingJobs } from '../../../src/vscode/training/trainingJobs';
import { commands, stub, Uri, window } from '../../stubs/vscode';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'svd-vscode-features-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let count = 0;

/** A workspace with one finished run, `r`, whose one seed has one accepted answer. */
function workspaceWithRun(): { root: string; runDir: string } {
  const root = path.join(scratch, `ws-${++count}`);
  stub.reset(root);
  const runDir = path.join(root, '.svd', 'runs', 'r');
  const store = RunStore.create(runDir, {
    version: 1,
    id: 'r',
    createdAt: '2025-01-01T00:00:00.000Z',
    seedFile: { path: path.join(root, 'seeds.jsonl'), fingerprint: 'abc', format: 'jsonl', rows: 1 },
    model: { model: 'qwen3', baseURL: 'http://localhost:8000/v1', engine: 'server' },
    config: parseRunConfig({}),
    methodFingerprint: 'f',
  });
  const events: NewRunEvent[] = [
    { id: 'run:1', type: 'run', state: 'started' },
    { id: 'seed:1', type: 'seed', seedId: '1', line: 1, domain: 'math', question: 'What is 1 + 1?', prompt: [{ role: 'user', content: 'What is 1 + 1?' }] },
    {
      id: 'cand:1#0',
      type: 'candidate',
      seedId: '1',
      candidateId: '1#0',
      index: 0,
      text: '<think>one and one</think>\\boxed{2}',
      finishReason: 'stop',
      promptTokens: 10,
      completionTokens: 10,
      cached: false,
      valid: true,
      finalAnswer: '\\boxed{2}',
    },
    { id: 'outcome:1', type: 'outcome', seedId: '1', status: 'accepted', acceptedCandidateIds: ['1#0'] },
    { id: 'run:2', type: 'run', state: 'finished', wallMs: 10 },
  ];
  for (const event of events) store.append(event);
  store.close();
  return { root, runDir };
}

function featureContext(): { ctx: FeatureContext; dispose(): void } {
  const secrets = { get: async () => undefined, store: async () => undefined, delete: async () => undefined } as unknown as vscode.SecretStorage;
  const extension = { subscriptions: [], extensionPath: '/ext', extensionUri: Uri.file('/ext'), globalStorageUri: Uri.file('/storage'), secrets } as unknown as vscode.ExtensionContext;
  const log = window.createOutputChannel('test') as unknown as vscode.LogOutputChannel;
  const platform = createPlatform(extension, log, new ApiKeys(secrets));
  const tree = new RunsTreeProvider({ runsDir: platform.runsDir, isRunning: () => false, log });
  return { ctx: { ...platform, tree }, dispose: () => tree.dispose() };
}

beforeEach(() => stub.reset());

/** The stub's Uri where the editor code's signature says VS Code's. */
const fileUri = (fsPath: string) => Uri.file(fsPath) as unknown as vscode.Uri;

describe('command arguments', () => {
  test('a seed file: a Uri or path of a seed file on disk, else the active editor\'s; anything else asks', () => {
    assert.equal(seedFileArgument(Uri.file('/w/questions.jsonl'), undefined)?.fsPath, '/w/questions.jsonl');
    assert.equal(seedFileArgument('/w/picked.csv', undefined)?.fsPath, '/w/picked.csv', 'a file the user chose counts whatever its name');
    assert.equal(seedFileArgument(undefined, fileUri('/w/open.jsonl'))?.fsPath, '/w/open.jsonl');
    assert.equal(seedFileArgument(Uri.file('/w/notes.txt'), fileUri('/w/open.jsonl')), undefined);
    assert.equal(seedFileArgument(Uri.file('/w/package.json'), undefined), undefined);
    assert.equal(seedFileArgument(Uri.untitled('Untitled-1.jsonl'), undefined), undefined);
    assert.equal(seedFileArgument(undefined, undefined), undefined);
  });

  test('a saved result: its file, its folder, or its node in the Runs view', () => {
    assert.equal(experimentFileOf('sweep', '/runs/sweep-a/sweep.json'), '/runs/sweep-a/sweep.json');
    assert.equal(experimentFileOf('sweep', '/runs/sweep-a'), path.join('/runs/sweep-a', 'sweep.json'));
    assert.equal(experimentFileOf('eval', Uri.file('/evals/e1')), path.join('/evals/e1', 'result.json'));
    assert.equal(experimentFileOf('eval', { kind: 'experiment', entry: { file: '/evals/e1/result.json' } }), '/evals/e1/result.json');
    assert.equal(experimentFileOf('eval', undefined), undefined);
  });

  test('the export\'s options as listed stand for the choices of an export without questions', () => {
    const items = exportChoiceItems();
    assert.deepEqual(exportChoicesOf(items.filter((item) => item.picked)), DEFAULT_EXPORT_CHOICES);
    assert.deepEqual(exportChoicesOf([]), { keepThinking: false, applyOverrides: false, holdOut: false });
  });
});

describe('export', () => {
  test('given its format and file, it asks nothing and writes the accepted answers', async () => {
    workspaceWithRun();
    const { ctx, dispose } = featureContext();
    registerExportCommand(ctx);
    const out = path.join(scratch, `export-${count}.jsonl`);
    const summary = await commands.executeCommand<{ rows: number }>('svd.export', 'r', 'openai', out);
    assert.equal(summary.rows, 1);
    assert.deepEqual(stub.prompts, []);
    const [row] = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { messages: { role: string; content: string }[] });
    assert.equal(row!.messages.at(-1)!.content, '<think>one and one</think>\\boxed{2}');
    dispose();
  });

  test('asked: format, options and file; the thinking stripped and a split held out as picked', async () => {
    const { root } = workspaceWithRun();
    const { ctx, dispose } = featureContext();
    registerExportCommand(ctx);
    const out = path.join(scratch, `asked-${count}.jsonl`);
    stub.answer(
      (items: unknown) => (items as { label: string }[]).find((item) => item.label === 'trl'),
      (items: unknown) => (items as { id: string }[]).filter((item) => item.id === 'applyOverrides' || item.id === 'holdOut'),
      Uri.file(out),
    );
    const summary = await commands.executeCommand<{ rows: number; files: { path: string; split: string }[] }>('svd.export', 'r');
    assert.deepEqual(stub.prompts.map((p) => p.kind), ['quickPick', 'quickPick', 'saveDialog']);
    assert.equal((stub.prompts[2]!.shown as { defaultUri: Uri }).defaultUri.fsPath, path.join(root, 'r.trl.jsonl'));
    assert.deepEqual(summary.files.map((f) => f.split), ['train', 'validation']);
    const written = summary.files.flatMap((f) => (existsSync(f.path) ? readFileSync(f.path, 'utf8').trim().split('\n').filter(Boolean) : []));
    assert.equal(written.length, 1);
    assert.ok(!written[0]!.includes('one and one'), 'the thinking was stripped');
    assert.match(stub.messages.at(-1)!.message, /^Exported 1 examples as trl/);
    assert.deepEqual(stub.opened, [summary.files[0]!.path]);
    dispose();
  });

  test('closing a prompt declines; a file that exists is replaced only once the user says so', async () => {
    workspaceWithRun();
    const { ctx, dispose } = featureContext();
    registerExportCommand(ctx);
    assert.deepEqual(await commands.executeCommand('svd.export', 'r'), { declined: 'cancelled' });
    const out = path.join(scratch, `twice-${count}.jsonl`);
    await commands.executeCommand('svd.export', 'r', 'openai', out);
    stub.answer(undefined);
    assert.deepEqual(await commands.executeCommand('svd.export', 'r', 'openai', out), { declined: 'cancelled' });
    assert.equal(stub.prompts.at(-1)?.kind, 'modal');
    assert.match(String(stub.prompts.at(-1)?.shown), /already exists\. Replace it with the export of r\?/);
    stub.answer('Replace');
    assert.equal((await commands.executeCommand<{ rows: number }>('svd.export', 'r', 'openai', out)).rows, 1);
    dispose();
  });
});

describe('training, refused before anything runs', () => {
  const noJobs = { isActive: () => false } as unknown as TrainingJobs;

  function register(): { dispose(): void } {
    const { ctx, dispose } = featureContext();
    const sessions = new RunSessions(ctx);
    registerTrainingCommands(ctx, sessions, noJobs);
    return {
      dispose: () => {
        sessions.dispose();
        dispose();
      },
    };
  }

  test('a trainer that does not exist is refused; the custom trainer without its command declines on the setting', async () => {
    workspaceWithRun();
    const features = register();
    const unknown = await commands.executeCommand<CommandResult<string>>('svd.train', 'r', 'axolotl', 'm');
    assert.ok(isDeclined(unknown));
    assert.deepEqual([unknown.declined, unknown.code], ['refused', 'not_found']);

    const custom = await commands.executeCommand<CommandResult<string>>('svd.train', 'r', 'custom', 'm');
    assert.ok(isDeclined(custom));
    assert.deepEqual([custom.declined, custom.code], ['invalid_settings', 'bad_config']);
    assert.deepEqual(stub.messages.at(-1)?.items, ['Open Settings']);
    assert.deepEqual(stub.prompts, []);
    features.dispose();
  });

  test('asked: the trainers to pick from, then the base model (the run\'s, to start with)', async () => {
    workspaceWithRun();
    const features = register();
    stub.answer((items: unknown) => (items as { id: string }[]).find((item) => item.id === 'custom'), undefined);
    assert.deepEqual(await commands.executeCommand('svd.train', 'r'), { declined: 'cancelled' });
    assert.deepEqual((stub.prompts[0]!.shown as { id: string }[]).map((item) => item.id), TRAINER_ITEMS.map((item) => item.id));
    assert.equal((stub.prompts[1]!.shown as { value: string }).value, 'qwen3');
    features.dispose();
  });

  test('copying a trained model, and the next round, need a finished training', async () => {
    workspaceWithRun();
    const features = register();
    const copy = await commands.executeCommand<CommandResult<string>>('svd.copyTrainedModel', 'r');
    assert.ok(isDeclined(copy));
    assert.equal(copy.code, 'not_found');
    const round = await commands.executeCommand<CommandResult<string>>('svd.nextRound', 'r');
    assert.ok(isDeclined(round));
    assert.match(round.message ?? '', /has no finished training: train on it first/);
    assert.deepEqual(await commands.executeCommand('svd.openTrainingLog', 'r'), { declined: 'nothing_to_do' });
    features.dispose();
  });
});
