import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRunConfig } from '../../../../../src/core/base/config';
import { importBatch, runWave, type BatchRunSpec } from '../../../../../src/core/method/batch/wave';
import type { RequestLine } from '../../../../../src/core/method/batch/lines';
import { requestCostBound } from '../../../../../src/core/method/budget';

const PROMPTS = path.resolve(__dirname, '../../../../fixtures/prompts');

function setUp(): { dir: string; spec: BatchRunSpec } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-wave-run-'));
  const seeds = path.join(dir, 'seeds.jsonl');
  writeFileSync(seeds, ['What is 2 + 2?', 'What is 3 + 3?'].map((question, i) => JSON.stringify({ id: `q${i}`, domain: 'math', question })).join('\n') + '\n');
  const config = parseRunConfig({ candidates: 3, votes: 2, promptsDir: PROMPTS, audit: 'off' });
  return { dir, spec: { seedsFile: seeds, config, model: 'm', runsDir: path.join(dir, 'runs') } };
}

const requests = (files: string[]) => files.flatMap((f) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RequestLine));
const events = (runDir: string) => readFileSync(path.join(runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; state?: string });

/** OpenAI output lines answering every request with `text`. */
function answer(dir: string, lines: RequestLine[], text: (line: RequestLine) => string): string {
  const file = path.join(dir, `out-${Math.random().toString(36).slice(2)}.jsonl`);
  const body = (content: string) => ({ choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 4 } });
  writeFileSync(file, lines.map((line) => JSON.stringify({ id: 'b', custom_id: line.custom_id, response: { status_code: 200, body: body(text(line)) }, error: null })).join('\n') + '\n');
  return file;
}

describe('runWave', () => {
  test('the first wave asks for the candidates only; the seeds wait, no error recorded, the session stopped', async () => {
    const { dir, spec } = setUp();
    const wave = await runWave({ spec, out: { dir: path.join(dir, 'out') } });
    assert.equal(wave.wave, 1);
    assert.equal(wave.done, false);
    assert.equal(wave.seedsDone, 0);
    const ids = requests(wave.files).map((l) => l.custom_id.split('|')[1]);
    assert.deepEqual(ids, ['cand:q0#0', 'cand:q0#1', 'cand:q0#2', 'cand:q1#0', 'cand:q1#1', 'cand:q1#2']);
    const record = events(wave.dir);
    assert.equal(record.filter((e) => e.type === 'error').length, 0);
    assert.equal(record.filter((e) => e.type === 'run').at(-1)?.state, 'stopped');
    // Nothing answered: the next wave asks the same again.
    const again = await runWave({ spec, out: { dir: path.join(dir, 'out') } });
    assert.equal(again.wave, 2);
    assert.deepEqual(requests(again.files).map((l) => l.custom_id), requests(wave.files).map((l) => l.custom_id));
  });

  test('once the candidates are answered, the next wave asks the first stage of the first valid candidate only', async () => {
    const { dir, spec } = setUp();
    const first = await runWave({ spec, out: { dir: path.join(dir, 'out') } });
    // Each candidate's own text: equal texts would share their judges' answers through the response cache.
    const output = answer(dir, requests(first.files), (line) => `Step by step (${line.custom_id}).\n\nThe answer is \\boxed{4}.`);
    const imported = await importBatch({ runDir: first.dir, files: [output] });
    assert.equal(imported.imported, 6);
    assert.equal(imported.pending, 4, 'v infer requests for candidate 0 of each seed');
    const second = await runWave({ spec, out: { dir: path.join(dir, 'out') } });
    const ids = requests(second.files).map((l) => l.custom_id.split('|')[1]);
    assert.deepEqual(ids, ['vote:q0#0:cycle:infer:0', 'vote:q0#0:cycle:infer:1', 'vote:q1#0:cycle:infer:0', 'vote:q1#0:cycle:infer:1']);
    // A judge that says nothing usable rejects candidate 0 at the cycle: the next wave moves to candidate 1.
    const inferred = answer(dir, requests(second.files), () => 'What is 2 + 2?');
    await importBatch({ runDir: second.dir, files: [inferred] });
    const third = await runWave({ spec, out: { dir: path.join(dir, 'out') } });
    assert.ok(requests(third.files).every((l) => /:cycle:compare:\d$/.test(l.custom_id)));
    const compared = answer(dir, requests(third.files), () => 'They differ.\n\n[[N]]');
    await importBatch({ runDir: third.dir, files: [compared] });
    const fourth = await runWave({ spec, out: { dir: path.join(dir, 'out') } });
    assert.deepEqual([...new Set(requests(fourth.files).map((l) => /#(\d):cycle:infer:/.exec(l.custom_id)![1]))], ['1']);
    assert.equal(fourth.done, false);
  });

  test('a budget: the wave writes the requests that fit at the batch price, each kept reserved, then stops for budget', async () => {
    const { dir, spec } = setUp();
    const reference = await runWave({ spec: { ...spec, runsDir: path.join(dir, 'reference') }, out: { dir: path.join(dir, 'ref-out') } });
    const body = requests(reference.files)[0]!.body;
    const price = { promptPerMillion: 1_000_000, completionPerMillion: 1_000_000, batchDiscount: 0.5 };
    // A seed's candidates are one request for 3 samples. Room for one seed's at the batch price and a half: at the
    // online price (twice as much) not even one would fit; without its reservation kept, both seeds' would.
    const seedBound = requestCostBound(price, { messages: body.messages, maxTokens: body.max_tokens }, 3, true);
    const wave = await runWave({ spec, out: { dir: path.join(dir, 'out') }, cost: { price, maxUsd: seedBound * 1.5 } });
    assert.equal(wave.stopReason, 'budget');
    assert.equal(wave.done, false);
    assert.equal(requests(wave.files).length, 3);
    assert.deepEqual([...new Set(requests(wave.files).map((l) => /cand:(q\d)#/.exec(l.custom_id)![1]))].length, 1);
    const runs = events(wave.dir).filter((e) => e.type === 'run');
    assert.equal(runs.at(-1)?.state, 'stopped');
  });
});
