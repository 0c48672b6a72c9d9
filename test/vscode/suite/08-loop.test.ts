// The loop closed in the editor: a finished run is exported; a local trainer (the stand-in that prints TRL's log)
// runs as a task and its loss is followed into the Runs view; a fine-tuning job on the scripted fine-tuning server is
// followed to success and its model shown; and Start Next Round runs the same seeds on each trained model, as a run
// that names its parent.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { startFineTuneServer, type FineTuneServer } from '../../fixtures/finetune-server';
import type { RunsTreeNode } from '../../../src/vscode/runs/treeNodes';
import { api, commandValue, expectedFunnel, extensionLogFiles, fixture, seedFile, waitFor, withSetting, type RunOutcome, type SvdApi } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const FAKE_TRAINER = path.join(ROOT, 'test', 'fixtures', 'fake-trainer.py');
const RUN = 'loop';

interface Shown {
  label: string;
  description: string;
  contextValue: string;
}

/** A run's children in the Runs view, as the view shows them. */
async function childrenShown(svd: SvdApi, runId: string): Promise<Shown[]> {
  const view = svd.runsView();
  await view.refreshNow();
  const roots = (await view.getChildren()) as RunsTreeNode[];
  const run = roots.find((node) => node.kind === 'run' && node.runId === runId);
  assert.ok(run, `${runId} is not in the Runs view`);
  const children = (await view.getChildren(run)) as RunsTreeNode[];
  return children.map((child) => {
    const item = view.getTreeItem(child);
    return { label: String(item.label), description: String(item.description ?? ''), contextValue: item.contextValue ?? '' };
  });
}

async function runShown(svd: SvdApi, runId: string): Promise<string> {
  const view = svd.runsView();
  await view.refreshNow();
  const node = ((await view.getChildren()) as RunsTreeNode[]).find((n) => n.kind === 'run' && n.runId === runId);
  assert.ok(node, `${runId} is not in the Runs view`);
  return String(view.getTreeItem(node).description ?? '');
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

suite('the loop: export, train, follow, next round', function () {
  this.timeout(120_000);
  let svd: SvdApi;
  let runDir: string;
  let fineTune: FineTuneServer | undefined;

  suiteSetup(async () => {
    svd = await api();
  });
  suiteTeardown(async () => {
    await fineTune?.close();
  });

  test('export from a finished run writes one training example per accepted answer', async () => {
    const seeds = seedFile('seeds.jsonl');
    const outcome = await svd.startRun(seeds, { runId: RUN });
    assert.equal(outcome.state, 'finished', JSON.stringify(outcome));
    runDir = outcome.dir!;
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'svd-loop-')), 'loop.openai.jsonl');
    const summary = await commandValue<{ rows: number }>('svd.export', RUN, 'openai', out);
    const rows = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { messages: { role: string; content: string }[] });
    assert.equal(rows.length, expectedFunnel(seeds).accepted.length);
    assert.equal(summary.rows, rows.length);
    for (const row of rows) assert.deepEqual(row.messages.map((m) => m.role).slice(-2), ['user', 'assistant']);
  });

  test('a local trainer runs as a task in its terminal; its log and loss are followed into the Runs view', async () => {
    const started = new Promise<vscode.TaskProcessStartEvent>((resolve) => {
      const listener = vscode.tasks.onDidStartTaskProcess((event) => {
        if (event.execution.task.definition.type === 'svd-train' && event.execution.task.definition.run === RUN) {
          listener.dispose();
          resolve(event);
        }
      });
    });
    const ended = new Promise<vscode.TaskProcessEndEvent>((resolve) => {
      const listener = vscode.tasks.onDidEndTaskProcess((event) => {
        if (event.execution.task.definition.type === 'svd-train' && event.execution.task.definition.run === RUN) {
          listener.dispose();
          resolve(event);
        }
      });
    });
    await withSetting('train.customCommand', ['python3', FAKE_TRAINER, '--data', '{data}', '--out', '{output}'], async () => {
      const name = await commandValue<string>('svd.train', RUN, 'custom', 'Qwen/Qwen3-0.6B');
      assert.equal(name, `train ${RUN} (custom)`);
      const start = await started;
      assert.ok(start.processId > 0, 'the task started a process');
      assert.ok(vscode.window.terminals.some((t) => t.name.includes(`train ${RUN}`)), `no terminal for the task: ${vscode.window.terminals.map((t) => t.name).join(', ')}`);
      assert.equal((await ended).exitCode, 0);
    });
    // What the terminal showed is kept in the run, and the record says how it ended.
    const log = readFileSync(path.join(runDir, 'train', 'train.log'), 'utf8');
    assert.match(log, /^ARGV /m);
    assert.match(log, /^READY$/m);
    const shown = await waitFor('the Runs view to show the training ended', async () => {
      const training = (await childrenShown(svd, RUN)).find((c) => c.label === 'Training');
      return training?.contextValue === 'training-succeeded-output' && training;
    });
    assert.equal(shown.description, 'succeeded → train/output');
    const record = readJson<{ status: string; latest: { step: number; loss: number }; outputDir: string; totalSteps: number }>(path.join(runDir, 'training.json'));
    assert.equal(record.status, 'succeeded');
    assert.deepEqual([record.latest.step, record.latest.loss, record.totalSteps], [30, 0.7, 30]);
    assert.equal(record.outputDir, path.join(runDir, 'train', 'output'));
    const points = readFileSync(path.join(runDir, 'train', 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean);
    assert.equal(points.length, 3);
  });

  test('Start Next Round on a local output: the same seeds on the served model, in a run that names its parent', async () => {
    const { url, model } = fixture();
    // A local output is served by the user's own server: its URL and model name are asked for (here, given).
    const outcome = await commandValue<RunOutcome>('svd.nextRound', RUN, model, url);
    assert.equal(outcome.state, 'finished', JSON.stringify(outcome));
    assert.equal(outcome.runId, `${RUN}-r2`);
    const lineage = readJson<{ parentRun: string; round: number; model: string; outputDir: string }>(path.join(outcome.dir!, 'lineage.json'));
    assert.deepEqual([lineage.parentRun, lineage.round, lineage.model], [RUN, 2, model]);
    assert.equal(lineage.outputDir, path.join(runDir, 'train', 'output'));
    const manifest = readJson<{ seedFile: { path: string }; model: { model: string; baseURL: string } }>(path.join(outcome.dir!, 'run.json'));
    assert.equal(manifest.seedFile.path, seedFile('seeds.jsonl'));
    assert.deepEqual([manifest.model.model, manifest.model.baseURL], [model, url]);
    assert.match(await runShown(svd, `${RUN}-r2`), new RegExp(`^round 2 of ${RUN} · finished`));
    const rounds = (await childrenShown(svd, RUN)).filter((c) => c.label === 'Round 2');
    assert.deepEqual(rounds.map((r) => r.description), [`${RUN}-r2 · finished`]);
  });

  test('a fine-tuning job is followed to success, its model shown in the Runs view; the next round runs on that model', async () => {
    const key = `sk-ft-${randomBytes(8).toString('hex')}`;
    fineTune = await startFineTuneServer({ apiKey: key, serveModelsFrom: fixture().url, eventsPageSize: 10 });
    await commandValue('svd.setApiKey', key, fineTune.url);
    const record = await withSetting('train.baseUrl', fineTune.url, () =>
      withSetting('train.pollInterval', 0.1, async () => {
        const jobId = await commandValue<string>('svd.train', RUN, 'openai', fixture().model);
        assert.equal(jobId, 'ftjob-1');
        // Followed until it ends (a job this quick may have ended already).
        return svd.trainingDone(runDir) ?? readJson<{ status: string; fineTunedModel?: string }>(path.join(runDir, 'training.json'));
      }),
    );
    const model = `ft:${fixture().model}:svd:ftjob-1`;
    assert.equal(record?.status, 'succeeded');
    assert.equal(record?.fineTunedModel, model);
    assert.equal(fineTune.files[0]!.content, readFileSync(path.join(runDir, 'train', 'data.openai.jsonl'), 'utf8'), 'the exported data was uploaded');
    const shown = await waitFor('the model in the Runs view', async () => (await childrenShown(svd, RUN)).find((c) => c.label === 'Training' && c.description.includes(model)));
    assert.equal(shown.description, `succeeded → ${model}`);
    assert.equal(shown.contextValue, 'training-succeeded-model');
    const points = readFileSync(path.join(runDir, 'train', 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { step: number });
    assert.deepEqual(points.map((p) => p.step), [1, 2, 3]);

    // The fine-tuning server serves the model it made: the next round runs there, with the same key.
    const outcome = await commandValue<RunOutcome>('svd.nextRound', RUN);
    assert.equal(outcome.state, 'finished', JSON.stringify(outcome));
    assert.equal(outcome.runId, `${RUN}-r2-2`, 'round 2 again, beside the first one');
    const lineage = readJson<{ parentRun: string; round: number; model: string; jobId: string }>(path.join(outcome.dir!, 'lineage.json'));
    assert.deepEqual([lineage.parentRun, lineage.round, lineage.model, lineage.jobId], [RUN, 2, model, 'ftjob-1']);
    assert.equal(readJson<{ model: { model: string } }>(path.join(outcome.dir!, 'run.json')).model.model, model);
    assert.ok(fineTune.requests.some((r) => r === 'POST /v1/chat/completions'), 'the round asked the fine-tuned model');

    // The key went to the server and nowhere else.
    for (const file of [path.join(runDir, 'training.json'), path.join(outcome.dir!, 'run.json'), path.join(outcome.dir!, 'lineage.json'), ...extensionLogFiles()]) {
      if (existsSync(file)) assert.ok(!readFileSync(file, 'utf8').includes(key), `${file} holds the API key`);
    }
  });

  test('cancelling a local training stops its task and records the cancel', async () => {
    const ended = new Promise<vscode.TaskProcessEndEvent>((resolve) => {
      const listener = vscode.tasks.onDidEndTaskProcess((event) => {
        if (event.execution.task.definition.type === 'svd-train' && event.execution.task.definition.run === RUN) {
          listener.dispose();
          resolve(event);
        }
      });
    });
    const record = path.join(runDir, 'training.json');
    // The stand-in trainer logs, then waits a minute: long enough to be cancelled.
    await withSetting('train.customCommand', ['env', 'FAKE_SLEEP=60', 'python3', FAKE_TRAINER, '--data', '{data}'], async () => {
      await commandValue('svd.train', RUN, 'custom', 'Qwen/Qwen3-0.6B');
      await waitFor('the trainer to run', () => readJson<{ status: string }>(record).status === 'running' && /^READY$/m.test(readFileSync(path.join(runDir, 'train', 'train.log'), 'utf8')));
      assert.equal(await commandValue<boolean>('svd.cancelTraining', RUN, true), true);
      assert.equal((await ended).exitCode, 130, 'svd train stopped the trainer and ended as stopped');
    });
    assert.equal(readJson<{ status: string }>(record).status, 'cancelled');
    const shown = await waitFor('the Runs view to show the cancel', async () => (await childrenShown(svd, RUN)).find((c) => c.label === 'Training' && c.contextValue === 'training-cancelled'));
    assert.match(shown.description, /^cancelled/);
  });
});
