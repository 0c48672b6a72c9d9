import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseRunConfig, type RunConfigInput } from '../../../../src/core/base/config';
import { isSvdError } from '../../../../src/core/base/errors';
import type { RunEvent } from '../../../../src/core/record/events';
import { runPipeline } from '../../../../src/core/method/pipeline';
import type { RunResult } from '../../../../src/core/method/runPlan';
import { foldRun } from '../../../../src/core/record/runview';
import { formatProblem } from '../../../../src/core/method/seeds';
import { RunStore, appendOverride } from '../../../../src/core/record/store';
import { foldRunStreaming } from '../../../../src/core/record/streamFold';
import { methodHandler, startScriptedServer, type ScriptedServer, type SeedScript } from '../../../fixtures/scripted-server';

const PROMPTS = path.resolve(__dirname, '../../../fixtures/prompts');

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'svd-pipeline-'));
}

function writeSeeds(dir: string, scripts: SeedScript[], domain = 'math'): string {
  const file = path.join(dir, 'seeds.jsonl');
  writeFileSync(file, scripts.map((s, i) => JSON.stringify({ id: `q${i}`, domain, question: s.question })).join('\n') + '\n');
  return file;
}

async function run(
  server: ScriptedServer,
  seedsFile: string,
  runsDir: string,
  config: RunConfigInput = {},
  extra: { runId?: string; signal?: AbortSignal; summarize?: boolean } = {},
): Promise<RunResult> {
  return runPipeline({
    seedsFile,
    runsDir,
    runId: extra.runId,
    config: parseRunConfig({ promptsDir: PROMPTS, ...config }),
    endpoint: { baseURL: server.url, model: 'scripted', engine: 'server' },
    signal: extra.signal,
    summarize: extra.summarize,
  });
}

/** A port nothing listens on: a server that is down. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function eventsOf(dir: string): RunEvent[] {
  const store = RunStore.open(dir, { readOnly: true });
  try {
    return [...store.events()];
  } finally {
    store.close();
  }
}

/** The summary as a reader opening the run afresh folds it: what `svd run` printed before the pipeline folded it. */
function reopenedSummary(result: RunResult) {
  const store = RunStore.open(result.dir, { readOnly: true });
  try {
    return foldRunStreaming(store, result.seedsTotal, { audit: true });
  } finally {
    store.close();
  }
}

function outcomes(dir: string): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const event of eventsOf(dir)) if (event.type === 'outcome') result[event.seedId] = event.acceptedCandidateIds;
  return result;
}

describe('pipeline against the scripted server', () => {
  let server: ScriptedServer;
  before(async () => {
    server = await startScriptedServer({ models: ['scripted'] });
  });
  after(async () => {
    await server.close();
  });

  test('all-right seeds are accepted with one request per step when n is honoured', async () => {
    const scripts: SeedScript[] = [{ question: 'What is 2 + 3?' }, { question: 'What is 7 * 6?' }];
    server.setHandler(methodHandler(scripts));
    const dir = tempDir();
    const before = server.requests.length;
    const result = await run(server, writeSeeds(dir, scripts), path.join(dir, 'runs'), { candidates: 4, votes: 3 });
    assert.equal(result.state, 'finished');
    assert.equal(result.accepted, 2);
    const seen = server.requests.slice(before);
    // Per seed: 1 generation (n=4), 1 inference (n=3), 3 comparisons, 1 factuality (n=3), 1 correctness (n=3).
    assert.equal(seen.filter((r) => r.kind === 'generate').length, 2);
    assert.equal(seen.filter((r) => r.kind === 'cycle_infer').length, 2);
    assert.equal(seen.filter((r) => r.kind === 'cycle_compare').length, 6);
    assert.equal(seen.filter((r) => r.kind === 'factuality').length, 2);
    assert.equal(seen.filter((r) => r.kind === 'correctness').length, 2);
    assert.deepEqual(outcomes(result.dir), { q0: ['q0#0'], q1: ['q1#0'] });
  });

  test('first-valid: candidates are verified in order and the rest are never judged', async () => {
    const scripts: SeedScript[] = [{ question: 'What is 10 - 4?', answers: ['invalid', 'wrong', 'right', 'right'] }];
    server.setHandler(methodHandler(scripts));
    const dir = tempDir();
    const before = server.requests.length;
    const result = await run(server, writeSeeds(dir, scripts), path.join(dir, 'runs'));
    assert.deepEqual(outcomes(result.dir), { q0: ['q0#2'] });
    const events = eventsOf(result.dir);
    const judged = new Set(events.flatMap((e) => (e.type === 'vote' ? [e.candidateId] : [])));
    assert.deepEqual([...judged].sort(), ['q0#1', 'q0#2']);
    const invalid = events.find((e) => e.type === 'candidate' && e.index === 0);
    assert.equal(invalid?.type === 'candidate' && invalid.invalidReason, 'no_boxed_answer');
    // The wrong candidate stopped at its first failing stage: no later stage was asked about it.
    const wrongStages = events.flatMap((e) => (e.type === 'stage' && e.candidateId === 'q0#1' ? [e] : []));
    assert.ok(wrongStages.length >= 1 && wrongStages.length < 3);
    assert.deepEqual(wrongStages.map((s) => s.passed), [...wrongStages.slice(1).map(() => true), false]);
    const failedAt = wrongStages.at(-1)!.stage;
    const votedStages = new Set(events.flatMap((e) => (e.type === 'vote' && e.candidateId === 'q0#1' ? [e.stage] : [])));
    assert.deepEqual([...votedStages], wrongStages.map((s) => s.stage), `no vote after the failing stage (${failedAt})`);
    assert.ok(server.requests.length - before >= 1 + 2 + 3 + 2);
  });

  test('keep_all accepts every candidate that passes', async () => {
    const scripts: SeedScript[] = [{ question: 'What is 9 + 9?', answers: ['right', 'wrong', 'right', 'invalid'] }];
    server.setHandler(methodHandler(scripts));
    const dir = tempDir();
    const result = await run(server, writeSeeds(dir, scripts), path.join(dir, 'runs'), { selection: 'keep_all' });
    assert.deepEqual(outcomes(result.dir), { q0: ['q0#0', 'q0#2'] });
  });

  test('one "no" vote fails the stage (unanimity) and an unparseable vote counts as no', async () => {
    const scripts: SeedScript[] = [
      { question: 'What is 3 * 3?', answers: ['right'], correctness: ['Y', 'Y', 'N'] },
      { question: 'What is 4 * 4?', answers: ['right'], factuality: ['Y', '?', 'Y'] },
    ];
    server.setHandler(methodHandler(scripts));
    const dir = tempDir();
    const result = await run(server, writeSeeds(dir, scripts), path.join(dir, 'runs'), { candidates: 1 });
    assert.deepEqual(outcomes(result.dir), { q0: [], q1: [] });
    const view = foldRun(eventsOf(result.dir));
    assert.equal(view.funnel.passedFactuality, 1);
    assert.equal(view.funnel.passedCorrectness, 0);
    assert.equal(view.funnel.unparseableVotes, 1);
    const votes = eventsOf(result.dir).filter((e) => e.type === 'vote' && e.stage === 'factuality');
    assert.deepEqual(votes.map((v) => v.type === 'vote' && v.verdict).sort(), ['unparseable', 'yes', 'yes', 'yes', 'yes', 'yes']);
  });

  test('servers that ignore n get the missing samples asked separately', async () => {
    const narrow = await startScriptedServer({ models: ['scripted'], maxChoices: 1 });
    try {
      const scripts: SeedScript[] = [{ question: 'What is 5 + 5?' }];
      narrow.setHandler(methodHandler(scripts));
      const dir = tempDir();
      const result = await run(narrow, writeSeeds(dir, scripts), path.join(dir, 'runs'), { candidates: 3, votes: 2 });
      assert.equal(result.accepted, 1);
      assert.equal(narrow.countBy('generate'), 1 + 2);
      assert.equal(narrow.countBy('factuality'), 1 + 1);
      const candidates = eventsOf(result.dir).filter((e) => e.type === 'candidate');
      assert.equal(candidates.length, 3);
    } finally {
      await narrow.close();
    }
  });

  test('a repeated run with the same settings is served from the cache: zero requests', async () => {
    const scripts: SeedScript[] = [{ question: 'What is 1 + 1?', answers: ['wrong', 'right'] }, { question: 'What is 2 + 2?' }];
    server.setHandler(methodHandler(scripts));
    const dir = tempDir();
    const seeds = writeSeeds(dir, scripts);
    const runsDir = path.join(dir, 'runs');
    const first = await run(server, seeds, runsDir, { candidates: 2, votes: 2 }, { runId: 'first' });
    const before = server.requests.length;
    const second = await run(server, seeds, runsDir, { candidates: 2, votes: 2 }, { runId: 'second' });
    assert.equal(server.requests.length - before, 0);
    assert.deepEqual(outcomes(second.dir), outcomes(first.dir));
    assert.ok(second.usage.generate.cachedSamples > 0);
  });

  test('a finished run run again stays finished: nothing asked, nothing written, even with its server down', async () => {
    const scripts: SeedScript[] = [{ question: 'What is 8 - 3?' }];
    server.setHandler(methodHandler(scripts));
    const dir = tempDir();
    const seeds = writeSeeds(dir, scripts);
    const first = await run(server, seeds, path.join(dir, 'runs'));
    assert.equal(first.alreadyFinished, false);
    const record = readFileSync(path.join(first.dir, 'events.jsonl'), 'utf8');
    const requests = server.requests.length;
    // The same run (by its id and by the id the same command derives) on a server that answers nothing: a port
    // nobody listens on.
    const down = { baseURL: `http://127.0.0.1:${await closedPort()}/v1`, model: 'scripted', engine: 'server' as const };
    const config = parseRunConfig({ promptsDir: PROMPTS });
    const starts: unknown[] = [];
    for (const runId of [first.runId, undefined]) {
      const again = await runPipeline({ seedsFile: seeds, runsDir: path.join(dir, 'runs'), runId, config, endpoint: down, onStart: (info) => starts.push(info) });
      assert.deepEqual([again.runId, again.state, again.alreadyFinished, again.resumed, again.seedsDone], [first.runId, 'finished', true, true, 1]);
    }
    assert.equal(server.requests.length, requests);
    assert.equal(readFileSync(path.join(first.dir, 'events.jsonl'), 'utf8'), record, 'the record changed');
    assert.deepEqual(foldRun(eventsOf(first.dir)).state, 'finished');
    assert.deepEqual(starts[0], { runId: first.runId, dir: first.dir, resumed: true, seedsTotal: 1, skippedRows: 0, fileRows: 1, alreadyFinished: true });
  });

  test('a seed question over the size limit is a bad row with its line; the rest of the file runs', async () => {
    const scripts: SeedScript[] = [{ question: 'What is 1 + 1?' }, { question: 'What is 2 + 2?' }];
    server.setHandler(methodHandler(scripts));
    const dir = tempDir();
    const seedsFile = path.join(dir, 'seeds.jsonl');
    const rows = [
      { id: 'q0', domain: 'math', question: scripts[0]!.question },
      { id: 'big', domain: 'math', question: `What is ${'9'.repeat(300 * 1024)} + 1?` },
      { id: 'q1', domain: 'math', question: scripts[1]!.question },
    ];
    writeFileSync(seedsFile, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    const problems: string[] = [];
    const result = await runPipeline({
      seedsFile,
      runsDir: path.join(dir, 'runs'),
      config: parseRunConfig({ promptsDir: PROMPTS }),
      endpoint: { baseURL: server.url, model: 'scripted', engine: 'server' },
      onProblem: (problem) => problems.push(formatProblem(problem)),
    });
    assert.deepEqual(problems, [`${seedsFile}:2: field "question": the question is 300.0 KB, over the limit of 256 KB (maxQuestionBytes)`]);
    assert.equal(result.seedsTotal, 2);
    assert.equal(result.accepted, 2);
    assert.deepEqual(Object.keys(outcomes(result.dir)).sort(), ['q0', 'q1']);
  });

  test('a response over the size limit is stored cut, with a marker, in the run and in the cache', async () => {
    const scripts: SeedScript[] = [{ question: 'What is 5 + 5?' }];
    const inner = methodHandler(scripts);
    const huge = 'y'.repeat(5 * 1024 * 1024);
    server.setHandler((call) => (call.kind === 'generate' ? { content: huge } : inner(call)));
    const dir = tempDir();
    const result = await run(server, writeSeeds(dir, scripts), path.join(dir, 'runs'), { candidates: 1, votes: 1 });
    const candidate = eventsOf(result.dir).find((event) => event.type === 'candidate');
    assert.ok(candidate?.type === 'candidate');
    const limit = 4 * 1024 * 1024;
    assert.ok(candidate.text.startsWith('y'.repeat(1000)));
    assert.match(candidate.text, /\n\n\[cut by svd: the response was 5242880 bytes, over the limit of 4194304 \(maxResponseBytes\)\]$/);
    assert.ok(Buffer.byteLength(candidate.text) < limit + 200, `stored ${Buffer.byteLength(candidate.text)} bytes`);
    const cached = readFileSync(path.join(dir, 'cache', 'samples.jsonl'), 'utf8');
    assert.ok(cached.length < limit + 2000, `cached ${cached.length} bytes`);
    assert.match(cached, /cut by svd/);
  });

  test('every seed answered with content: null fails the run with the server code; nothing empty is cached, and a resume asks again', async () => {
    const scripts: SeedScript[] = [{ question: 'What is 4 + 4?' }, { question: 'What is 4 + 5?' }];
    server.setHandler(methodHandler(scripts));
    const dir = tempDir();
    const seeds = writeSeeds(dir, scripts);
    const runsDir = path.join(dir, 'runs');
    // One generation request per seed (n batched), no retries: each seed gets one null reply.
    server.inject({ kind: 'null_content', match: 'generate' }, { kind: 'null_content', match: 'generate' });
    const before = server.countBy('generate');
    await assert.rejects(
      run(server, seeds, runsDir, { maxRetries: 0, concurrency: 1, candidates: 2, votes: 1 }, { runId: 'nulls' }),
      (error: unknown) => isSvdError(error, 'unreachable') && /all 2 seeds ended in an error/.test(error.message) && /content: null/.test(error.message),
    );
    assert.equal(server.pendingFaults, 0);
    const first = eventsOf(path.join(runsDir, 'nulls'));
    assert.deepEqual(first.filter((e) => e.type === 'run').map((e) => e.type === 'run' && e.state), ['started', 'failed']);
    assert.equal(first.filter((e) => e.type === 'error').length, 2);
    assert.equal(first.filter((e) => e.type === 'candidate').length, 0, 'no empty candidate recorded');
    const cacheFile = path.join(dir, 'cache', 'samples.jsonl');
    assert.equal(existsSync(cacheFile) ? readFileSync(cacheFile, 'utf8') : '', '', 'no empty answer cached');

    const resumed = await run(server, seeds, runsDir, { maxRetries: 0, concurrency: 1, candidates: 2, votes: 1 }, { runId: 'nulls' });
    assert.equal(resumed.state, 'finished');
    assert.equal(resumed.accepted, 2);
    assert.equal(server.countBy('generate') - before, 4, 'both seeds were asked again');
  });

  test('a run in which only some seeds fail still finishes', async () => {
    const scripts: SeedScript[] = [{ question: 'What is 8 + 1?' }, { question: 'What is 8 + 2?' }];
    server.setHandler(methodHandler(scripts));
    const dir = tempDir();
    server.inject({ kind: '500', match: 'generate' });
    const result = await run(server, writeSeeds(dir, scripts), path.join(dir, 'runs'), { maxRetries: 0, concurrency: 1, candidates: 1, votes: 1 });
    assert.equal(result.state, 'finished');
    assert.equal(result.seedsDone, 1);
  });

  test('a persistent server error leaves the seed pending with an error record, and a later run completes it', async () => {
    const scripts: SeedScript[] = [{ question: 'What is 6 + 1?' }, { question: 'What is 6 + 2?' }];
    server.setHandler(methodHandler(scripts));
    const dir = tempDir();
    const seeds = writeSeeds(dir, scripts);
    const runsDir = path.join(dir, 'runs');
    server.inject(...Array.from({ length: 3 }, () => ({ kind: '500' as const, match: 'factuality' as const })));
    const first = await run(server, seeds, runsDir, { maxRetries: 1, concurrency: 1 });
    const view = foldRun(eventsOf(first.dir));
    assert.equal(view.funnel.errors >= 1, true);
    assert.equal(view.funnel.seedsPending, 1);
    const second = await run(server, seeds, runsDir, { maxRetries: 1, concurrency: 1 }, { runId: first.runId });
    assert.equal(second.accepted, 2);
    const ids = eventsOf(second.dir).map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'no event is written twice');
  });

  test('429 with Retry-After, a reset and invalid JSON are retried to the right result', async () => {
    const scripts: SeedScript[] = [{ question: 'What is 12 / 4?' }];
    server.setHandler(methodHandler(scripts));
    const dir = tempDir();
    server.inject({ kind: '429', retryAfterS: 1, match: 'generate' }, { kind: 'reset', match: 'cycle_infer' }, { kind: 'invalid_json', match: 'correctness' });
    const started = Date.now();
    const result = await run(server, writeSeeds(dir, scripts), path.join(dir, 'runs'), { maxRetries: 3 });
    assert.ok(Date.now() - started >= 900, 'Retry-After was honoured');
    assert.equal(result.accepted, 1);
    assert.ok(result.usage.generate.retries >= 1);
  });

  test('truncated output is an invalid candidate, recorded with its reason', async () => {
    const scripts: SeedScript[] = [{ question: 'What is 100 - 1?', answers: ['truncated', 'right'] }];
    server.setHandler(methodHandler(scripts));
    const dir = tempDir();
    const result = await run(server, writeSeeds(dir, scripts), path.join(dir, 'runs'), { candidates: 2 });
    const first = eventsOf(result.dir).find((e) => e.type === 'candidate' && e.index === 0);
    assert.ok(first?.type === 'candidate');
    assert.equal(first.valid, false);
    assert.equal(first.invalidReason, 'truncated');
    assert.deepEqual(outcomes(result.dir), { q0: ['q0#1'] });
  });

  test('a changed seed file is detected, not mixed into the run', async () => {
    const scripts: SeedScript[] = [{ question: 'What is 2 + 9?' }];
    server.setHandler(methodHandler(scripts));
    const dir = tempDir();
    const seeds = writeSeeds(dir, scripts);
    const first = await run(server, seeds, path.join(dir, 'runs'), {}, { runId: 'fixed' });
    writeFileSync(seeds, JSON.stringify({ id: 'q0', domain: 'math', question: 'What is 2 + 10?' }) + '\n');
    await assert.rejects(run(server, seeds, path.join(dir, 'runs'), {}, { runId: 'fixed' }), (error) => isSvdError(error, 'run_mismatch'));
    await assert.rejects(run(server, seeds, path.join(dir, 'runs'), { votes: 2 }, { runId: 'fixed' }), (error) => isSvdError(error, 'run_mismatch'));
    assert.equal(Object.keys(outcomes(first.dir)).length, 1);
  });

  test('an abort stops the run resumably; the resumed run ends as an uninterrupted one', async () => {
    const slow = await startScriptedServer({ models: ['scripted'], latencyMs: 30 });
    try {
      const scripts: SeedScript[] = Array.from({ length: 6 }, (_, i) => ({ question: `What is ${i} + ${i}?`, answers: ['wrong', 'right'] as ('wrong' | 'right')[] }));
      slow.setHandler(methodHandler(scripts));
      const dir = tempDir();
      const seeds = writeSeeds(dir, scripts);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 150);
      const stopped = await run(slow, seeds, path.join(dir, 'runs'), { candidates: 2, concurrency: 2 }, { runId: 'r', signal: controller.signal });
      assert.equal(stopped.state, 'stopped');
      assert.ok(stopped.seedsDone < 6);
      const resumed = await run(slow, seeds, path.join(dir, 'runs'), { candidates: 2, concurrency: 2 }, { runId: 'r' });
      assert.equal(resumed.state, 'finished');
      const reference = await run(slow, seeds, path.join(dir, 'runs'), { candidates: 2, concurrency: 2 }, { runId: 'reference' });
      assert.deepEqual(outcomes(resumed.dir), outcomes(reference.dir));
      const ids = eventsOf(resumed.dir).map((e) => e.id);
      assert.equal(new Set(ids).size, ids.length);
    } finally {
      await slow.close();
    }
  });

  test('the summary folded through the run\'s own store equals the record read back: stopped, overridden, resumed', async () => {
    const slow = await startScriptedServer({ models: ['scripted'], latencyMs: 30 });
    try {
      const kinds = [['wrong', 'right'], ['invalid', 'invalid'], ['wrong', 'wrong'], ['right', 'right']] as const;
      const scripts: SeedScript[] = Array.from({ length: 8 }, (_, i) => ({ question: `What is ${i} * ${i + 2}?`, answers: [...kinds[i % 4]!] }));
      const controller = new AbortController();
      const inner = methodHandler(scripts);
      let asked = 0;
      // Stopped mid-run by request count, not by a clock: some seeds are done, others not, however loaded the machine.
      slow.setHandler((call) => {
        if (++asked === 12) controller.abort();
        return inner(call);
      });
      const dir = tempDir();
      const seeds = writeSeeds(dir, scripts);
      const options = { candidates: 2, concurrency: 2 };
      const stopped = await run(slow, seeds, path.join(dir, 'runs'), options, { runId: 'r', signal: controller.signal, summarize: true });
      assert.equal(stopped.state, 'stopped');
      assert.ok(stopped.summary, 'a summary when asked for');
      assert.deepEqual(stopped.summary, reopenedSummary(stopped));
      assert.equal(stopped.summary.funnel.seedsDone, stopped.seedsDone);
      assert.ok(stopped.seedsDone > 0 && stopped.seedsDone < 8, `${stopped.seedsDone} seeds done when stopped`);
      assert.equal(stopped.summary.state, 'stopped');
      // A reviewer's decision, written by another writer while the run is not running, counts in the next summary.
      const candidate = eventsOf(stopped.dir).find((e) => e.type === 'candidate');
      assert.ok(candidate?.type === 'candidate');
      appendOverride(stopped.dir, { id: 'override:test:1', type: 'override', candidateId: candidate.candidateId, action: 'reject' });
      const resumed = await run(slow, seeds, path.join(dir, 'runs'), options, { runId: 'r', summarize: true });
      assert.equal(resumed.state, 'finished');
      assert.deepEqual(resumed.summary, reopenedSummary(resumed));
      assert.equal(resumed.summary?.funnel.seedsDone, 8);
      assert.equal(resumed.summary?.funnel.overridden, 1);
      const plain = await run(slow, seeds, path.join(dir, 'runs'), options, { runId: 'plain' });
      assert.equal(plain.summary, undefined, 'no fold unless asked for');
    } finally {
      await slow.close();
    }
  });
});
