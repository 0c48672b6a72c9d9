// The method on the embedded engine: real llama.cpp inference on a tiny random-weight GGUF, through the CLI.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sampleKey, ResponseCache } from '../../src/core/record/cache';
import { parseRunConfig } from '../../src/core/base/config';
import { EXIT_CODES } from '../../src/core/base/errors';
import type { RunEvent } from '../../src/core/record/events';
import { PromptSet } from '../../src/core/method/prompts';
import { readSeeds } from '../../src/core/method/seeds';
import { parseVerdict } from '../../src/core/method/verdict';
import { RunStreamEvent } from '../../src/protocol/cliEvents';
import { writeTinyGguf } from '../fixtures/tiny-gguf';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');
// Rows from gsm8k_test, math500 and mmlu_stem (sources in test/fixtures/seeds/README.md).
const SEEDS = path.join(ROOT, 'test/fixtures/seeds/mixed.jsonl');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function svd(args: string[], cwd: string, onStderr?: (text: string) => void): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, SVD_MODELS_DIR: path.join(cwd, 'models') } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function events(runDir: string): RunEvent[] {
  return readFileSync(path.join(runDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
}

async function mathSeeds(dir: string, count: number): Promise<string> {
  // Only the math rows: their final answer is a \boxed{} the test can plant in the cache.
  const rows: string[] = [];
  for await (const record of readSeeds({ file: SEEDS })) {
    if (record.kind === 'seed' && record.seed.domain === 'math' && rows.length < count) {
      rows.push(JSON.stringify({ id: record.seed.id, domain: 'math', question: record.seed.question }));
    }
  }
  const file = path.join(dir, 'seeds.jsonl');
  writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

describe('the method on the embedded engine (tiny random-weight model)', () => {
  let model: string;
  before(() => {
    const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    model = path.join(mkdtempSync(path.join(os.tmpdir(), 'svd-tiny-')), 'tiny.gguf');
    writeTinyGguf(model, { seed: 7 });
  });

  const engineArgs = () => ['--model-path', model, '--threads', '1', '--parallel', '2', '--context', '1024', '--candidates', '2', '--votes', '1'];

  test('a full run completes; gibberish candidates are recorded invalid with their reason', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-embedded-'));
    copyFileSync(SEEDS, path.join(dir, 'seeds.jsonl'));
    const result = await svd(['run', 'seeds.jsonl', ...engineArgs(), '--run', 'tiny', '--json'], dir);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { state: string; funnel: { seeds: number; candidates: number } };
    assert.equal(summary.state, 'finished');
    assert.equal(summary.funnel.candidates, summary.funnel.seeds * 2);
    const candidates = events(path.join(dir, '.svd/runs/tiny')).filter((e) => e.type === 'candidate');
    for (const c of candidates) {
      assert.ok(c.type === 'candidate');
      assert.ok(c.completionTokens > 0, 'real tokens were generated');
      if (!c.valid) assert.ok(c.invalidReason, 'an invalid candidate says why');
    }
  });

  test('--gpu asks for a GPU; where none is, the run goes on the CPU and says so', { skip: existsSync('/proc/driver/nvidia') }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-embedded-'));
    const seeds = await mathSeeds(dir, 1);
    const result = await svd(['run', seeds, ...engineArgs(), '--gpu', 'cuda', '--events'], dir);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /embedded engine ready: model tiny, pid \d+, CPU, 1 thread\n/);
    assert.match(result.stderr, /note: the embedded engine runs on the CPU: the CUDA build of llama\.cpp does not load on this machine \(no driver or runtime/);
    const stream = result.stdout.split('\n').filter(Boolean).map((line) => RunStreamEvent.parse(JSON.parse(line)));
    const engine = stream.find((e) => e.type === 'engine');
    assert.ok(engine?.type === 'engine', result.stdout);
    assert.equal(engine.backend, 'CPU, 1 thread');
    assert.match(engine.fallback ?? '', /CUDA/);
    const refused = await svd(['run', seeds, ...engineArgs(), '--gpu', 'rocm'], dir);
    assert.equal(refused.code, EXIT_CODES.bad_config, refused.stderr);
    assert.match(refused.stderr, /--gpu.*auto, cuda, vulkan, metal, off/);
  });

  test('judges on the tiny model: gibberish verdicts are unparseable votes, never a crash', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-embedded-'));
    const seeds = await mathSeeds(dir, 2);
    // Plant well-formed candidates in the response cache, as an earlier run would have left them, so that real
    // judge calls follow on the tiny model.
    const prompts = await PromptSet.load();
    const config = parseRunConfig({ candidates: 2, votes: 1 });
    const cache = ResponseCache.open(path.join(dir, '.svd/cache'));
    const modelName = path.basename(model, '.gguf');
    for await (const record of readSeeds({ file: seeds })) {
      if (record.kind !== 'seed') continue;
      const request = { purpose: 'generate' as const, messages: prompts.render('math', 'generate', { question: record.seed.question }), ...config.generation };
      for (let index = 0; index < 2; index++) {
        cache.put(sampleKey(modelName, request, index), {
          text: `<think>Let me compute.</think>\nThe answer is \\boxed{${index + 17}}.`,
          finishReason: 'stop',
          promptTokens: 10,
          completionTokens: 10,
        });
      }
    }
    cache.close();
    const result = await svd(['run', 'seeds.jsonl', ...engineArgs(), '--run', 'judged'], dir);
    assert.equal(result.code, 0, result.stderr);
    const recorded = events(path.join(dir, '.svd/runs/judged'));
    const candidates = recorded.filter((e) => e.type === 'candidate');
    assert.ok(candidates.every((c) => c.type === 'candidate' && c.valid && c.cached));
    const votes = recorded.flatMap((e) => (e.type === 'vote' ? [e] : []));
    assert.ok(votes.length >= 2, 'the judges were asked');
    for (const vote of votes) {
      assert.ok(vote.completionTokens > 0 || vote.step === 'compare');
      if (vote.step !== 'infer') assert.equal(vote.verdict, parseVerdict(vote.text).verdict);
    }
    assert.ok(votes.some((v) => v.verdict === 'unparseable'), 'gibberish is recorded as unparseable');
    const outcomes = recorded.filter((e) => e.type === 'outcome');
    assert.equal(outcomes.length, 2);
  });

  test('the engine killed mid-run: a clear error, the run intact, and a rerun finishes it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-embedded-'));
    copyFileSync(SEEDS, path.join(dir, 'seeds.jsonl'));
    let killed = false;
    const first = await svd(['run', 'seeds.jsonl', ...engineArgs(), '--run', 'crash', '--events'], dir, (stderr) => {
      const pid = /embedded engine ready: .*pid (\d+)/.exec(stderr)?.[1];
      if (pid && !killed) {
        killed = true;
        // Let a request get under way, then take the engine down.
        setTimeout(() => process.kill(Number(pid), 'SIGKILL'), 1500);
      }
    });
    assert.ok(killed);
    assert.equal(first.code, EXIT_CODES.engine, first.stderr);
    assert.match(first.stderr, /embedded engine stopped unexpectedly/);
    // The stream says the same, in events of its schema: the engine that served, then the error that ended it.
    const stream = first.stdout.split('\n').filter(Boolean).map((line) => RunStreamEvent.parse(JSON.parse(line)));
    const engine = stream.find((e) => e.type === 'engine');
    assert.ok(engine?.type === 'engine' && engine.pid > 0, first.stdout);
    const last = stream.at(-1);
    assert.ok(last?.type === 'error' && last.code === 'engine' && last.exitCode === EXIT_CODES.engine, first.stdout);
    const second = await svd(['run', 'seeds.jsonl', ...engineArgs(), '--run', 'crash', '--json'], dir);
    assert.equal(second.code, 0, second.stderr);
    const recorded = events(path.join(dir, '.svd/runs/crash'));
    const ids = recorded.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'nothing recorded twice');
    const seeds = recorded.filter((e) => e.type === 'seed').length;
    assert.equal(recorded.filter((e) => e.type === 'outcome').length, seeds);
    assert.ok(recorded.some((e) => e.type === 'run' && e.state === 'stopped'));
  });
});
