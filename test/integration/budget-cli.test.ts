// A cost budget end to end with the built CLI and the scripted server: `--max-cost` stops a run before it would be
// crossed, recorded as stopped for budget (exit 12, the `result` event, `svd status`), with its cost; the same command
// with a larger budget resumes it, loses nothing, and accepts what a run without a budget accepts.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT_CODES } from '../../src/core/base/errors';
import { RunStreamEvent, readEventLine, type RunResultEvent } from '../../src/protocol/cliEvents';
import { ActiveRun } from '../../src/vscode/runs/runner';
import { CLI, ROOT, runCli } from '../fixtures/cli';
import { methodHandler, startScriptedServer, type ScriptedServer, type SeedScript } from '../fixtures/scripted-server';

const PROMPTS = path.join(ROOT, 'test/fixtures/prompts');

const SCRIPTS: SeedScript[] = Array.from({ length: 8 }, (_, i) => ({
  question: `What is ${i} + ${i + 3}?`,
  answers: i % 3 === 1 ? ['wrong', 'right'] : i % 3 === 2 ? ['wrong', 'wrong'] : ['right', 'right'],
}));

interface StatusJson {
  state: string;
  stopReason?: string;
  lastMessage?: string;
  funnel: { seeds: number; seedsDone: number; accepted: number };
  usage: Record<string, { requests: number; promptTokens: number; completionTokens: number }>;
  cost: { total: number | null; perStage: Record<string, number | null>; perAccepted: number | null; unknown?: string };
}

function resultOf(stdout: string): RunResultEvent {
  const events = stdout
    .trim()
    .split('\n')
    .map((line) => {
      const read = readEventLine(RunStreamEvent, line);
      assert.ok(read.ok, `not an event: ${line}`);
      return read.event;
    });
  const last = events.at(-1)!;
  assert.equal(last.type, 'result', JSON.stringify(last));
  return last as RunResultEvent;
}

function acceptedIds(runDir: string): string[] {
  return readFileSync(path.join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string; acceptedCandidateIds?: string[] })
    .filter((event) => event.type === 'outcome')
    .flatMap((event) => event.acceptedCandidateIds!)
    .sort();
}

function recordIds(runDir: string): string[] {
  return readFileSync(path.join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { id: string; type: string })
    .filter((event) => ['seed', 'candidate', 'vote', 'stage', 'outcome'].includes(event.type))
    .map((event) => event.id);
}

describe('svd run --max-cost', () => {
  let server: ScriptedServer;
  let dir: string;
  let seeds: string;
  let prices: string;

  before(async () => {
    const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    server = await startScriptedServer({ models: ['scripted'] });
    server.setHandler(methodHandler(SCRIPTS));
    dir = mkdtempSync(path.join(os.tmpdir(), 'svd-budget-'));
    seeds = path.join(dir, 'seeds.jsonl');
    writeFileSync(seeds, SCRIPTS.map((s, i) => JSON.stringify({ id: `q${i}`, domain: 'math', question: s.question })).join('\n') + '\n');
    // One dollar per thousand tokens either way: small runs cost whole dollars.
    prices = path.join(dir, 'prices.json');
    writeFileSync(prices, JSON.stringify({ prices: { 'scrip*': { promptPerMillion: 1000, completionPerMillion: 1000 } } }));
  });
  after(async () => {
    await server.close();
  });

  // Each in a folder of its own, so that none shares another's response cache (<runs>/../cache).
  const runsDir = (name: string) => path.join(dir, name, 'runs');
  const flags = (runs: string) => [
    '--base-url', server.url, '--model', 'scripted', '--runs-dir', runsDir(runs), '--prompts', PROMPTS,
    '--candidates', '2', '--votes', '1', '--max-tokens', '64', '--judge-max-tokens', '32', '--concurrency', '2', '--prices', prices,
  ];

  test('a budget stops the run, status shows it with its cost, and a larger one finishes it as a run without one', async () => {
    const budget = 2;
    const stopped = await runCli(['run', seeds, ...flags('runs'), '--max-cost', String(budget), '--events']);
    assert.equal(stopped.code, EXIT_CODES.budget, stopped.stderr);
    const first = resultOf(stopped.stdout);
    assert.equal(first.state, 'stopped');
    assert.equal(first.stopReason, 'budget');
    assert.ok(first.funnel.seedsDone < first.funnel.seeds, `the budget stopped the run early: ${JSON.stringify(first.funnel)}`);
    assert.ok(first.cost && first.cost.total !== null && first.cost.total > 0, JSON.stringify(first.cost));
    assert.ok(first.cost!.total! <= budget, `never crossed: spent ${first.cost!.total} of ${budget}`);
    assert.equal(first.cost!.maxUsd, budget);

    const status = await runCli(['status', first.runId, '--runs-dir', runsDir('runs'), '--prices', prices, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const json = JSON.parse(status.stdout) as StatusJson;
    assert.equal(json.state, 'stopped');
    assert.equal(json.stopReason, 'budget');
    assert.match(json.lastMessage ?? '', /stopped for budget: spent \$[\d.]+ of \$2/);
    const tokens = Object.entries(json.usage).filter(([purpose]) => purpose !== 'total').map(([, u]) => u).reduce((sum, u) => sum + u.promptTokens + u.completionTokens, 0);
    assert.ok(Math.abs(json.cost.total! - tokens / 1000) < 1e-9, `cost ${json.cost.total} is the recorded tokens' (${tokens})`);
    const text = await runCli(['status', first.runId, '--runs-dir', runsDir('runs'), '--prices', prices]);
    assert.match(text.stdout, /Run: stopped \(stopped for budget/);
    assert.match(text.stdout, /Cost: \$[\d.]+ \(generate \$[\d.]+, cycle /);
    const kept = recordIds(first.dir);

    // The same budget again: what is left of it may still fit a small request, never more; stopped for budget again.
    const again = await runCli(['run', seeds, ...flags('runs'), '--max-cost', String(budget), '--json']);
    assert.equal(again.code, EXIT_CODES.budget, again.stderr);
    const twice = JSON.parse(again.stdout) as RunResultEvent;
    assert.equal(twice.stopReason, 'budget');
    assert.ok(twice.cost!.total! >= first.cost!.total! && twice.cost!.total! <= budget, `spent over both sessions ${twice.cost!.total} of ${budget}`);

    const resumed = await runCli(['run', seeds, ...flags('runs'), '--max-cost', '1000', '--events']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const second = resultOf(resumed.stdout);
    assert.equal(second.state, 'finished');
    assert.equal(second.stopReason, undefined);
    assert.equal(second.funnel.seedsDone, SCRIPTS.length);
    assert.ok(second.cost!.total! > first.cost!.total!, 'the cost counts every session');
    const all = recordIds(first.dir);
    assert.deepEqual(all.filter((id) => kept.includes(id)), kept, 'nothing recorded before the stop was lost');
    assert.equal(new Set(all).size, all.length, 'nothing was recorded twice');

    const free = await runCli(['run', seeds, ...flags('free'), '--json']);
    assert.equal(free.code, 0, free.stderr);
    const unbudgeted = JSON.parse(free.stdout) as { dir: string; state: string };
    assert.equal(unbudgeted.state, 'finished');
    assert.ok(acceptedIds(unbudgeted.dir).length > 0);
    assert.deepEqual(acceptedIds(first.dir), acceptedIds(unbudgeted.dir));
  });

  test("the editor's run: the budget setting reaches the process, and the outcome says stopped for budget", async () => {
    const run = new ActiveRun(
      CLI,
      {
        seedFile: seeds,
        runsDir: runsDir('editor'),
        config: { promptsDir: PROMPTS, candidates: 2, votes: 1, concurrency: 2, generation: { maxTokens: 64 }, judge: { maxTokens: 32 } },
        baseUrl: server.url,
        model: 'scripted',
        engine: { parallel: 1 },
        modelsDir: path.join(dir, 'models'),
        cwd: dir,
        cost: { maxCost: 1, prices },
      },
      {},
    );
    const outcome = await run.done;
    assert.equal(outcome.state, 'stopped');
    assert.equal(outcome.stopReason, 'budget');
    assert.equal(outcome.exitCode, EXIT_CODES.budget);
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.spent?.maxUsd, 1);
    assert.ok(outcome.spent!.usd > 0 && outcome.spent!.usd <= 1, `spent ${outcome.spent?.usd} of 1`);
  });

  test('a sweep shares one budget among its cells: stopped for budget, then resumed with a larger one', async () => {
    const sweepFlags = ['--base-url', server.url, '--model', 'scripted', '--runs-dir', runsDir('sweep'), '--prompts', PROMPTS, '--candidates', '1,2', '--votes', '1',
      '--max-tokens', '64', '--judge-max-tokens', '32', '--concurrency', '2', '--prices', prices, '--json'];
    const stopped = await runCli(['sweep', seeds, ...sweepFlags, '--max-cost', '3']);
    assert.equal(stopped.code, EXIT_CODES.budget, stopped.stderr);
    const first = JSON.parse(stopped.stdout) as { state: string; stopReason?: string; cells: { name: string; state: string; promptTokens: number; completionTokens: number }[] };
    assert.equal(first.state, 'stopped');
    assert.equal(first.stopReason, 'budget');
    const spent = first.cells.reduce((sum, cell) => sum + (cell.promptTokens + cell.completionTokens) / 1000, 0);
    assert.ok(spent > 0 && spent <= 3, `the cells together spent ${spent} of 3`);

    const resumed = await runCli(['sweep', seeds, ...sweepFlags, '--max-cost', '1000']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const second = JSON.parse(resumed.stdout) as typeof first;
    assert.equal(second.state, 'finished');
    assert.equal(second.stopReason, undefined);
    assert.deepEqual(second.cells.map((cell) => cell.state), ['finished', 'finished']);
  });

  test('a budget for a model without a price is refused before any request; status says unknown, never 0', async () => {
    const requestsBefore = server.requests.length;
    const noPrice = path.join(dir, 'empty-prices.json');
    writeFileSync(noPrice, JSON.stringify({ prices: {} }));
    const args = flags('unpriced').map((arg) => (arg === prices ? noPrice : arg));
    const refused = await runCli(['run', seeds, ...args, '--max-cost', '5']);
    assert.equal(refused.code, EXIT_CODES.bad_config);
    assert.match(refused.stderr, /no price for model "scripted"/);
    assert.equal(server.requests.length, requestsBefore);

    const run = await runCli(['run', seeds, ...args, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    const status = await runCli(['status', runId, '--runs-dir', runsDir('unpriced'), '--prices', noPrice, '--json']);
    const json = JSON.parse(status.stdout) as StatusJson;
    assert.equal(json.cost.total, null);
    assert.equal(json.cost.perAccepted, null);
    assert.match(json.cost.unknown ?? '', /no price for model "scripted"/);
  });

  test('a bad price table names its file and field', async () => {
    const bad = path.join(dir, 'bad-prices.json');
    writeFileSync(bad, JSON.stringify({ prices: { scripted: { promptPerMillion: -1, completionPerMillion: 2 } } }));
    const result = await runCli(['status', 'anything', '--runs-dir', runsDir('runs'), '--prices', bad]);
    assert.equal(result.code, EXIT_CODES.bad_config);
    assert.match(result.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invalid price table: prices\\.scripted\\.promptPerMillion`));
  });
});
