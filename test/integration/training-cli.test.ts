// `svd train` with a local trainer records what happens in the run, the way the editor follows it: the trainer's
// log, its metrics, the outcome; and a stop (SIGTERM, or the hang-up of a closed task terminal) stops the trainer's
// whole process group and is recorded as cancelled.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { parseRunConfig } from '../../src/core/base/config';
import { runPipeline } from '../../src/core/method/pipeline';
import { metricsFile, readTraining, trainLogFile } from '../../src/core/training/record';
import { methodHandler, startScriptedServer, type SeedScript } from '../fixtures/scripted-server';
import { pidAlive } from '../fixtures/processes';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');
const FAKE = path.join(ROOT, 'test/fixtures/fake-trainer.py');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function svd(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, SVD_API_KEY: '', OPENAI_API_KEY: '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exit = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, exit };
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const custom = (...extra: string[]) => ['--trainer', 'custom', '--command', JSON.stringify(['python3', FAKE, '--data', '{data}', '--out', '{output}', ...extra])];

describe('svd train with a local trainer, recorded in the run', () => {
  let runDir: string;

  before(async () => {
    assert.equal(spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT }).status, 0);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-training-cli-'));
    const scripts: SeedScript[] = [{ question: 'What is 2 + 2?' }, { question: 'What is 3 + 3?' }];
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
      runDir = result.dir;
    } finally {
      await server.close();
    }
  });

  test('a trainer that finishes: its log, its loss per step and the outcome with the output folder', async () => {
    const { exit } = svd(['train', runDir, ...custom()]);
    const r = await exit;
    assert.equal(r.code, 0, r.stderr);
    const record = readTraining(runDir)!;
    assert.equal(record.status, 'succeeded');
    assert.equal(record.trainer, 'custom');
    assert.equal(record.exitCode, 0);
    assert.equal(record.outputDir, path.join(runDir, 'train', 'output'));
    assert.equal(record.examples, 2);
    assert.equal(record.totalSteps, 30);
    assert.deepEqual(record.latest, { step: 30, loss: 0.7, learningRate: 1.5e-5, epoch: 0.36 });
    assert.equal(record.lastEvent, 'READY');
    const points = readFileSync(metricsFile(runDir), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss: number });
    assert.deepEqual(points.map((p) => [p.step, p.loss]), [[10, 1.2345], [20, 0.9876], [30, 0.7]]);
    const log = readFileSync(trainLogFile(runDir), 'utf8');
    assert.match(log, /^ARGV /m);
    assert.match(log, /'loss': 0\.7/);
    assert.match(log, /^READY$/m);
    // The terminal still gets everything.
    assert.match(r.stderr, /READY/);
  });

  test('a trainer that fails: recorded failed with its exit code', async () => {
    const r = await svd(['train', runDir, ...custom()], { FAKE_EXIT: '3' }).exit;
    assert.equal(r.code, 3);
    const record = readTraining(runDir)!;
    assert.equal(record.status, 'failed');
    assert.equal(record.exitCode, 3);
    assert.equal(record.error, 'the trainer exited with code 3');
  });

  test('a trainer that cannot start: recorded failed with the reason', async () => {
    const r = await svd(['train', runDir, '--trainer', 'trl', '--python', path.join(os.tmpdir(), 'no-such-python')]).exit;
    assert.equal(r.code, 2, r.stderr);
    const record = readTraining(runDir)!;
    assert.equal(record.status, 'failed');
    assert.match(record.error ?? '', /cannot start/);
  });

  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    test(`${signal} stops the trainer's process group and records the cancel`, async () => {
      const { child, exit } = svd(['train', runDir, ...custom()], { FAKE_SLEEP: '30', FAKE_GRANDCHILD: '1' });
      let grandchild: number | undefined;
      try {
        grandchild = await until('the trainer to start its own child', () => {
          // The previous test's log stays until this process has written its record.
          if (readTraining(runDir)?.pid !== child.pid) return undefined;
          const log = existsSync(trainLogFile(runDir)) ? readFileSync(trainLogFile(runDir), 'utf8') : '';
          const match = /^CHILD (\d+)$/m.exec(log);
          return match && /^READY$/m.test(log) ? Number(match[1]) : undefined;
        });
        assert.equal(readTraining(runDir)!.status, 'running');
        child.kill(signal);
        const r = await exit;
        assert.equal(r.code, 130, r.stderr);
        const record = readTraining(runDir)!;
        assert.equal(record.status, 'cancelled');
        assert.ok(record.endedAt);
        await until('the trainer\'s child to be gone', () => !pidAlive(grandchild!));
      } finally {
        // Whatever failed above, nothing of this test keeps running.
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        if (grandchild !== undefined && pidAlive(grandchild)) process.kill(grandchild, 'SIGKILL');
      }
    });
  }
});
