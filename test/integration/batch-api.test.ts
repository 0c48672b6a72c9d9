// `svd batch run` against a scripted Batch API (files and batches endpoints) whose batches are answered by the
// scripted server: failed and expired requests and output out of order are asked again by the next wave; a command
// killed between polls resumes the same batches (none created twice); Ctrl-C cancels the open batches.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBatchApiServer, type BatchApiServer, type BatchApiServerOptions } from '../fixtures/batch-api-server';
import { CLI, ROOT, runCli } from '../fixtures/cli';
import { METHOD as RUN_METHOD, decisions, onlineRun, writeSeeds } from '../fixtures/batch-runs';
import { methodHandler, startScriptedServer, type ScriptedServer, type SeedScript } from '../fixtures/scripted-server';

// Answers that do not depend on the order a seed's samples are asked in (a failed request is asked later).
const SCRIPTS: SeedScript[] = [
  { question: 'What is 2 + 2?' },
  { question: 'What is 6 * 7?', inferred: 'What is the capital of France?' },
  { question: 'What is 1 + 1?', answers: ['invalid', 'invalid', 'invalid'] },
];
const METHOD = [...RUN_METHOD, '--poll-interval', '0.02'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('svd batch run against a scripted Batch API', () => {
  let work: string;
  let seeds: string;
  let reference: ReturnType<typeof decisions>;
  let chat: ScriptedServer;
  let api: BatchApiServer | undefined;

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'svd-batch-api-'));
    seeds = writeSeeds(work, SCRIPTS);
    reference = decisions(await onlineRun(seeds, SCRIPTS));
    chat = await startScriptedServer({ handler: methodHandler(SCRIPTS) });
  });
  after(async () => {
    await api?.close();
    await chat.close();
  });

  async function serve(options: Omit<BatchApiServerOptions, 'chatURL'>): Promise<BatchApiServer> {
    await api?.close();
    chat.setHandler(methodHandler(SCRIPTS));
    api = await startBatchApiServer({ chatURL: chat.url, ...options });
    return api;
  }

  const inputIds = (server: BatchApiServer) =>
    server.files.filter((f) => f.purpose === 'batch').flatMap((f) => f.content.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { custom_id: string }).custom_id));

  test('failed, expired and out-of-order lines: asked again, the accepted set of an online run', async () => {
    const server = await serve({ fail: (position) => position === 1 || position === 7, expireAfter: (batch) => (batch === 1 ? 1 : undefined), reverse: true });
    const runsDir = path.join(work, 'a', 'runs');
    const run = await runCli(['batch', 'run', seeds, '--base-url', server.url, ...METHOD, '--runs-dir', runsDir, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { run: string; done: boolean; waves: number };
    assert.equal(result.done, true);
    assert.deepEqual(decisions(path.join(runsDir, result.run)).outcomes, reference.outcomes);
    assert.ok(server.batches.some((b) => b.status === 'expired'), 'a batch expired');
    const asked = inputIds(server);
    assert.ok(asked.length > new Set(asked).size, 'failed and expired requests were asked again');
    // Every output and error file was downloaded.
    for (const batch of server.batches) {
      for (const id of [batch.output_file_id, batch.error_file_id].filter(Boolean)) assert.ok(server.requests.includes(`GET /v1/files/${id}/content`));
    }
    assert.match(run.stderr, /failed \(asked again in the next wave\)/);
  });

  test('killed between polls: the run resumes the same batches, none created twice', async () => {
    const server = await serve({ pollsInProgress: 8 });
    const runsDir = path.join(work, 'b', 'runs');
    const child = spawn(process.execPath, [CLI, 'batch', 'run', seeds, '--base-url', server.url, ...METHOD, '--poll-interval', '0.05', '--runs-dir', runsDir], {
      cwd: ROOT,
      env: { ...process.env, SVD_API_KEY: '', OPENAI_API_KEY: '' },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await until('the first batch to be polled twice', () => (server.batches[0]?.retrieves ?? 0) >= 3);
    child.kill('SIGKILL');
    await exited;
    assert.equal(server.batches.length, 1);
    assert.notEqual(server.batches[0]!.status, 'completed');
    const again = await runCli(['batch', 'run', seeds, '--base-url', server.url, ...METHOD, '--runs-dir', runsDir, '--json']);
    assert.equal(again.code, 0, again.stderr);
    const result = JSON.parse(again.stdout) as { run: string; done: boolean };
    assert.equal(result.done, true);
    const uploads = server.files.filter((f) => f.purpose === 'batch');
    assert.equal(server.batches.length, uploads.length, 'one batch per uploaded wave file');
    assert.equal(new Set(server.batches.map((b) => b.input_file_id)).size, server.batches.length);
    assert.deepEqual(decisions(path.join(runsDir, result.run)).outcomes, reference.outcomes);
    assert.ok(existsSync(path.join(runsDir, result.run, 'batch', 'api.json')));
  });

  test('Ctrl-C cancels the open batches; running again collects and goes on', async () => {
    const server = await serve({ pollsInProgress: 1000 });
    const runsDir = path.join(work, 'c', 'runs');
    const child = spawn(process.execPath, [CLI, 'batch', 'run', seeds, '--base-url', server.url, ...METHOD, '--runs-dir', runsDir], {
      cwd: ROOT,
      env: { ...process.env, SVD_API_KEY: '', OPENAI_API_KEY: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await until('a batch in progress', () => server.batches[0]?.status === 'in_progress');
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    assert.ok(server.requests.includes(`POST /v1/batches/${server.batches[0]!.id}/cancel`));
    assert.equal(server.batches[0]!.status, 'cancelling');
    assert.match(stderr, /cancelled the open batches/);
    // Running again: the cancelled batch is collected (it answered nothing), its requests go into a new wave.
    server.setPollsInProgress(1);
    const again = await runCli(['batch', 'run', seeds, '--base-url', server.url, ...METHOD, '--runs-dir', runsDir, '--json']);
    assert.equal(again.code, 0, again.stderr);
    const result = JSON.parse(again.stdout) as { run: string; done: boolean };
    assert.equal(result.done, true);
    assert.equal(server.batches[0]!.status, 'cancelled');
    assert.deepEqual(decisions(path.join(runsDir, result.run)).outcomes, reference.outcomes);
  });

  test('priced at the batch price: half of what the same requests cost online, with the same table', async () => {
    const server = await serve({});
    const prices = path.join(work, 'prices.json');
    // A dollar a token either way, half off in a batch.
    writeFileSync(prices, JSON.stringify({ prices: { 'test-model': { promptPerMillion: 1e6, completionPerMillion: 1e6, batchDiscount: 0.5 } } }));
    const batchRuns = path.join(work, 'd', 'runs');
    const run = await runCli(['batch', 'run', seeds, '--base-url', server.url, ...METHOD, '--runs-dir', batchRuns, '--prices', prices, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const { run: runId } = JSON.parse(run.stdout) as { run: string };
    // Online, one request per sample as a batch asks them, against the same answers.
    chat.setHandler(methodHandler(SCRIPTS));
    const onlineRuns = path.join(work, 'e', 'runs');
    const online = await runCli(['run', seeds, '--base-url', chat.url, ...RUN_METHOD, '--no-batch', '--runs-dir', onlineRuns, '--prices', prices, '--json']);
    assert.equal(online.code, 0, online.stderr);
    const onlineResult = JSON.parse(online.stdout.trim().split('\n').pop()!) as StatusJson;
    const status = await runCli(['status', runId, '--runs-dir', batchRuns, '--prices', prices, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const batch = JSON.parse(status.stdout) as StatusJson;
    assert.deepEqual(decisions(path.join(batchRuns, runId)).outcomes, reference.outcomes);
    const onlineStatus = JSON.parse((await runCli(['status', onlineResult.runId, '--runs-dir', onlineRuns, '--json'])).stdout) as StatusJson;
    assert.equal(batch.usage.total.promptTokens, onlineStatus.usage.total.promptTokens, 'the same requests');
    assert.equal(batch.usage.total.completionTokens, onlineStatus.usage.total.completionTokens);
    assert.deepEqual(batch.usage.generate.batch, { requests: batch.usage.generate.requests, promptTokens: batch.usage.generate.promptTokens, completionTokens: batch.usage.generate.completionTokens });
    assert.ok(onlineResult.cost.total! > 0);
    assert.equal(batch.cost.total, onlineResult.cost.total! / 2);
    assert.equal(batch.cost.batchTotal, batch.cost.total);
    assert.equal(onlineResult.cost.batchTotal, undefined);
    for (const stage of Object.keys(batch.cost.perStage)) assert.equal(batch.cost.perStage[stage], onlineResult.cost.perStage[stage]! / 2, stage);
    const text = await runCli(['status', runId, '--runs-dir', batchRuns, '--prices', prices]);
    assert.match(text.stdout, /batch requests \$\d+\.\d+ of it, at the batch price/);
  });
});

interface StatusJson {
  runId: string;
  usage: Record<string, { requests: number; promptTokens: number; completionTokens: number; batch?: { requests: number; promptTokens: number; completionTokens: number } }>;
  cost: { total: number | null; batchTotal?: number; perStage: Record<string, number | null> };
}
