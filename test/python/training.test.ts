// Training for real: `svd train --trainer trl` runs the project's TRL script with the real trl, transformers and torch
// (CPU) on a tiny Qwen3 built here (random weights, a tokenizer trained on the run's export, a chat template that
// keeps the thinking of the trained turn), full and LoRA, for a few steps; the loss reaches the run's record the way
// the Runs view and the review's chart read it. Then one exported row, tokenised by the script's own trainer, shows
// the thinking inside the tokens that carry loss and the prompt outside; every export format loads with
// `datasets`; the LLaMA-Factory YAML and dataset_info.json are read by LLaMA-Factory's rules.
// The Python side is a pinned venv under the test cache (venv.sh). Without python3 the tests are skipped with a
// message, except in CI, where they fail.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRunConfig } from '../../src/core/base/config';
import { runPipeline } from '../../src/core/method/pipeline';
import { MetricsSeries } from '../../src/core/training/metricsSeries';
import { readTraining, trainingSummary } from '../../src/core/training/record';
import { CLI, ROOT, runCli } from '../fixtures/cli';
import { methodHandler, startScriptedServer, type SeedScript } from '../fixtures/scripted-server';
import { pythonForTests } from './python';

const python = pythonForTests();
const HERE = path.join(ROOT, 'test/python');

function py(args: string[]): string {
  const r = spawnSync(python.path!, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, HF_HUB_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' } });
  assert.equal(r.status, 0, `${args[0]} failed:\n${r.stderr}`);
  return r.stdout.trim().split('\n').pop()!;
}

const SEEDS: SeedScript[] = [
  { question: 'What is 2 + 2?' },
  { question: 'What is 3 + 5?' },
  { question: 'What is 7 times 6?' },
  { question: 'What is 10 minus 4?' },
];

describe('training with the real TRL on a tiny Qwen3', { skip: python.skip }, () => {
  let dir: string;
  let runDir: string;
  let model: string;
  const env = { HF_HUB_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' };

  before(async () => {
    assert.equal(spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT }).status, 0);
    assert.ok(existsSync(CLI));
    dir = mkdtempSync(path.join(os.tmpdir(), 'svd-trl-'));
    const server = await startScriptedServer({ handler: methodHandler(SEEDS) });
    const seeds = path.join(dir, 'seeds.jsonl');
    writeFileSync(seeds, SEEDS.map((s, i) => JSON.stringify({ id: `q${i}`, domain: 'math', question: s.question })).join('\n') + '\n');
    try {
      const result = await runPipeline({
        seedsFile: seeds,
        runsDir: path.join(dir, 'runs'),
        runId: 'r',
        config: parseRunConfig({ promptsDir: path.join(ROOT, 'test/fixtures/prompts'), candidates: 1, votes: 1 }),
        endpoint: { baseURL: server.url, model: 'tiny', engine: 'server' },
      });
      assert.equal(result.accepted, SEEDS.length);
      runDir = result.dir;
    } finally {
      await server.close();
    }
    // The tokenizer learns the export's own text, so a row is a few hundred tokens, not thousands of bytes.
    const corpus = path.join(dir, 'corpus.jsonl');
    const exported = await runCli(['export', runDir, '--format', 'openai', '--out', corpus]);
    assert.equal(exported.code, 0, exported.stderr);
    // A name that says Qwen3 (LLaMA-Factory picks its template by it) and no size (so the flags must give the numbers).
    model = path.join(dir, 'tiny-qwen3');
    const built = JSON.parse(py([path.join(HERE, 'build_tiny_model.py'), model, corpus])) as { parameters: number };
    assert.ok(built.parameters < 200_000, `a tiny model: ${built.parameters} parameters`);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const train = (extra: string[]) =>
    runCli(['train', runDir, '--trainer', 'trl', '--base-model', model, '--python', python.path!, '--max-steps', '4', '--learning-rate', '0.003', '--batch-size', '2', '--max-length', '1024', ...extra], { env });

  test('a model folder whose name tells no size is refused until the steps and the learning rate are given', async () => {
    const r = await runCli(['train', runDir, '--trainer', 'trl', '--base-model', model, '--python', python.path!, '--dry-run']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--max-steps and --learning-rate/);
  });

  for (const lora of [false, true]) {
    test(`${lora ? 'LoRA' : 'full'}: four steps, the loss per step in train/metrics.jsonl, the Runs view and the chart`, async (t) => {
      const started = Date.now();
      const r = await train(lora ? ['--lora'] : []);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const record = readTraining(runDir)!;
      assert.equal(record.status, 'succeeded', record.error);
      assert.equal(record.totalSteps, 4);
      const lines = readFileSync(path.join(runDir, 'train', 'metrics.jsonl'), 'utf8').trim().split('\n');
      const points = lines.map((line) => JSON.parse(line) as { step: number; loss?: number; learningRate?: number });
      const losses = points.filter((p) => p.loss !== undefined);
      assert.deepEqual(losses.map((p) => p.step), [1, 2, 3, 4]);
      for (const p of losses) assert.ok(Number.isFinite(p.loss) && p.loss! > 0, `a real loss at step ${p.step}`);
      assert.equal(losses[0]!.learningRate, 0.003);
      // What the review's chart draws and what the Runs view says, read as the editor reads them.
      const series = MetricsSeries.ofRun(runDir);
      series.refresh();
      assert.deepEqual(series.series().map((p) => [p.step, p.loss]), losses.map((p) => [p.step, p.loss]));
      assert.match(trainingSummary(record), /succeeded/);
      const saved = readdirSync(record.outputDir!);
      assert.ok(saved.includes(lora ? 'adapter_model.safetensors' : 'model.safetensors'), saved.join(', '));
      const config = JSON.parse(readFileSync(path.join(runDir, 'train', 'sft_config.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(config.max_length, 1024);
      assert.equal(config.logging_steps, 1);
      t.diagnostic(`${lora ? 'LoRA' : 'full'} loss per step: ${losses.map((p) => `${p.step}:${p.loss}`).join(' ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    });
  }

  test('one exported row, tokenised by the script\'s own trainer: the <think> trace carries loss, the prompt does not', async () => {
    const r = await train(['--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    const row = JSON.parse(
      py([path.join(HERE, 'tokenised_row.py'), path.join(runDir, 'train', 'train_sft.py'), path.join(runDir, 'train', 'sft_config.json')]),
    ) as { loss_text: string; masked_text: string; first_loss_index: number; tokens: number; loss_tokens: number };
    assert.ok(row.first_loss_index > 0 && row.loss_tokens < row.tokens);
    // The completion: the whole sample, thinking first, as the method trains on it.
    assert.match(row.loss_text, /^<think>\nWorking on seed 0, candidate 0: set up the problem and check each step\.\n<\/think>/);
    assert.match(row.loss_text, /\\boxed\{7\}/);
    assert.match(row.loss_text, /<\|im_end\|>/);
    // The prompt: the question and the chat markup around it, none of it learned.
    assert.match(row.masked_text, /What is 2 \+ 2\?/);
    assert.match(row.masked_text, /<\|im_start\|>user\n/);
    assert.doesNotMatch(row.masked_text, /Working on seed|<think>|The answer is/);
    assert.doesNotMatch(row.loss_text, /What is 2 \+ 2\?/);
  });

  test('every export format loads with datasets.load_dataset("json"), and the LLaMA-Factory files read by the rules of its loader', async () => {
    const out = path.join(dir, 'exports');
    mkdirSync(out, { recursive: true });
    const files: Record<string, string[]> = {};
    for (const format of ['openai', 'trl', 'sharegpt', 'alpaca']) {
      const r = await runCli(['export', runDir, '--format', format, '--out', path.join(out, `${format}.jsonl`), '--val-fraction', '0.5', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as { files: { path: string; rows: number }[] };
      files[format] = summary.files.map((f) => f.path);
    }
    const lf = await runCli(['train', runDir, '--trainer', 'llamafactory', '--base-model', model, '--max-steps', '2', '--learning-rate', '1e-4', '--lora', '--val-fraction', '0.5', '--dry-run']);
    assert.equal(lf.code, 0, lf.stderr);
    const yaml = lf.stdout.split('\n').find((l) => l.startsWith('file\t'))!.slice(5);
    const result = JSON.parse(py([path.join(HERE, 'load_exports.py'), JSON.stringify({ files, llamafactory_yaml: yaml })])) as {
      files: Record<string, { rows: number; columns: string[]; first: Record<string, unknown> }[]>;
      llamafactory: { config: Record<string, unknown>; datasets: Record<string, { formatting: string; rows: number; broken: string[]; first: { prompt: string[]; response: string[] } }> };
    };
    const expected: Record<string, string[]> = { openai: ['messages'], trl: ['completion', 'prompt'], sharegpt: ['conversations'], alpaca: ['input', 'instruction', 'output'] };
    for (const [format, columns] of Object.entries(expected)) {
      const loaded = result.files[format]!;
      assert.equal(loaded.length, 2, `${format}: train and validation files`);
      assert.equal(loaded.reduce((sum, f) => sum + f.rows, 0), SEEDS.length, format);
      for (const f of loaded) if (f.rows > 0) assert.deepEqual(f.columns, columns, format);
    }
    const openaiRow = result.files.openai!.find((f) => f.rows > 0)!.first as { messages: { role: string; content: string }[] };
    assert.match(openaiRow.messages.at(-1)!.content, /^<think>/);

    const config = result.llamafactory.config;
    assert.equal(config.stage, 'sft');
    assert.equal(config.finetuning_type, 'lora');
    assert.equal(config.template, 'qwen3');
    assert.equal(config.max_steps, 2);
    assert.equal(config.learning_rate, 0.0001, 'a float, not the string "1e-04"');
    assert.equal(typeof config.cutoff_len, 'number');
    const sets = Object.values(result.llamafactory.datasets);
    assert.equal(sets.length, 2, 'the train and the eval dataset');
    assert.equal(sets.reduce((sum, s) => sum + s.rows, 0), SEEDS.length);
    for (const set of sets) {
      assert.equal(set.formatting, 'sharegpt');
      assert.deepEqual(set.broken, []);
      if (set.rows > 0) {
        assert.match(set.first.response[0]!, /^<think>/);
        assert.match(set.first.prompt.at(-1)!, /What is/);
      }
    }
  });
});

test('python3 is there, or the training tests say why they are skipped', (t) => {
  if (python.skip) t.diagnostic(`skipped: ${python.skip}`);
  assert.ok(python.path !== undefined || python.skip !== undefined);
});
