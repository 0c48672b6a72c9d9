// The runs' editor code under plain Node (the `vscode` stub): the Runs view's nodes and items read from a real runs
// folder, the run a command names or the user picks, the status bar, and the run commands that need no model.
import '../../stubs/register-vscode';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import type * as vscode from 'vscode';
import { parseRunConfig } from '../../../src/core/base/config';
import type { ExperimentEntry } from '../../../src/core/experiments/catalog';
import type { Progress } from '../../../src/core/method/pipeline';
import type { NewRunEvent } from '../../../src/core/record/events';
import { releaseRunLock, takeRunLock } from '../../../src/core/record/runLock';
import { RunStore, type RunManifest } from '../../../src/core/record/store';
import { writeLineage } from '../../../src/core/training/lineage';
import { writeTraining } from '../../../src/core/training/record';
import { ApiKeys } from '../../../src/vscode/platform/apiKeys';
import { isDeclined, type CommandResult } from '../../../src/vscode/platform/commandResult';
import { createPlatform, type FeatureContext } from '../../../src/vscode/platform/feature';
import { registerRunCommands, resumeRequest } from '../../../src/vscode/runs/commands';
import { pickRun, runArgument, runPickItems } from '../../../src/vscode/runs/pickRun';
import type { RunOutcome } from '../../../src/vscode/runs/runner';
import { RunSessions, type RunStart } from '../../../src/vscode/runs/runSessions';
import { settingsPlan } from '../../../src/vscode/runs/settingsRun';
import { RUN_ANYWAY, SHOW_PROBLEMS } from '../../../src/vscode/seeds/skippedRows';
import { RunsTreeProvider } from '../../../src/vscode/runs/runsTree';
import { RunStatusBar } from '../../../src/vscode/runs/statusBar';
import type { RunNode, RunsTreeNode } from '../../../src/vscode/runs/treeNodes';
import { shortDate } from '../../../src/vscode/runs/present';
import type { TrainingJobs } from '../../../src/vscode/training/trainingJobs';
import { commands, MarkdownString, stub, type ThemeIcon, TreeItemCollapsibleState, Uri, window, workspace } from '../../stubs/vscode';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'svd-vscode-runs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let workspaceCount = 0;

/** A fresh workspace folder, open in the stubbed window; its runs folder is the default `.svd/runs`. */
function openWorkspace(): { root: string; runsDir: string } {
  const root = path.join(scratch, `ws-${++workspaceCount}`);
  stub.reset(root);
  return { root, runsDir: path.join(root, '.svd', 'runs') };
}

function manifest(id: string, createdAt: string, engine: 'server' | 'embedded' = 'server'): RunManifest {
  return {
    version: 1,
    id,
    createdAt,
    seedFile: { path: '/data/seeds.jsonl', fingerprint: 'abc', format: 'jsonl', rows: 2 },
    model: engine === 'server' ? { model: 'qwen3', baseURL: 'http://localhost:8000/v1', engine } : { model: 'qwen3-0.6b.gguf', engine },
    config: parseRunConfig({ candidates: 2, votes: 1 }),
    methodFingerprint: 'f00d',
  };
}

/** A run of two seeds, both done and none accepted; finished unless it is left `started`. */
function makeRun(runsDir: string, id: string, createdAt: string, state: 'finished' | 'started' = 'finished'): string {
  const dir = path.join(runsDir, id);
  const store = RunStore.create(dir, manifest(id, createdAt));
  const events: NewRunEvent[] = [{ id: 'run:1', type: 'run', state: 'started' }];
  for (const n of ['1', '2']) {
    events.push({ id: `seed:${n}`, type: 'seed', seedId: n, line: Number(n), domain: 'math', question: `q${n}`, prompt: [{ role: 'user', content: `q${n}` }] });
  }
  events.push({ id: 'outcome:1', type: 'outcome', seedId: '1', status: 'rejected', acceptedCandidateIds: [] });
  events.push({ id: 'outcome:2', type: 'outcome', seedId: '2', status: 'no_valid', acceptedCandidateIds: [] });
  if (state === 'finished') events.push({ id: 'run:2', type: 'run', state: 'finished', wallMs: 1000 });
  for (const event of events) store.append(event);
  store.close();
  return dir;
}

function log(): vscode.LogOutputChannel {
  return window.createOutputChannel('test') as unknown as vscode.LogOutputChannel;
}

function tree(runsDir: string | undefined, options: { running?: string[]; experiments?: ExperimentEntry[] } = {}): RunsTreeProvider {
  return new RunsTreeProvider({
    runsDir: () => runsDir,
    isRunning: (runId) => options.running?.includes(runId) ?? false,
    log: log(),
    ...(options.experiments ? { experiments: () => options.experiments! } : {}),
  });
}

async function roots(view: RunsTreeProvider): Promise<RunsTreeNode[]> {
  await view.refreshNow();
  return view.getChildren();
}

function shown(view: RunsTreeProvider, node: RunsTreeNode): { label: string; description: string; contextValue: string; icon?: string } {
  const item = view.getTreeItem(node);
  return { label: String(item.label), description: String(item.description ?? ''), contextValue: item.contextValue ?? '', icon: (item.iconPath as unknown as ThemeIcon | undefined)?.id };
}

function context(view: RunsTreeProvider): FeatureContext {
  const secrets = { get: async () => undefined, store: async () => undefined, delete: async () => undefined } as unknown as vscode.SecretStorage;
  const extension = { subscriptions: [], extensionPath: '/ext', extensionUri: Uri.file('/ext'), globalStorageUri: Uri.file('/storage'), secrets } as unknown as vscode.ExtensionContext;
  return { ...createPlatform(extension, log(), new ApiKeys(secrets)), tree: view };
}

beforeEach(() => stub.reset());

describe('the Runs view', () => {
  test('runs newest first, each described by its state and funnel; a later round names its parent', async () => {
    const { runsDir } = openWorkspace();
    makeRun(runsDir, 'older', '2025-01-01T00:00:00.000Z');
    const round = makeRun(runsDir, 'older-r2', '2025-01-02T00:00:00.000Z', 'started');
    writeLineage(round, { parentRun: 'older', round: 2, model: 'ft:qwen3', baseUrl: 'http://localhost:8000/v1', trainer: 'openai' });
    const view = tree(runsDir, { running: ['older-r2'] });
    const nodes = await roots(view);
    assert.deepEqual(nodes.map((node) => node.kind === 'run' && node.runId), ['older-r2', 'older']);
    assert.deepEqual(shown(view, nodes[1]!), { label: 'older', description: 'finished · 2/2 seeds · 0 accepted', contextValue: 'run-finished', icon: 'pass' });
    assert.deepEqual(shown(view, nodes[0]!), {
      label: 'older-r2',
      description: 'round 2 of older · running · 2/2 seeds · 0 accepted',
      contextValue: 'run-running',
      icon: 'sync~spin',
    });
    const item = view.getTreeItem(nodes[0]!);
    assert.equal(item.collapsibleState, TreeItemCollapsibleState.Collapsed);
    // The hover quotes run files: never trusted with links, HTML or icons.
    const tooltip = item.tooltip as unknown as MarkdownString;
    assert.ok(tooltip instanceof MarkdownString);
    assert.deepEqual([tooltip.isTrusted, tooltip.supportHtml, tooltip.supportThemeIcons], [false, false, false]);
    assert.match(tooltip.value, /Round 2: ft\\:qwen3, trained on older/);
    view.dispose();
  });

  test('under a run: its training, the rounds made from it, then its funnel', async () => {
    const { runsDir } = openWorkspace();
    const dir = makeRun(runsDir, 'base', '2025-01-01T00:00:00.000Z');
    writeTraining(dir, { trainer: 'openai', baseModel: 'qwen3', status: 'succeeded', fineTunedModel: 'ft:qwen3:x', baseUrl: 'http://ft/v1', jobId: 'ftjob-1' });
    const round = makeRun(runsDir, 'base-r2', '2025-01-02T00:00:00.000Z');
    writeLineage(round, { parentRun: 'base', round: 2, model: 'ft:qwen3:x', baseUrl: 'http://ft/v1', trainer: 'openai' });
    const view = tree(runsDir);
    const base = (await roots(view)).find((node): node is RunNode => node.kind === 'run' && node.runId === 'base')!;
    const children = (await view.getChildren(base)) as RunsTreeNode[];
    const items = children.map((child) => shown(view, child));
    assert.deepEqual(items.slice(0, 2), [
      { label: 'Training', description: 'succeeded → ft:qwen3:x', contextValue: 'training-succeeded-model', icon: 'pass' },
      { label: 'Round 2', description: 'base-r2 · finished', contextValue: 'run-detail', icon: 'git-branch' },
    ]);
    assert.deepEqual(
      items.slice(2).map((i) => i.label),
      ['seeds', 'candidates', 'valid', 'passed cycle', 'passed factuality', 'passed correctness', 'accepted', 'requests', 'tokens'],
    );
    assert.equal(items[2]!.description, '2 of 2 done');
    for (const child of children) assert.equal(view.getParent(child), base);
    assert.equal(view.trainingOf(dir)?.fineTunedModel, 'ft:qwen3:x');
    assert.deepEqual(view.runsForFile('/data/seeds.jsonl'), [
      { runId: 'base-r2', state: 'finished' },
      { runId: 'base', state: 'finished' },
    ]);
    view.dispose();
  });

  test('a record that says running with no writer shows as interrupted, resumable; saved experiments follow the runs', async () => {
    const { runsDir } = openWorkspace();
    makeRun(runsDir, 'cut', '2025-01-01T00:00:00.000Z', 'started');
    const entry = { kind: 'sweep', id: 'sweep-seeds', file: '/w/sweep-seeds/sweep.json', description: '4 cells', details: ['a [link](command:x)'] } as unknown as ExperimentEntry;
    const view = tree(runsDir, { experiments: [entry] });
    const [run, group] = await roots(view);
    assert.deepEqual(shown(view, run!), { label: 'cut', description: 'interrupted · 2/2 seeds · 0 accepted', contextValue: 'run-stopped', icon: 'debug-pause' });
    assert.deepEqual(shown(view, group!), { label: 'Experiments', description: '1 saved', contextValue: 'experiments', icon: 'beaker' });
    const [experiment] = (await view.getChildren(group)) as RunsTreeNode[];
    const item = view.getTreeItem(experiment!);
    assert.deepEqual(item.command, { command: 'svd.showSweep', title: 'Open', arguments: ['/w/sweep-seeds/sweep.json'] });
    assert.equal((item.tooltip as unknown as MarkdownString).value, 'a \\[link\\]\\(command\\:x\\)');
    view.dispose();
  });

  test("a running run's servers under it, from its endpoints.json, followed as the file changes", async () => {
    const { runsDir } = openWorkspace();
    const dir = makeRun(runsDir, 'pooled', '2025-01-01T00:00:00.000Z', 'started');
    const done = makeRun(runsDir, 'done', '2025-01-02T00:00:00.000Z');
    const server = (url: string, state: 'up' | 'down' | 'probing', requests: number, errors = 0) => ({ url, state, requests, errors, throttled: errors > 0 ? 1 : 0, inFlight: state === 'up' ? 3 : 0, limit: 16, maxConcurrency: 32 });
    const snapshot = (at: string, ...endpoints: ReturnType<typeof server>[]) => `${JSON.stringify({ at, endpoints })}\n`;
    writeFileSync(path.join(dir, 'endpoints.json'), snapshot('2025-01-01T00:00:02.000Z', server('http://a:8000/v1', 'up', 5), server('http://b:8000/v1', 'down', 2, 3)));
    // A finished run's last snapshot is not shown: its servers are no longer in use.
    writeFileSync(path.join(done, 'endpoints.json'), snapshot('2025-01-02T00:00:02.000Z', server('http://c:8000/v1', 'up', 9)));
    const view = tree(runsDir, { running: ['pooled'] });
    let changes = 0;
    view.onDidChangeTreeData(() => changes++);
    const nodes = await roots(view);
    const run = nodes.find((node): node is RunNode => node.kind === 'run' && node.runId === 'pooled')!;
    const servers = () => (view.getChildren(run) as RunsTreeNode[]).filter((node) => node.kind === 'server');
    assert.deepEqual(servers().map((node) => shown(view, node)), [
      { label: 'http://a:8000/v1', description: 'up · requests 5 · errors 0 · in flight 3/16 (max 32)', contextValue: 'run-server', icon: 'vm-running' },
      { label: 'http://b:8000/v1', description: 'down · requests 2 · errors 3 (429: 1) · in flight 0/16 (max 32)', contextValue: 'run-server', icon: 'vm-outline' },
    ]);
    assert.equal((view.getChildren(run) as RunsTreeNode[])[2]?.kind, 'detail', 'the funnel after the servers');
    for (const node of servers()) assert.equal(view.getParent(node), run);
    // Escaped, as every hover that quotes run files.
    assert.match((view.getTreeItem(servers()[1]!).tooltip as unknown as MarkdownString).value, /^\*\*http\\:\\\/\\\/b\\:8000\\\/v1\*\* {2}\n.*\nAs of 2025\\-01\\-01T00\\:00\\:02/);
    const finished = nodes.find((node): node is RunNode => node.kind === 'run' && node.runId === 'done')!;
    assert.ok(!(view.getChildren(finished) as RunsTreeNode[]).some((node) => node.kind === 'server'));

    // The run writes its snapshot again: the view is told, and shows the new figures.
    const before = changes;
    writeFileSync(path.join(dir, 'endpoints.json'), snapshot('2025-01-01T00:00:04.000Z', server('http://a:8000/v1', 'up', 120), server('http://b:8000/v1', 'probing', 2, 3)));
    await view.refreshNow();
    assert.ok(changes > before, 'the view was told');
    assert.deepEqual(servers().map((node) => shown(view, node).description), [
      'up · requests 120 · errors 0 · in flight 3/16 (max 32)',
      'probing · requests 2 · errors 3 (429: 1) · in flight 0/16 (max 32)',
    ]);
    // Unchanged, nothing to tell.
    const settled = changes;
    await view.refreshNow();
    assert.equal(changes, settled);
    view.dispose();
  });

  test('a runs folder that cannot be read is one item saying why; no folder, no runs', async () => {
    const { root } = openWorkspace();
    const file = path.join(root, 'not-a-folder');
    mkdirSync(root, { recursive: true });
    writeFileSync(file, 'x');
    const broken = tree(file);
    const [only] = await roots(broken);
    assert.equal(only?.kind, 'detail');
    assert.equal(shown(broken, only!).label, 'Cannot read the runs folder');
    assert.equal(shown(broken, only!).contextValue, 'runs-error');
    broken.dispose();
    const none = tree(undefined);
    assert.deepEqual(await roots(none), []);
    none.dispose();
  });
});

describe('the run a command acts on', () => {
  test('its argument: a run id, or a node of the view; anything else names none', () => {
    assert.deepEqual(runArgument('seeds-1a2b'), { runId: 'seeds-1a2b' });
    assert.deepEqual(runArgument({ kind: 'run', runId: 'r', dir: '/runs/r', state: 'finished' }), { runId: 'r', dir: '/runs/r' });
    for (const nothing of [undefined, '', 3, { runId: 'r' }, { runId: 1, dir: '/x' }, Uri.file('/runs/r')]) assert.equal(runArgument(nothing), undefined);
  });

  test('the picker tells runs apart by model, n and v, state and date; not by their hash alone', async () => {
    const { runsDir } = openWorkspace();
    makeRun(runsDir, 'seeds-1a2b3c4d', '2025-03-01T14:05:00.000Z');
    const view = tree(runsDir, { running: ['seeds-1a2b3c4d'] });
    await view.refreshNow();
    const [item] = runPickItems(view.runEntries());
    const date = shortDate('2025-03-01T14:05:00.000Z');
    assert.match(date, /^2025-0[23]-0[12] \d\d:\d\d$/);
    assert.deepEqual(item, {
      label: 'seeds-1a2b3c4d',
      description: `qwen3 · n2 v1 · running · ${date}`,
      run: { runId: 'seeds-1a2b3c4d', dir: path.join(runsDir, 'seeds-1a2b3c4d') },
    });
    view.dispose();
  });

  test('picked among the runs the command can act on; none to pick, a closed picker or an unknown id declines', async () => {
    const { runsDir } = openWorkspace();
    const dir = makeRun(runsDir, 'only', '2025-01-01T00:00:00.000Z');
    const view = tree(runsDir);
    const ctx = context(view);
    stub.answer((items: unknown) => (items as { label: string }[]).find((item) => item.label === 'only'));
    assert.deepEqual(await pickRun(ctx, undefined, 'Run to review'), { runId: 'only', dir });
    assert.deepEqual(stub.prompts.map((p) => [p.kind, (p.options as { placeHolder?: string }).placeHolder]), [['quickPick', 'Run to review']]);
    assert.deepEqual(await pickRun(ctx, 'only', 'x'), { runId: 'only', dir });

    await assert.rejects(pickRun(ctx, undefined, 'x'), (e: unknown) => (e as { reason?: string }).reason === 'cancelled');
    await assert.rejects(pickRun(ctx, undefined, 'x', () => false), (e: unknown) => (e as { reason?: string }).reason === 'nothing_to_do');
    assert.equal(stub.messages.at(-1)?.message, 'No run to choose from.');
    await assert.rejects(pickRun(ctx, 'missing', 'x'), (e: unknown) => (e as { reason?: string; error?: { code: string } }).error?.code === 'not_found');
    view.dispose();
  });
});

describe('run commands without a model', () => {
  const noJobs = { isActive: () => false } as unknown as TrainingJobs;

  async function setUp(): Promise<{ runsDir: string; view: RunsTreeProvider; sessions: RunSessions }> {
    const { runsDir } = openWorkspace();
    const view = tree(runsDir);
    const ctx = context(view);
    const sessions = new RunSessions(ctx);
    registerRunCommands(ctx, sessions, noJobs);
    return { runsDir, view, sessions };
  }

  test('svd.deleteRun asks, then deletes; not confirmed, it declines and keeps the run', async () => {
    const { runsDir, view, sessions } = await setUp();
    const dir = makeRun(runsDir, 'doomed', '2025-01-01T00:00:00.000Z');
    stub.answer(undefined);
    assert.deepEqual(await commands.executeCommand('svd.deleteRun', 'doomed'), { declined: 'cancelled' });
    assert.ok(existsSync(dir));
    assert.deepEqual(stub.prompts.map((p) => [p.kind, p.shown]), [['modal', 'Delete run doomed and all its records?']]);
    stub.answer('Delete');
    assert.equal(await commands.executeCommand('svd.deleteRun', 'doomed'), true);
    assert.equal(existsSync(dir), false);
    view.dispose();
    sessions.dispose();
  });

  test('svd.deleteRun refuses a run another process writes, before asking', async () => {
    const { runsDir, view, sessions } = await setUp();
    const dir = makeRun(runsDir, 'busy', '2025-01-01T00:00:00.000Z');
    takeRunLock(dir, 'busy');
    try {
      const result = await commands.executeCommand<CommandResult<boolean>>('svd.deleteRun', 'busy', true);
      assert.ok(isDeclined(result));
      assert.deepEqual([result.declined, result.code], ['refused', 'run_locked']);
      assert.equal(stub.prompts.length, 0);
      assert.ok(existsSync(dir));
    } finally {
      releaseRunLock(dir);
    }
    view.dispose();
    sessions.dispose();
  });

  test('svd.stop with nothing going says so and declines', async () => {
    const { view, sessions } = await setUp();
    assert.deepEqual(await commands.executeCommand('svd.stop'), { declined: 'nothing_to_do' });
    assert.equal(stub.messages.at(-1)?.message, 'No run is going.');
    view.dispose();
    sessions.dispose();
  });

  test('in Restricted Mode svd.run and svd.resume decline before anything is asked', async () => {
    const { view, sessions } = await setUp();
    workspace.isTrusted = false;
    assert.deepEqual(await commands.executeCommand('svd.run'), { declined: 'restricted' });
    assert.deepEqual(await commands.executeCommand('svd.resume', 'x'), { declined: 'restricted' });
    assert.deepEqual(stub.prompts, []);
    view.dispose();
    sessions.dispose();
  });

  test('a resumed run keeps its own seeds, config and server; the engine settings are the window\'s', () => {
    const engine = { parallel: 3, gpu: 'auto' as const };
    const s = { baseUrl: 'http://elsewhere/v1', model: 'other', config: {}, runsDir: '/r', engine, train: { customCommand: [], pollMs: 1 }, decontaminate: { against: ['/e.jsonl'], drop: true }, publish: {} };
    const server = resumeRequest({ runId: 'a', dir: '/runs/a' }, manifest('a', 'now'), s);
    assert.deepEqual(server, { seedFile: '/data/seeds.jsonl', runsDir: '/runs', runId: 'a', config: manifest('a', 'now').config, baseUrl: 'http://localhost:8000/v1', model: 'qwen3', engine });
    const embedded = resumeRequest({ runId: 'a', dir: '/runs/a' }, manifest('a', 'now', 'embedded'), s);
    assert.equal(embedded.baseUrl, undefined);
    assert.equal(embedded.model, undefined);
    // The seed screening is the run's own too, whatever the settings say now.
    assert.equal(resumeRequest({ runId: 'a', dir: '/runs/a' }, manifest('a', 'now'), s).screening, undefined);
    const screened = { ...manifest('a', 'now'), screening: { against: [{ file: 'aime.jsonl', path: '/data/aime.jsonl', fingerprint: 'f', items: 30 }], flagged: [], dropContaminated: false, duplicates: [], dropDuplicates: false, dropped: [] } };
    assert.deepEqual(resumeRequest({ runId: 'a', dir: '/runs/a' }, screened, s).screening, { against: ['/data/aime.jsonl'], dropContaminated: false, dropDuplicates: false });
  });
});

describe('svd.run: what a run would skip, a finished run, and how a run ended', () => {
  const noJobs = { isActive: () => false } as unknown as TrainingJobs;
  const finishedOutcome = (runId: string, alreadyFinished: boolean): RunOutcome => ({
    runId,
    dir: `/runs/${runId}`,
    state: 'finished',
    exitCode: 0,
    alreadyFinished,
    funnel: { seeds: 6, seedsDone: 6, acceptedFinal: 3 },
  });

  /** The run commands with a RunSessions whose runs are not started: each request is kept, `outcome` answered. */
  function setUp(outcome: (request: RunStart) => RunOutcome) {
    const { root, runsDir } = openWorkspace();
    const view = tree(runsDir);
    const ctx = context(view);
    const sessions = new RunSessions(ctx);
    const started: RunStart[] = [];
    sessions.start = async (request) => {
      started.push(request);
      return outcome(request);
    };
    registerRunCommands(ctx, sessions, noJobs);
    return { root, runsDir, view, sessions, started, ctx };
  }

  /** 8 rows, 3 of them no usable seed. */
  function seedsWithBadRows(root: string): string {
    const file = path.join(root, 'bad-seeds.jsonl');
    mkdirSync(root, { recursive: true });
    const good = (n: number) => JSON.stringify({ id: `g${n}`, domain: 'math', question: `What is ${n} + ${n}?` });
    writeFileSync(file, [good(1), '{"id": "b1", "domain": "math"', good(2), JSON.stringify({ id: 'b2', question: 'no domain' }), good(3), good(4), JSON.stringify({ id: 'b3', domain: 'art', question: 'q' }), good(5)].join('\n') + '\n');
    return file;
  }

  test('a file with bad rows asks first: Show Problems shows them and runs nothing, Run Anyway runs', async () => {
    const { root, view, sessions, started } = setUp(() => finishedOutcome('bad-seeds-1', false));
    const file = seedsWithBadRows(root);
    stub.answer(SHOW_PROBLEMS);
    assert.deepEqual(await commands.executeCommand('svd.run', Uri.file(file)), { declined: 'cancelled' });
    assert.deepEqual(stub.prompts.map((p) => [p.kind, p.shown]), [['modal', '3 of 8 rows of bad-seeds.jsonl are no usable seeds: the run will skip them.']]);
    assert.deepEqual(stub.messages.at(-1)?.items, [RUN_ANYWAY, SHOW_PROBLEMS]);
    assert.match((stub.prompts[0]!.options as { detail: string }).detail, /^line 2: .*\nline 4: field "domain": no domain/);
    assert.deepEqual(stub.opened, [file]);
    assert.deepEqual(stub.executed.map((c) => c.id), ['workbench.actions.view.problems']);
    assert.equal(started.length, 0);

    // Closed without an answer: nothing runs either.
    assert.deepEqual(await commands.executeCommand('svd.run', Uri.file(file)), { declined: 'cancelled' });
    assert.equal(started.length, 0);

    stub.answer(RUN_ANYWAY);
    const outcome = await commands.executeCommand<RunOutcome>('svd.run', Uri.file(file));
    assert.equal(outcome.runId, 'bad-seeds-1');
    assert.deepEqual(started.map((r) => r.seedFile), [file]);
    // Answered beforehand (a retry, a test): no question.
    const prompts = stub.prompts.length;
    await commands.executeCommand('svd.run', Uri.file(file), true);
    assert.equal(stub.prompts.length, prompts);
    assert.equal(started.length, 2);
    view.dispose();
    sessions.dispose();
  });

  test('a finished run asks nothing of its rows and is opened, with how many it accepted', async () => {
    const { root, runsDir, view, sessions, started, ctx } = setUp((request) => finishedOutcome(path.basename(request.seedFile), true));
    const file = seedsWithBadRows(root);
    // The run these settings name, finished: every seed done.
    const { plan } = await settingsPlan(file, ctx.settings());
    assert.equal(path.dirname(plan.dir), runsDir);
    const store = RunStore.create(plan.dir, plan.manifest);
    store.append({ id: 'run:1', type: 'run', state: 'started' });
    for (const n of [1, 2, 3, 4, 5]) {
      store.append({ id: `seed:g${n}`, type: 'seed', seedId: `g${n}`, line: n, domain: 'math', question: `q${n}`, prompt: [{ role: 'user', content: `q${n}` }] });
      store.append({ id: `outcome:g${n}`, type: 'outcome', seedId: `g${n}`, status: 'no_valid', acceptedCandidateIds: [] });
    }
    store.append({ id: 'run:2', type: 'run', state: 'finished' });
    store.close();
    assert.equal((await settingsPlan(file, ctx.settings())).plan.finished, true);

    await commands.executeCommand('svd.run', Uri.file(file));
    assert.deepEqual(stub.prompts, [], 'a finished run skips nothing: no question');
    assert.equal(started.length, 1);
    assert.deepEqual(stub.executed, [{ id: 'svd.openReview', args: ['bad-seeds.jsonl'] }]);
    assert.equal(stub.messages.at(-1)?.message, 'SVD: run bad-seeds.jsonl is finished already: 3 accepted of 6 seeds. Nothing was asked of the model; its review is open.');
    view.dispose();
    sessions.dispose();
  });

  test('how a run ended: accepted of how many; a stopped run offers Resume; a server down the endpoint and Retry', () => {
    const { view, sessions } = setUp(() => finishedOutcome('x', false));
    sessions.announce(finishedOutcome('r', false));
    assert.deepEqual(stub.messages.at(-1), { severity: 'info', message: 'SVD: run r finished: 3 accepted of 6 seeds.', items: ['Open Review', 'Export', 'Start Training'], modal: false });
    sessions.announce({ runId: 'r', dir: '/runs/r', state: 'stopped', exitCode: 130, alreadyFinished: false, funnel: { seeds: 6, seedsDone: 2, acceptedFinal: 1 } });
    assert.deepEqual(stub.messages.at(-1), { severity: 'info', message: 'SVD: run r stopped at 2 of 6 seeds; what it did is kept.', items: ['Resume'], modal: false });
    sessions.announce({ runId: 'r', dir: '/runs/r', state: 'stopped', exitCode: 12, alreadyFinished: false, funnel: { seeds: 6, seedsDone: 2, acceptedFinal: 1 }, stopReason: 'budget', spent: { usd: 1.9, maxUsd: 2 } });
    assert.deepEqual(stub.messages.at(-1), {
      severity: 'warning',
      message: 'SVD: run r stopped for budget at 2 of 6 seeds (spent $1.9000 of $2.0000); what it did is kept. Raise svd.budget.maxCost, then resume it.',
      items: ['Raise Budget', 'Resume'],
      modal: false,
    });
    const down = { code: 'unreachable' as const, message: 'Cannot reach the model server at http://127.0.0.1:9/v1 (ECONNREFUSED). Is it running, and is the URL right?' };
    sessions.announce({ state: 'failed', exitCode: 4, alreadyFinished: false, error: down }, () => undefined);
    assert.deepEqual(stub.messages.at(-1), { severity: 'error', message: `SVD: ${down.message}`, items: ['Select Model Endpoint', 'Retry'], modal: false });
    sessions.announce({ state: 'failed', exitCode: 5, alreadyFinished: false, error: { code: 'unknown_model', message: 'not served' } });
    assert.deepEqual(stub.messages.at(-1)?.items, ['Select Model Endpoint'], 'no Retry without something to retry');
    sessions.announce({ state: 'failed', exitCode: 3, alreadyFinished: false, error: { code: 'bad_seed_file', message: 'no usable row' } });
    assert.deepEqual(stub.messages.at(-1), { severity: 'error', message: 'no usable row', items: [], modal: false });
    view.dispose();
    sessions.dispose();
  });

  test('a run that fails before it has an id is logged by its seed file, never as "run ?"', async () => {
    const { runsDir } = openWorkspace();
    const view = tree(runsDir);
    const ctx = context(view);
    const sessions = new RunSessions(ctx);
    // The CLI at /ext/dist/cli.js is not there: the process ends at once, before any event.
    const outcome = await sessions.start({ seedFile: '/w/seeds.jsonl', runsDir, config: {}, engine: { parallel: 1 } });
    assert.equal(outcome.state, 'failed');
    assert.equal(outcome.runId, undefined);
    const lines = (ctx.log as unknown as { lines: string[] }).lines;
    assert.ok(lines.some((line) => line.startsWith('[info] run on seeds.jsonl: failed: ')), lines.join('\n'));
    assert.ok(!lines.some((line) => /run \?/.test(line)), lines.join('\n'));
    view.dispose();
    sessions.dispose();
  });
});

describe('the status bar', () => {
  const progress = (seedsDone: number): Progress =>
    ({ seedsDone, seedsTotal: 40, accepted: 9, candidates: 48, requests: 100, requestsPerSecond: 2, elapsedMs: 60_000 }) as Progress;

  test('shows the most recent run at once, counts the runs going, and hides when the last one ends', async () => {
    const bar = new RunStatusBar();
    const [item] = stub.statusBarItems;
    assert.ok(item);
    assert.equal(item.command, 'svd.showLog');
    assert.equal(item.visible, false);
    bar.update('a', progress(12));
    assert.equal(item.visible, true);
    assert.equal(item.text, '$(sync~spin) SVD 12/40 · 9 accepted');
    bar.clear('a');
    assert.equal(item.visible, false);
    bar.update('a', progress(1));
    bar.update('b', progress(2));
    bar.clear('a');
    assert.equal(item.text, '$(sync~spin) SVD 2/40 · 9 accepted');
    assert.match(item.tooltip ?? '', /^Self-Verified Distillation: b/);
    // On the embedded engine, what it computes on.
    const redrawn = () => new Promise((resolve) => setTimeout(resolve, 300));
    bar.update('c', progress(3), 'CUDA: NVIDIA GeForce RTX 4090');
    await redrawn();
    assert.equal(item.text, '$(sync~spin) SVD 2 runs · 3/40 · 9 accepted · CUDA: NVIDIA GeForce RTX 4090');
    assert.match(item.tooltip ?? '', /\nEmbedded engine: CUDA: NVIDIA GeForce RTX 4090\n/);
    bar.update('c', progress(4), 'CPU, 2 threads');
    await redrawn();
    assert.equal(item.text, '$(sync~spin) SVD 2 runs · 4/40 · 9 accepted · CPU, 2 threads');
    bar.dispose();
  });
});
