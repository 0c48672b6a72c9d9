// Experiments in the editor: a budget sweep and an evaluation on a labeled seed file, run through the CLI against
// the scripted server; their results are written where the CLI keeps them, shown in a view of their own and listed
// in the Runs view, whose list of runs the sweep's cells do not clutter.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { EvalResult } from '../../../src/core/experiments/evaluate';
import type { SweepResult } from '../../../src/core/experiments/sweep';
import type { RunsTreeNode } from '../../../src/vscode/runs/treeNodes';
import { api, commandValue, fixture, seedFile, waitFor, type SvdApi } from './helpers';

/** Titles of the open webview tabs. */
function webviewTabs(): string[] {
  return vscode.window.tabGroups.all.flatMap((group) => group.tabs).filter((tab) => tab.input instanceof vscode.TabInputWebview).map((tab) => tab.label);
}

/** The Experiments group's items in the Runs view, as shown: label, description, the command a click runs. */
async function experimentsShown(svd: SvdApi): Promise<{ label: string; description: string; command?: string; argument?: unknown }[]> {
  const view = svd.runsView();
  await view.refreshNow();
  const roots = (await view.getChildren()) as RunsTreeNode[];
  const group = roots.find((node) => node.kind === 'experiments');
  if (!group) return [];
  const children = (await view.getChildren(group)) as RunsTreeNode[];
  return children.map((child) => {
    const item = view.getTreeItem(child);
    return { label: String(item.label), description: String(item.description ?? ''), command: item.command?.command, argument: item.command?.arguments?.[0] };
  });
}

suite('experiments: a budget sweep and an evaluation', function () {
  this.timeout(60_000);
  let svd: SvdApi;

  suiteSetup(async () => {
    svd = await api();
  });

  test('Run Budget Sweep runs every cell, writes sweep.json, opens its view and lists it', async () => {
    const seeds = seedFile('labeled.jsonl');
    const result = await commandValue<SweepResult>('svd.runSweep', vscode.Uri.file(seeds), { candidates: [1, 2], votes: [1, 2] });
    assert.ok(result, 'svd.runSweep returned nothing');
    const runsDir = svd.runsDir()!;
    const file = path.join(runsDir, result.id, 'sweep.json');
    assert.ok(existsSync(file), `${file} is missing`);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as SweepResult;
    assert.equal(saved.state, 'finished');
    assert.equal(saved.model, fixture().model);
    assert.deepEqual(saved.cells.map((cell) => cell.name).sort(), ['n1v1', 'n1v2', 'n2v1', 'n2v2']);
    assert.ok(saved.cells.every((cell) => cell.state === 'finished' && cell.seedsDone === 3), JSON.stringify(saved.cells));
    // The scripted model: g1 is right at once, g2's second candidate is, g3 never; the judges accept only right answers.
    const accepted = Object.fromEntries(saved.cells.map((cell) => [cell.name, cell.accepted]));
    assert.deepEqual(accepted, { n1v1: 1, n1v2: 1, n2v1: 2, n2v2: 2 });
    assert.equal(saved.audited, true);
    assert.ok(saved.cells.every((cell) => cell.precision === 1), 'the gold audited every cell');

    const title = `Sweep: ${result.id}`;
    await waitFor(`a "${title}" tab`, () => webviewTabs().includes(title));

    const shown = await waitFor('the sweep in the Runs view', async () => (await experimentsShown(svd)).find((item) => item.label === result.id));
    assert.equal(shown.description, '4 cells · accepted 1–2 · precision 100.0%');
    assert.equal(shown.command, 'svd.showSweep');
    assert.equal(shown.argument, file);
    // The cells are runs inside the sweep's folder, not runs of the list.
    const runs = svd.runsView().runs().map((run) => run.runId);
    assert.ok(!runs.some((id) => id.startsWith('sweep-')), `runs listed: ${runs.join(', ')}`);

    // Showing it again from the view reveals the same panel rather than opening another.
    assert.equal(await commandValue<string>('svd.showSweep', file), title);
    assert.equal(webviewTabs().filter((label) => label === title).length, 1);
  });

  test('Evaluate Model writes result.json beside the runs, opens its view and lists it', async () => {
    const seeds = seedFile('labeled.jsonl');
    const { model } = fixture();
    const result = await commandValue<EvalResult>('svd.evaluate', vscode.Uri.file(seeds), { models: [model], samples: 2, ttc: true });
    assert.ok(result, 'svd.evaluate returned nothing');
    const file = path.join(path.dirname(svd.runsDir()!), 'evals', result.id, 'result.json');
    assert.ok(existsSync(file), `${file} is missing`);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as EvalResult;
    assert.equal(saved.questions, 3);
    assert.equal(saved.samples, 2);
    assert.deepEqual(saved.models.map((m) => m.model), [model]);
    const [evaluated] = saved.models;
    // Per question, the share of right samples: g1 2/2, g2 1/2, g3 0/2.
    assert.equal(evaluated!.passAt1.overall.passAt1, 0.5);
    // The cascade answers g1 and g2 with a right, verified candidate; g3 with an unverified wrong one.
    assert.ok(evaluated!.ttc, 'the test-time baseline ran');
    assert.equal(evaluated!.ttc.passAt1.overall.passAt1, 2 / 3);
    assert.equal(evaluated!.ttc.unverified, 1);

    const title = `Evaluation: ${result.id}`;
    await waitFor(`a "${title}" tab`, () => webviewTabs().includes(title));
    const shown = await waitFor('the evaluation in the Runs view', async () => (await experimentsShown(svd)).find((item) => item.label === result.id));
    assert.equal(shown.description, 'pass@1 50.0% · TTC 66.7%');
    assert.equal(shown.command, 'svd.showEvaluation');
  });

  test('Show Evaluation opens a saved evaluation by its folder', async () => {
    const shown = (await experimentsShown(svd)).find((item) => item.command === 'svd.showEvaluation');
    assert.ok(shown, 'needs the evaluation of the previous test');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const title = await commandValue<string>('svd.showEvaluation', path.dirname(shown.argument as string));
    assert.equal(title, `Evaluation: ${shown.label}`);
    await waitFor(`a "${title}" tab`, () => webviewTabs().includes(title));
  });
});
