// `svd train` on a finished run: each trainer's files, a custom command with awkward paths, and fine-tuning
// through an OpenAI-compatible API.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRunConfig } from '../../src/core/base/config';
import { runPipeline } from '../../src/core/method/pipeline';
import { startFineTuneServer, type FineTuneServer } from '../fixtures/finetune-server';
import { methodHandler, startScriptedServer, type SeedScript } from '../fixtures/scripted-server';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');

function svd(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, SVD_API_KEY: '', OPENAI_API_KEY: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const field = (stdout: string, name: string) => stdout.split('\n').filter((l) => l.startsWith(`${name}\t`)).map((l) => l.slice(name.length + 1));

describe('svd train', () => {
  let runDir: string;
  let fineTune: FineTuneServer;

  before(async () => {
    assert.equal(spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT }).status, 0);
    // A folder with a space and a quote in its name: every path the trainers get passes through it.
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'svd-train-')), "my runs 'here'");
    mkdirSync(dir, { recursive: true });
    const scripts: SeedScript[] = [{ question: 'What is 2 + 2?' }, { question: 'What is 3 + 3?', answers: ['wrong', 'right'] }];
    const server = await startScriptedServer({ handler: methodHandler(scripts) });
    const seeds = path.join(dir, 'seeds.jsonl');
    writeFileSync(seeds, scripts.map((s, i) => JSON.stringify({ id: `q${i}`, domain: 'math', question: s.question })).join('\n') + '\n');
    try {
      const result = await runPipeline({
        seedsFile: seeds,
        runsDir: path.join(dir, 'runs'),
        runId: 'r',
        config: parseRunConfig({ promptsDir: path.join(ROOT, 'test/fixtures/prompts'), candidates: 2, votes: 1 }),
        endpoint: { baseURL: server.url, model: 'Qwen/Qwen3-0.6B', engine: 'server' },
      });
      assert.equal(result.accepted, 2);
      runDir = result.dir;
    } finally {
      await server.close();
    }
    fineTune = await startFineTuneServer({ apiKey: 'sk-ft' });
  });
  after(async () => {
    await fineTune?.close();
  });

  test('trl --dry-run writes a script that compiles and a config with the method\'s settings', async () => {
    const r = await svd(['train', runDir, '--trainer', 'trl', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    const files = field(r.stdout, 'file');
    const script = files.find((f) => f.endsWith('train_sft.py'));
    assert.ok(script && existsSync(script));
    assert.equal(spawnSync('python3', ['-m', 'py_compile', script]).status, 0);
    const config = JSON.parse(readFileSync(files.find((f) => f.endsWith('.json'))!, 'utf8')) as Record<string, number>;
    assert.equal(config.learning_rate, 3e-5);
    assert.equal(config.max_steps, 2000);
    assert.match(field(r.stdout, 'command')[0]!, /train_sft\.py/);
  });

  test('llamafactory --dry-run writes its YAML next to the ShareGPT data and dataset_info.json', async () => {
    const r = await svd(['train', runDir, '--trainer', 'llamafactory', '--base-model', 'Qwen/Qwen3-4B', '--lora', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    const yaml = field(r.stdout, 'file').find((f) => f.endsWith('.yaml'));
    assert.ok(yaml);
    const text = readFileSync(yaml, 'utf8');
    assert.match(text, /finetuning_type: "?lora"?/);
    assert.match(text, /learning_rate: 0\.0002\b/, "LoRA: ten times the full fine-tuning rate");
    assert.ok(existsSync(path.join(runDir, 'train', 'dataset_info.json')));
  });

  test('a custom command gets its arguments intact, without a shell', async () => {
    const fake = path.join(ROOT, 'test/fixtures/fake-trainer.py');
    const r = await svd(['train', runDir, '--trainer', 'custom', '--command', JSON.stringify(['python3', fake, '--data', '{data}', '--model', '{base_model}', '--out', '{output}'])]);
    assert.equal(r.code, 0, r.stderr);
    const argv = JSON.parse(/^ARGV (.*)$/m.exec(r.stderr)![1]!) as string[];
    assert.deepEqual(argv.slice(0, 2), ['--data', field(r.stdout, 'data')[0]!.split('\t').at(-1)]);
    assert.equal(argv[3], 'Qwen/Qwen3-0.6B');
    assert.ok(argv[5]!.includes("my runs 'here'"));
    assert.ok(field(r.stdout, 'metrics').some((m) => 'loss' in JSON.parse(m)));
  });

  test('openai: uploads the exported data, follows the job and prints the fine-tuned model', async () => {
    const r = await svd(['train', runDir, '--trainer', 'openai', '--base-url', fineTune.url, '--base-model', 'gpt-4.1-mini', '--epochs', '2'], { SVD_API_KEY: 'sk-ft' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(field(r.stdout, 'model')[0] ?? '', /^ft:gpt-4\.1-mini:svd:/);
    assert.equal(fineTune.files.length >= 1, true);
    assert.doesNotMatch(r.stdout + r.stderr, /sk-ft/);
  });
});
