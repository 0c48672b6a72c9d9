import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { EXIT_CODES } from '../../src/core/base/errors';
import { processStart } from '../../src/core/record/process';
import { zombie } from '../fixtures/processes';
import { methodHandler, startScriptedServer, type ScriptedServer, type SeedScript } from '../fixtures/scripted-server';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');
const PROMPTS = path.join(ROOT, 'test/fixtures/prompts');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function svd(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, SVD_API_KEY: '', OPENAI_API_KEY: '', ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'svd-cli-'));
}

function writeSeeds(dir: string, scripts: SeedScript[]): string {
  const file = path.join(dir, 'seeds.jsonl');
  writeFileSync(file, scripts.map((s, i) => JSON.stringify({ id: `q${i}`, domain: 'math', question: s.question })).join('\n') + '\n');
  return file;
}

function acceptedSet(runDir: string): string[] {
  return readFileSync(path.join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string; acceptedCandidateIds?: string[] })
    .filter((e) => e.type === 'outcome')
    .flatMap((e) => e.acceptedCandidateIds ?? [])
    .sort();
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('svd CLI', () => {
  let server: ScriptedServer;
  const scripts: SeedScript[] = [
    { question: 'What is 2 + 2?' },
    { question: 'What is 3 + 5?', answers: ['wrong', 'right'] },
    { question: 'What is 9 - 1?', answers: ['wrong', 'wrong'] },
  ];

  before(async () => {
    const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    server = await startScriptedServer({ models: ['scripted', 'other'], apiKey: 'sk-test-secret' });
    server.setHandler(methodHandler(scripts));
  });
  after(async () => {
    await server.close();
  });

  const base = (dir: string) => ['--base-url', server.url, '--model', 'scripted', '--runs-dir', path.join(dir, 'runs'), '--prompts', PROMPTS];
  const key = { SVD_API_KEY: 'sk-test-secret' };

  test('run, status, override and export work end to end', async () => {
    const dir = tempDir();
    const seeds = writeSeeds(dir, scripts);
    const ran = await svd(['run', seeds, ...base(dir), '--candidates', '2', '--votes', '2'], { env: key });
    assert.equal(ran.code, 0, ran.stderr);
    const runId = /^run (\S+)/m.exec(ran.stdout)?.[1];
    assert.ok(runId, ran.stdout);
    assert.match(ran.stdout, /^folder .*runs/m);
    assert.doesNotMatch(ran.stdout + ran.stderr, /sk-test-secret/);

    const status = await svd(['status', runId, '--runs-dir', path.join(dir, 'runs'), '--json']);
    assert.equal(status.code, 0, status.stderr);
    const funnel = JSON.parse(status.stdout) as { funnel: { seeds: number; accepted: number; candidates: number } };
    assert.equal(funnel.funnel.seeds, 3);
    assert.equal(funnel.funnel.accepted, 2);

    const override = await svd(['override', runId, 'q2#1', 'accept', '--note', 'checked by hand', '--runs-dir', path.join(dir, 'runs')]);
    assert.equal(override.code, 0, override.stderr);
    const missing = await svd(['override', runId, 'q9#0', 'accept', '--runs-dir', path.join(dir, 'runs')]);
    assert.equal(missing.code, EXIT_CODES.not_found);

    for (const format of ['openai', 'trl', 'sharegpt', 'alpaca']) {
      const out = path.join(dir, `${format}.jsonl`);
      const exported = await svd(['export', runId, '--format', format, '--out', out, '--runs-dir', path.join(dir, 'runs')]);
      assert.equal(exported.code, 0, exported.stderr);
      const rows = readFileSync(out, 'utf8').trim().split('\n');
      assert.equal(rows.length, 3, `${format}: two accepted by the judges, one by hand`);
    }
    assert.ok(existsSync(path.join(dir, 'dataset_info.json')));
  });

  test('--max-tokens, --judge-max-tokens and --temperature reach the requests, over --config, and make another run', async () => {
    const dir = tempDir();
    const seeds = writeSeeds(dir, scripts.slice(0, 1));
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ generation: { topP: 0.9, maxTokens: 4000 }, judge: { temperature: 0.3 } }));
    const start = server.requests.length;
    const ran = await svd(['run', seeds, ...base(dir), '--candidates', '1', '--votes', '1', '--config', config, '--max-tokens', '640', '--judge-max-tokens', '320', '--temperature', '0.5'], { env: key });
    assert.equal(ran.code, 0, ran.stderr);
    const sent = server.requests.slice(start).filter((r) => r.body !== undefined);
    const generate = sent.filter((r) => r.kind === 'generate');
    const judged = sent.filter((r) => r.kind !== 'generate');
    assert.ok(generate.length > 0 && judged.length > 0);
    assert.ok(generate.every((r) => r.body!.max_tokens === 640 && r.body!.temperature === 0.5 && r.body!.top_p === 0.9));
    assert.ok(judged.every((r) => r.body!.max_tokens === 320 && r.body!.temperature === 0.3));
    // The run id derives from the method's parameters: other lengths, another run.
    const defaults = await svd(['run', seeds, ...base(dir), '--candidates', '1', '--votes', '1', '--config', config], { env: key });
    assert.equal(defaults.code, 0, defaults.stderr);
    assert.notEqual(/^run (\S+)/m.exec(defaults.stdout)?.[1], /^run (\S+)/m.exec(ran.stdout)?.[1]);
    const bad = await svd(['run', seeds, ...base(dir), '--judge-max-tokens', '8']);
    assert.equal(bad.code, EXIT_CODES.bad_config);
    assert.match(bad.stderr, /^error: --judge-max-tokens: Too small: expected number to be >=16 \(got 8\)/m);
  });

  test('exit codes say what went wrong', async () => {
    const dir = tempDir();
    const seeds = writeSeeds(dir, scripts);
    const unreachable = await svd(['run', seeds, '--base-url', `http://127.0.0.1:${await closedPort()}/v1`, '--model', 'm', '--runs-dir', path.join(dir, 'runs'), '--retries', '0']);
    assert.equal(unreachable.code, EXIT_CODES.unreachable, unreachable.stderr);
    assert.match(unreachable.stderr, /127\.0\.0\.1/);

    const unknown = await svd(['run', seeds, ...base(dir).map((a) => (a === 'scripted' ? 'no-such-model' : a))], { env: key });
    assert.equal(unknown.code, EXIT_CODES.unknown_model, unknown.stderr);
    assert.match(unknown.stderr, /no-such-model/);

    const badKey = await svd(['run', seeds, ...base(dir)], { env: { SVD_API_KEY: 'wrong' } });
    assert.equal(badKey.code, EXIT_CODES.auth, badKey.stderr);
    assert.match(badKey.stderr, /SVD_API_KEY/);
    assert.doesNotMatch(badKey.stderr, /wrong/);

    const badSeeds = path.join(dir, 'bad.jsonl');
    writeFileSync(badSeeds, '{"question": ""}\nnot json\n');
    const bad = await svd(['run', badSeeds, ...base(dir), '--domain', 'math'], { env: key });
    assert.equal(bad.code, EXIT_CODES.bad_seed_file, bad.stderr);
    assert.match(bad.stderr, /bad\.jsonl:2/);

    const votes = await svd(['run', seeds, ...base(dir), '--votes', '0'], { env: key });
    assert.equal(votes.code, EXIT_CODES.bad_config);
    assert.match(votes.stderr, /votes/);
    const notNumber = await svd(['run', seeds, ...base(dir), '--candidates', 'four'], { env: key });
    assert.equal(notNumber.code, EXIT_CODES.bad_config);
    assert.match(notNumber.stderr, /--candidates/);
  });

  test('a bad run id is refused before anything is written, naming the rule', async () => {
    const dir = tempDir();
    const seeds = writeSeeds(dir, scripts);
    const cases: [string[], RegExp][] = [
      [['--run', '../../x'], /--run: bad run id "\.\.\/\.\.\/x": a run id cannot contain a path separator/],
      [['--run', ''], /a run id cannot be empty/],
      [['--run', 'x'.repeat(300)], /a run id is at most 120 characters \(this one has 300\)/],
      [['--run=-x'], /a run id cannot start with "-"/],
      [['--run', '.'], /the runs folder itself/],
      [['--run', 'a..b'], /cannot contain "\.\."/],
    ];
    for (const [flag, rule] of cases) {
      const result = await svd(['run', seeds, ...base(dir), ...flag], { env: key });
      assert.equal(result.code, EXIT_CODES.bad_config, `${flag.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, rule);
      assert.doesNotMatch(result.stderr, /ENAMETOOLONG/);
    }
    assert.equal(existsSync(path.join(dir, 'runs')), false, 'nothing was created');
    assert.deepEqual(readdirSync(dir).sort(), ['seeds.jsonl']);
  });

  test('a run lock held by a live process is refused with exit 10; one left by a zombie is taken over', async () => {
    const dir = tempDir();
    const seeds = writeSeeds(dir, scripts);
    // One seed is left pending (its generation refused), so that running it again resumes it: a finished run is
    // only read, and takes no lock. One candidate per seed: a refused request for several samples is asked again for
    // one (a server may refuse n > 1 alone), which would answer it.
    const args = ['run', seeds, ...base(dir), '--run', 'r', '--candidates', '1', '--votes', '2'];
    server.inject({ kind: '400', match: 'generate' });
    const first = await svd(args, { env: key });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /1 seed\(s\) hit errors and are pending/);
    const lock = path.join(dir, 'runs', 'r', 'run.lock');
    const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => holder.once('spawn', resolve));
      writeFileSync(lock, JSON.stringify({ pid: holder.pid, host: os.hostname(), at: new Date().toISOString(), start: processStart(holder.pid) }));
      const refused = await svd(args, { env: key });
      assert.equal(refused.code, EXIT_CODES.run_locked, refused.stderr);
      assert.match(refused.stderr, new RegExp(`process ${holder.pid}`));
    } finally {
      holder.kill('SIGKILL');
    }
    if (process.platform !== 'linux') return;
    const { pid, parent } = await zombie();
    try {
      writeFileSync(lock, JSON.stringify({ pid, host: os.hostname(), at: new Date().toISOString() }));
      const resumed = await svd(args, { env: key });
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(existsSync(lock), false, 'the lock taken over is released at the end');
    } finally {
      parent.kill('SIGKILL');
    }
  });

  test("export never writes over the run's own files or the seed file, and replaces an existing file only with --force", async () => {
    const dir = tempDir();
    const seeds = writeSeeds(dir, scripts);
    const runsDir = path.join(dir, 'runs');
    const ran = await svd(['run', seeds, ...base(dir), '--run', 'r', '--candidates', '2', '--votes', '2'], { env: key });
    assert.equal(ran.code, 0, ran.stderr);
    const runDir = path.join(runsDir, 'r');
    const before = Object.fromEntries(['events.jsonl', 'run.json'].map((name) => [name, readFileSync(path.join(runDir, name), 'utf8')]));
    const seedText = readFileSync(seeds, 'utf8');
    const exportTo = (out: string, ...extra: string[]) => svd(['export', 'r', '--format', 'openai', '--out', out, '--runs-dir', runsDir, ...extra]);

    for (const [out, rule] of [
      [path.join(runDir, 'events.jsonl'), /is in the folder of run r/],
      [path.join(runDir, 'run.json'), /is in the folder of run r/],
      [seeds, /is the seed file of run r/],
    ] as const) {
      const refused = await exportTo(out, '--force');
      assert.equal(refused.code, EXIT_CODES.bad_config, refused.stderr);
      assert.match(refused.stderr, rule);
    }
    for (const [name, text] of Object.entries(before)) assert.equal(readFileSync(path.join(runDir, name), 'utf8'), text, name);
    assert.equal(readFileSync(seeds, 'utf8'), seedText);
    const status = await svd(['status', 'r', '--runs-dir', runsDir, '--json']);
    assert.equal(status.code, 0, 'the run still reads');

    const out = path.join(dir, 'train.jsonl');
    writeFileSync(out, 'keep me\n', { mode: 0o600 });
    chmodSync(out, 0o600);
    const exists = await exportTo(out);
    assert.equal(exists.code, EXIT_CODES.bad_config, exists.stderr);
    assert.match(exists.stderr, /already exists: pass --force to replace it/);
    assert.equal(readFileSync(out, 'utf8'), 'keep me\n');
    const forced = await exportTo(out, '--force');
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 2);
    if (process.platform !== 'win32') assert.equal(statSync(out).mode & 0o777, 0o600, 'the replaced file keeps its mode');
  });

  test('a run in which every seed ended in an error exits with the server code, not 0', async () => {
    const dir = tempDir();
    const seeds = writeSeeds(dir, scripts);
    server.inject(...scripts.map(() => ({ kind: '500' as const, match: 'generate' as const })));
    const failed = await svd(['run', seeds, ...base(dir), '--run', 'f', '--retries', '0', '--concurrency', '1', '--events'], { env: key });
    assert.equal(server.pendingFaults, 0);
    assert.equal(failed.code, EXIT_CODES.unreachable, failed.stderr);
    assert.match(failed.stderr, /all 3 seeds ended in an error, the last: .*500/);
    const error = failed.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string; code?: string }).find((m) => m.type === 'error');
    assert.equal(error?.code, 'unreachable');
    const again = await svd(['run', seeds, ...base(dir), '--run', 'f', '--retries', '0'], { env: key });
    assert.equal(again.code, 0, again.stderr);
  });

  test('models lists what the server serves', async () => {
    const listed = await svd(['models', '--base-url', server.url], { env: key });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n'), ['scripted', 'other']);
  });

  test('SIGKILL at any moment, then resume: the same accepted set as an uninterrupted run', async () => {
    const slow = await startScriptedServer({ models: ['scripted'], latencyMs: 15 });
    try {
      const many: SeedScript[] = Array.from({ length: 12 }, (_, i) => ({
        question: `What is ${i} * 3?`,
        answers: i % 3 === 0 ? ['wrong', 'right'] : ['right', 'wrong'],
      }));
      slow.setHandler(methodHandler(many));
      const args = (dir: string, seeds: string) => ['run', seeds, '--base-url', slow.url, '--model', 'scripted', '--runs-dir', path.join(dir, 'runs'), '--prompts', PROMPTS, '--candidates', '2', '--votes', '2', '--concurrency', '3', '--run', 'r'];

      const reference = tempDir();
      const done = await svd(args(reference, writeSeeds(reference, many)));
      assert.equal(done.code, 0, done.stderr);
      const expected = acceptedSet(path.join(reference, 'runs', 'r'));
      assert.ok(expected.length > 0);

      const dir = tempDir();
      const seeds = writeSeeds(dir, many);
      for (const delay of [120, 200, 90, 260]) {
        const child = spawn(process.execPath, [CLI, ...args(dir, seeds)], { stdio: 'ignore' });
        await new Promise((resolve) => setTimeout(resolve, delay));
        child.kill('SIGKILL');
        await new Promise((resolve) => child.on('close', resolve));
      }
      const last = await svd(args(dir, seeds));
      assert.equal(last.code, 0, last.stderr);
      assert.deepEqual(acceptedSet(path.join(dir, 'runs', 'r')), expected);
      const ids = readFileSync(path.join(dir, 'runs', 'r', 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id);
      assert.equal(new Set(ids).size, ids.length, 'no record is duplicated');
    } finally {
      await slow.close();
    }
  });
});
