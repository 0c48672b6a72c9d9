import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { isSvdError } from '../../../../src/core/base/errors';
import { expandTemplate, launchTrainer, TrainLogParser, type TrainMetrics } from '../../../../src/core/training/launcher';
import { defaultsForModel, pythonPreflight, writeTrainerFiles } from '../../../../src/core/training/trainers';
import { pidAlive } from '../../../fixtures/processes';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'svd trainers "q" '));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let folders = 0;
const freshDir = () => fs.mkdtempSync(path.join(root, `${++folders}-`));
const FAKE = path.resolve(__dirname, '../../../fixtures/fake-trainer.py');
const hasYaml = spawnSync('python3', ['-c', 'import yaml']).status === 0;

/** Enough YAML for the flat key: value file we write: JSON-quoted strings, numbers, booleans. */
function parseFlatYaml(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const match = /^([a-z0-9_]+): (.*)$/.exec(line);
    assert.ok(match, `not a key: value line: ${line}`);
    const raw = match[2]!;
    out[match[1]!] = raw === 'true' ? true : raw === 'false' ? false : raw.startsWith('"') ? JSON.parse(raw) : Number(raw);
  }
  return out;
}

describe('defaultsForModel', () => {
  it('picks the method row by parameter count', () => {
    assert.deepEqual(defaultsForModel('Qwen/Qwen3-0.6B'), {
      maxSteps: 2000,
      learningRate: 3e-5,
      batchSize: 64,
      scheduler: 'cosine',
      optimizer: 'adamw_torch',
    });
    assert.equal(defaultsForModel('Qwen/Qwen3-1.7B').learningRate, 3e-5);
    assert.equal(defaultsForModel('Qwen/Qwen3-4B-Instruct-2507').maxSteps, 4000);
    assert.equal(defaultsForModel('qwen3-4b').learningRate, 2e-5);
    assert.equal(defaultsForModel('Qwen/Qwen3-8B').learningRate, 5e-6);
    assert.equal(defaultsForModel('Qwen/Qwen3-14B').maxSteps, 2000);
    assert.equal(defaultsForModel('/models/8b-old/Qwen3-0.6B').learningRate, 3e-5, 'only the last path segment counts');
    assert.equal(defaultsForModel('tiny-500M').learningRate, 3e-5);
  });

  it('refuses a name without a size', () => {
    assert.throws(() => defaultsForModel('./my-model'), (e) => isSvdError(e, 'bad_config'));
  });
});

describe('writeTrainerFiles: trl', () => {
  it('writes a script that compiles and a config with the method numbers', () => {
    const dir = freshDir();
    const result = writeTrainerFiles({
      trainer: 'trl',
      runDir: dir,
      baseModel: 'Qwen/Qwen3-4B',
      dataFile: path.join(dir, 'data "x".train.jsonl'),
      validationFile: path.join(dir, 'data "x".val.jsonl'),
      outputDir: path.join(dir, 'out dir'),
      lora: true,
    });
    const script = path.join(dir, 'train', 'train_sft.py');
    const configFile = path.join(dir, 'train', 'sft_config.json');
    assert.deepEqual(result.files, [script, configFile]);
    assert.deepEqual(result.command, { executable: 'python3', args: [script, '--config', configFile] });
    execFileSync('python3', ['-m', 'py_compile', script]);
    const source = fs.readFileSync(script, 'utf8');
    for (const needle of ['SFTTrainer', 'SFTConfig', 'load_dataset("json"', 'LoraConfig', '--config']) {
      assert.ok(source.includes(needle), needle);
    }
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    assert.equal(config.model, 'Qwen/Qwen3-4B');
    assert.equal(config.train_file, path.join(dir, 'data "x".train.jsonl'));
    assert.equal(config.validation_file, path.join(dir, 'data "x".val.jsonl'));
    assert.equal(config.output_dir, path.join(dir, 'out dir'));
    assert.equal(config.max_steps, 4000);
    assert.equal(config.learning_rate, 2e-4, "LoRA: ten times the method's full fine-tuning rate for 4B");
    assert.equal((config.per_device_train_batch_size as number) * (config.gradient_accumulation_steps as number), 64);
    assert.equal(config.lr_scheduler_type, 'cosine');
    assert.equal(config.optim, 'adamw_torch');
    assert.equal(config.bf16, true);
    assert.ok((config.logging_steps as number) > 0 && (config.save_steps as number) > 0);
    assert.equal(config.eval_strategy, 'steps');
    assert.deepEqual(Object.keys(config.lora as object).sort(), ['lora_alpha', 'lora_dropout', 'r', 'target_modules']);
  });

  it('keeps a learning rate the user gives, LoRA or not', () => {
    const dir = freshDir();
    for (const lora of [true, false]) {
      writeTrainerFiles({ trainer: 'trl', runDir: dir, baseModel: 'Qwen3-0.6B', dataFile: 'd', outputDir: 'o', lora, overrides: { learningRate: 7e-5 } });
      const config = JSON.parse(fs.readFileSync(path.join(dir, 'train', 'sft_config.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(config.learning_rate, 7e-5, `lora ${lora}`);
    }
    writeTrainerFiles({ trainer: 'trl', runDir: dir, baseModel: 'Qwen3-0.6B', dataFile: 'd', outputDir: 'o' });
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'train', 'sft_config.json'), 'utf8')).learning_rate, 3e-5);
  });

  it('launches under accelerate with more than one process, keeping the global batch', () => {
    const dir = freshDir();
    const result = writeTrainerFiles({
      trainer: 'trl',
      runDir: dir,
      baseModel: 'Qwen/Qwen3-8B',
      dataFile: path.join(dir, 'd.jsonl'),
      outputDir: path.join(dir, 'o'),
      processes: 4,
      overrides: { maxSteps: 10 },
    });
    const script = path.join(dir, 'train', 'train_sft.py');
    const configFile = path.join(dir, 'train', 'sft_config.json');
    assert.deepEqual(result.command, {
      executable: 'accelerate',
      args: ['launch', '--num_processes', '4', script, '--config', configFile],
    });
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, number | null>;
    assert.equal(config.per_device_train_batch_size! * config.gradient_accumulation_steps! * 4, 64);
    assert.equal(config.max_steps, 10);
    assert.equal(config.learning_rate, 5e-6);
    assert.equal(config.lora, null);
    assert.equal(config.validation_file, null);
    assert.throws(
      () => writeTrainerFiles({ trainer: 'trl', runDir: dir, baseModel: 'Qwen3-8B', dataFile: 'd', outputDir: 'o', processes: 3 }),
      (e) => isSvdError(e, 'bad_config'),
    );
  });
});

describe('writeTrainerFiles: llamafactory', () => {
  function sharegptFolder(): string {
    const dir = freshDir();
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    const entry = (file: string) => ({ file_name: file, formatting: 'sharegpt', columns: { messages: 'conversations' } });
    fs.writeFileSync(
      path.join(data, 'dataset_info.json'),
      JSON.stringify({ other: entry('other.jsonl'), 'svd "run"': entry('svd.train.jsonl'), svd_val: entry('svd.val.jsonl') }),
    );
    return dir;
  }

  it('writes a YAML file with the dataset_info name and the method numbers', () => {
    const dir = sharegptFolder();
    const result = writeTrainerFiles({
      trainer: 'llamafactory',
      runDir: dir,
      baseModel: 'Qwen/Qwen3-8B',
      dataFile: path.join(dir, 'data', 'svd.train.jsonl'),
      validationFile: path.join(dir, 'data', 'svd.val.jsonl'),
      outputDir: path.join(dir, "out: it's"),
      lora: true,
    });
    const yamlFile = path.join(dir, 'train', 'llamafactory_sft.yaml');
    assert.deepEqual(result.files, [yamlFile]);
    assert.deepEqual(result.command, { executable: 'llamafactory-cli', args: ['train', yamlFile] });
    const text = fs.readFileSync(yamlFile, 'utf8');
    const parsed = parseFlatYaml(text);
    const expected = {
      stage: 'sft',
      do_train: true,
      model_name_or_path: 'Qwen/Qwen3-8B',
      finetuning_type: 'lora',
      dataset: 'svd "run"',
      eval_dataset: 'svd_val',
      dataset_dir: path.join(dir, 'data'),
      template: 'qwen3',
      output_dir: path.join(dir, "out: it's"),
      learning_rate: 5e-5,
      max_steps: 2000,
      lr_scheduler_type: 'cosine',
      bf16: true,
    };
    for (const [key, value] of Object.entries(expected)) assert.deepEqual(parsed[key], value, key);
    assert.equal((parsed.per_device_train_batch_size as number) * (parsed.gradient_accumulation_steps as number), 64);
    assert.ok((parsed.cutoff_len as number) > 0 && (parsed.logging_steps as number) > 0);
    assert.doesNotMatch(text, /\d[eE]-/, 'PyYAML reads 5e-06 as a string');
    if (hasYaml) {
      const viaPython = execFileSync('python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', yamlFile]);
      assert.deepEqual(JSON.parse(viaPython.toString()), parsed);
    }
  });

  it('runs under torchrun for several GPUs and refuses a file the export did not register', () => {
    const dir = sharegptFolder();
    const base = { trainer: 'llamafactory' as const, runDir: dir, baseModel: 'Qwen/Qwen3-0.6B', outputDir: path.join(dir, 'o') };
    const result = writeTrainerFiles({ ...base, dataFile: path.join(dir, 'data', 'svd.train.jsonl'), processes: 2 });
    assert.deepEqual(result.command.env, { FORCE_TORCHRUN: '1', NPROC_PER_NODE: '2' });
    const parsed = parseFlatYaml(fs.readFileSync(result.files[0]!, 'utf8'));
    assert.equal(parsed.finetuning_type, 'full');
    assert.equal((parsed.per_device_train_batch_size as number) * (parsed.gradient_accumulation_steps as number) * 2, 64);
    assert.throws(() => writeTrainerFiles({ ...base, dataFile: path.join(dir, 'data', 'nope.jsonl') }), (e) => isSvdError(e, 'not_found'));
    assert.throws(
      () => writeTrainerFiles({ ...base, baseModel: 'meta/Other-7B', dataFile: path.join(dir, 'data', 'svd.train.jsonl') }),
      (e) => isSvdError(e, 'bad_config'),
    );
  });
});

describe('launchTrainer', () => {
  const tricky = ['--data', path.join(root, 'my data', 'a "quoted" file.jsonl'), "it's", '$HOME', '*', '', 'a;b|c'];

  it('passes arguments intact and reports metrics in order', async () => {
    const lines: string[] = [];
    const metrics: TrainMetrics[] = [];
    const result = await launchTrainer({
      executable: 'python3',
      args: [FAKE, ...tricky],
      cwd: root,
      onLine: (line) => lines.push(line),
      onMetrics: (m) => metrics.push(m),
    });
    assert.deepEqual(result, { exitCode: 0, signal: null, cancelled: false });
    const argvLine = lines.find((line) => line.startsWith('ARGV '));
    assert.ok(argvLine, lines.join('\n'));
    assert.deepEqual(JSON.parse(argvLine.slice('ARGV '.length)), tricky);
    // Progress bars come on stderr and logged dicts on stdout, which no OS keeps in order relative to each other:
    // the step a loss is paired with is checked apart from the values themselves.
    assert.deepEqual(
      metrics.filter((m) => m.loss !== undefined).map(({ loss, learningRate, epoch }) => ({ loss, learningRate, epoch })),
      [
        { loss: 1.2345, learningRate: 2.9e-5, epoch: 0.12 },
        { loss: 0.9876, learningRate: 2.5e-5, epoch: 0.24 },
        { loss: 0.7, learningRate: 1.5e-5, epoch: 0.36 },
      ],
    );
    for (const step of [10, 20, 30]) assert.ok(metrics.some((m) => m.step === step), `step ${step} seen`);
    assert.deepEqual(
      metrics.filter((m) => m.loss === undefined).map((m) => m.step),
      [10, 20, 30],
      'the dataset Map bar is not a step',
    );
  });

  it('returns the exit code and rejects a missing executable', async () => {
    const result = await launchTrainer({ executable: 'python3', args: [FAKE], cwd: root, env: { FAKE_EXIT: '3' } });
    assert.deepEqual(result, { exitCode: 3, signal: null, cancelled: false });
    await assert.rejects(
      launchTrainer({ executable: path.join(root, 'no such trainer'), args: [], cwd: root }),
      (e) => isSvdError(e, 'not_found'),
    );
  });

  it('cancel stops the trainer and the processes it started', async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    const result = await launchTrainer({
      executable: 'python3',
      args: [FAKE],
      cwd: root,
      env: { FAKE_SLEEP: '30', FAKE_GRANDCHILD: '1' },
      signal: controller.signal,
      onLine: (line) => {
        lines.push(line);
        if (line === 'READY') controller.abort();
      },
    });
    assert.equal(result.cancelled, true);
    assert.equal(result.exitCode, 143);
    assert.ok(lines.includes('terminated'), lines.join('\n'));
    const childPid = Number(lines.find((line) => line.startsWith('CHILD '))!.slice(6));
    // Up to 5 s: a loaded machine may take a while to deliver the kill.
    const running = () => pidAlive(childPid);
    let alive = running();
    for (let i = 0; i < 250 && alive; i++) {
      await new Promise((r) => setTimeout(r, 20));
      alive = running();
    }
    assert.equal(alive, false, 'the grandchild survived the cancel');
  });

  it('kills after the grace period when SIGTERM is ignored', async () => {
    const controller = new AbortController();
    const result = await launchTrainer({
      executable: 'python3',
      args: [FAKE],
      cwd: root,
      env: { FAKE_SLEEP: '30', FAKE_IGNORE_TERM: '1' },
      signal: controller.signal,
      graceMs: 200,
      onLine: (line) => {
        if (line === 'READY') controller.abort();
      },
    });
    assert.deepEqual(result, { exitCode: null, signal: 'SIGKILL', cancelled: true });
  });
});

describe('TrainLogParser', () => {
  it('reads values quoted or wrapped by newer transformers and eval loss', () => {
    const parser = new TrainLogParser();
    assert.deepEqual(parser.parse("{'loss': '0.5', 'learning_rate': np.float64(1e-05), 'epoch': 1.0}"), {
      loss: 0.5,
      learningRate: 1e-5,
      epoch: 1,
    });
    assert.deepEqual(parser.parse("{'eval_loss': 0.25, 'epoch': 1.5}"), { evalLoss: 0.25, epoch: 1.5 });
    assert.equal(parser.parse('Loading checkpoint shards: 100%|##| 2/2 [00:01<00:00]'), undefined);
    assert.equal(parser.parse("{'train_runtime': 12.0}"), undefined);
  });
});

describe('expandTemplate', () => {
  const values = { data: '/tmp/my data/"x".jsonl', baseModel: 'Qwen/Qwen3-4B', output: "/o/it's $HOME", validation: '/v {data}.jsonl' };

  it('replaces placeholders inside arguments without splitting or re-expanding', () => {
    assert.deepEqual(
      expandTemplate(['train.py', '--data={data}', '{base_model}', '{output}', '--val', '{validation}', 'plain'], values),
      ['train.py', '--data=/tmp/my data/"x".jsonl', 'Qwen/Qwen3-4B', "/o/it's $HOME", '--val', '/v {data}.jsonl', 'plain'],
    );
  });

  it('names an unknown placeholder and a missing validation file', () => {
    assert.throws(
      () => expandTemplate(['{data}', '{model}'], values),
      (e) => isSvdError(e, 'bad_config') && e.message.includes('{model}'),
    );
    assert.throws(
      () => expandTemplate(['{validation}'], { ...values, validation: undefined }),
      (e) => isSvdError(e, 'bad_config') && e.message.includes('{validation}'),
    );
  });
});

describe('pythonPreflight', () => {
  it('names the missing packages and the pip command', async () => {
    const result = await pythonPreflight('python3', { trainer: 'trl', lora: true });
    const probe = spawnSync('python3', ['-c', 'import torch, trl']);
    if (probe.status === 0) {
      assert.equal(result.ok, true);
      return;
    }
    assert.equal(result.ok, false);
    assert.ok(result.missing.includes('torch') && result.missing.includes('trl'), result.missing.join(','));
    assert.match(result.hint, /^python3 -m pip install .*\btorch\b.*\btrl\b/);
    const llama = await pythonPreflight('python3', 'llamafactory');
    assert.ok(llama.missing.includes('llamafactory'));
    assert.match(llama.hint, /pip install .*llamafactory/);
  });

  it('reports a Python that does not exist', async () => {
    const result = await pythonPreflight(path.join(root, 'no-python'));
    assert.deepEqual([result.ok, result.missing], [false, ['python']]);
    assert.match(result.hint, /not found/);
  });
});
