// `svd batch prepare` and `svd batch import` through the built CLI, with a `vllm run-batch` stand-in answering each
// wave from the scripted server: the waves end with the record an online run writes given the same answers (same
// outcomes, same stages passed and failed), and failed or missing requests are asked again by the next wave.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, runCli } from '../fixtures/cli';
import { METHOD, decisions, jsonLines, onlineRun, writeSeeds } from '../fixtures/batch-runs';
import { methodHandler, startScriptedServer, type ScriptedServer, type SeedScript } from '../fixtures/scripted-server';

const STAND_IN = path.join(ROOT, 'test/fixtures/vllm-run-batch.mjs');
/** Accepted at once; the first candidate wrong then the second right; none right; the cycle fails; factuality splits. */
const SCRIPTS: SeedScript[] = [
  { question: 'What is 2 + 2?' },
  { question: 'What is 3 + 5?', answers: ['wrong', 'right', 'right'] },
  { question: 'What is 9 - 1?', answers: ['wrong', 'wrong', 'wrong'] },
  { question: 'What is 6 * 7?', inferred: 'What is the capital of France?' },
  { question: 'What is 10 / 2?', factuality: ['Y', 'N'] },
  { question: 'What is 1 + 1?', answers: ['invalid', 'truncated', 'right'] },
];

function standInRun(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [STAND_IN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`stand-in exited ${code}: ${stderr}`))));
  });
}

interface Prepared {
  run: string;
  files: string[];
  done: boolean;
}

describe('svd batch prepare / import with a vllm run-batch stand-in', () => {
  let work: string;
  let seeds: string;
  let online: string;
  let server: ScriptedServer;

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'svd-batch-'));
    seeds = writeSeeds(work, SCRIPTS);
    online = await onlineRun(seeds, SCRIPTS);
  });
  after(async () => {
    await server?.close();
  });

  /** prepare, run the stand-in on each file, import; until prepare says done. Returns the waves' request files. */
  async function waves(runsDir: string, standIn: string[] = [], maxLines = 4): Promise<{ run: string; files: string[][]; imports: { failed: number }[] }> {
    const all: string[][] = [];
    const imports: { failed: number }[] = [];
    for (let wave = 1; wave <= 40; wave++) {
      const out = path.join(work, `out-${path.basename(path.dirname(runsDir))}-${wave}`);
      const prepare = await runCli(['batch', 'prepare', seeds, ...METHOD, '--runs-dir', runsDir, '--out', out, '--max-lines', String(maxLines), '--json']);
      assert.equal(prepare.code, 0, prepare.stderr);
      const prepared = JSON.parse(prepare.stdout) as Prepared;
      if (prepared.done) {
        assert.deepEqual(prepared.files, []);
        return { run: prepared.run, files: all, imports };
      }
      assert.ok(prepared.files.length > 0, `wave ${wave} wrote no file but the run is not done`);
      all.push(prepared.files);
      const outputs: string[] = [];
      for (const file of prepared.files) {
        const output = file.replace(/\.jsonl$/, '.out.jsonl');
        // Not spawnSync: the scripted server answering the stand-in lives in this process.
        await standInRun(['-i', file, '-o', output, '--url', server.url, ...standIn]);
        outputs.push(output);
      }
      const imported = await runCli(['batch', 'import', prepared.run, ...outputs, '--runs-dir', runsDir, '--json']);
      assert.equal(imported.code, 0, imported.stderr);
      imports.push(JSON.parse(imported.stdout) as { failed: number });
    }
    throw new Error('the waves did not end');
  }

  test('the waves record what an online run records, one stage round per wave', async () => {
    server = await startScriptedServer({ handler: methodHandler(SCRIPTS) });
    const runsDir = path.join(work, 'a', 'runs');
    const { run, files } = await waves(runsDir);
    assert.equal(run, path.basename(online), 'the same run id as `svd run` derives');
    assert.deepEqual(decisions(path.join(runsDir, run)), decisions(online));
    // Generation, then rounds of the cascade: more than one wave, and the first asks only for candidates.
    assert.ok(files.length >= 5, `${files.length} waves`);
    const first = files[0]!.flatMap((file) => jsonLines<{ custom_id: string; method: string; url: string; body: { n?: number } }>(file));
    assert.equal(first.length, SCRIPTS.length * 3);
    for (const line of first) {
      assert.match(line.custom_id, new RegExp(`^${run}\\|cand:q\\d+#\\d$`));
      assert.equal(line.method, 'POST');
      assert.equal(line.url, '/v1/chat/completions');
      assert.equal(line.body.n, undefined);
    }
    // Split at --max-lines: 18 requests in files of at most 4.
    assert.equal(files[0]!.length, 5);
    const later = files.slice(1).flat().flatMap((file) => jsonLines<{ custom_id: string }>(file).map((line) => line.custom_id));
    assert.ok(later.some((id) => /\|vote:q\d+#\d:cycle:infer:\d$/.test(id)));
    assert.ok(later.some((id) => /\|vote:q\d+#\d:correctness:judge:\d$/.test(id)));
    // Each sample asked once: no answer was lost or asked twice.
    assert.equal(new Set(later).size, later.length);
    // Early exit: seed q2 has no right candidate, its correctness never asked for the wrong ones' cascade past factuality.
    const status = await runCli(['status', run, '--runs-dir', runsDir, '--json']);
    assert.equal(status.code, 0, status.stderr);
  });

  test('failed lines (vLLM shape) and output out of order: asked again in the next wave, same outcomes', async () => {
    // Answers the same whatever the order asked: a failed line shifts the stand-in's count of a seed's samples.
    const uniform: SeedScript[] = [SCRIPTS[0]!, SCRIPTS[3]!, { question: 'What is 5 + 5?', answers: ['invalid', 'invalid', 'invalid'] }];
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-batch-uniform-'));
    const uniformSeeds = writeSeeds(dir, uniform);
    const reference = decisions(await onlineRun(uniformSeeds, uniform));
    await server?.close();
    server = await startScriptedServer({ handler: methodHandler(uniform) });
    seeds = uniformSeeds;
    const runsDir = path.join(work, 'b', 'runs');
    const { run, files, imports } = await waves(runsDir, ['--fail-every', '4', '--reverse'], 50);
    assert.ok(imports.some((i) => i.failed > 0), 'some lines failed');
    const asked = files.flat().flatMap((file) => jsonLines<{ custom_id: string }>(file).map((line) => line.custom_id));
    assert.ok(asked.length > new Set(asked).size, 'failed requests were asked again');
    assert.deepEqual(decisions(path.join(runsDir, run)).outcomes, reference.outcomes);
  });

  test('import: a line of another run, or not a result line, fails naming the file and line', async () => {
    const runsDir = path.join(work, 'a', 'runs');
    const run = path.basename(online);
    const bad = path.join(work, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify({ custom_id: 'other-run|cand:q0#0', response: { status_code: 200, body: {} }, error: null })}\n`);
    const other = await runCli(['batch', 'import', run, bad, '--runs-dir', runsDir]);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /bad\.jsonl:1: custom_id "other-run\|cand:q0#0" names no sample of run/);
    writeFileSync(bad, '{"custom_id": 7}\n');
    const shape = await runCli(['batch', 'import', run, bad, '--runs-dir', runsDir]);
    assert.equal(shape.code, 2);
    assert.match(shape.stderr, /bad\.jsonl:1: not a batch result line: custom_id/);
    const missing = await runCli(['batch', 'import', 'no-such-run', bad, '--runs-dir', runsDir]);
    assert.equal(missing.code, 8);
  });

  test('a run that mixes a batch wave and online requests prices each at its own rate', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-batch-mixed-'));
    const mixedSeeds = writeSeeds(dir, SCRIPTS);
    await server?.close();
    server = await startScriptedServer({ handler: methodHandler(SCRIPTS) });
    const runsDir = path.join(dir, 'runs');
    const prices = path.join(dir, 'prices.json');
    // A dollar a token either way, half off in a batch.
    writeFileSync(prices, JSON.stringify({ prices: { 'test-model': { promptPerMillion: 1e6, completionPerMillion: 1e6, batchDiscount: 0.5 } } }));
    // The candidates through a batch, then the rest online: the same run.
    const prepare = await runCli(['batch', 'prepare', mixedSeeds, ...METHOD, '--runs-dir', runsDir, '--out', path.join(dir, 'out'), '--json']);
    assert.equal(prepare.code, 0, prepare.stderr);
    const prepared = JSON.parse(prepare.stdout) as Prepared;
    const outputs = prepared.files.map((file) => file.replace(/\.jsonl$/, '.out.jsonl'));
    for (const [i, file] of prepared.files.entries()) await standInRun(['-i', file, '-o', outputs[i]!, '--url', server.url]);
    const imported = await runCli(['batch', 'import', prepared.run, ...outputs, '--runs-dir', runsDir, '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    const online = await runCli(['run', mixedSeeds, '--base-url', server.url, ...METHOD, '--runs-dir', runsDir, '--prices', prices, '--json']);
    assert.equal(online.code, 0, online.stderr);
    assert.equal((JSON.parse(online.stdout.trim().split('\n').pop()!) as { runId: string }).runId, prepared.run);
    const status = await runCli(['status', prepared.run, '--runs-dir', runsDir, '--prices', prices, '--json']);
    assert.equal(status.code, 0, status.stderr);
    type Counts = { promptTokens: number; completionTokens: number; batch?: { promptTokens: number; completionTokens: number } };
    const { usage, cost } = JSON.parse(status.stdout) as { usage: Record<string, Counts>; cost: { total: number; batchTotal?: number; perStage: Record<string, number> } };
    const tokens = (c: { promptTokens: number; completionTokens: number } | undefined) => (c ? c.promptTokens + c.completionTokens : 0);
    // The candidates came from the batch, every vote online.
    assert.equal(tokens(usage.generate!.batch), tokens(usage.generate));
    assert.ok(tokens(usage.generate) > 0);
    for (const purpose of ['cycle', 'factuality', 'correctness']) assert.equal(usage[purpose]!.batch, undefined, purpose);
    assert.ok(tokens(usage.cycle) > 0);
    assert.equal(cost.perStage.generate, tokens(usage.generate) / 2);
    assert.equal(cost.perStage.cycle, tokens(usage.cycle));
    assert.equal(cost.batchTotal, tokens(usage.generate) / 2);
    assert.equal(cost.total, tokens(usage.total) - tokens(usage.generate) / 2);
  });
});
