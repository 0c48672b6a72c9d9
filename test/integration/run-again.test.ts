// `svd run` as a new user meets it: a finished run run again is reported as it stands without the server (also when
// the server is down, or another one is named); skipped rows are said at the start and carried by --json, --events
// and `svd status`; a file that is no seed file fails at once, before the embedded engine's model is downloaded.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { EXIT_CODES } from '../../src/core/base/errors';
import { RunStreamEvent, readEventLine } from '../../src/protocol/cliEvents';
import { ROOT, runCli } from '../fixtures/cli';
import { methodHandler, startScriptedServer, type ScriptedServer, type SeedScript } from '../fixtures/scripted-server';

const PROMPTS = path.join(ROOT, 'test/fixtures/prompts');

const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'svd-run-again-'));

async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function events(stdout: string): RunStreamEvent[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const read = readEventLine(RunStreamEvent, line);
      assert.ok(read.ok, `not an event: ${line}`);
      return read.event;
    });
}

function runStates(runDir: string): string[] {
  return readFileSync(path.join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string; state?: string })
    .filter((event) => event.type === 'run')
    .map((event) => event.state!);
}

describe('svd run, run again and on bad rows', () => {
  let server: ScriptedServer;
  const scripts: SeedScript[] = [{ question: 'What is 2 + 2?' }, { question: 'What is 3 + 5?', answers: ['wrong', 'right'] }, { question: 'What is 9 - 1?', answers: ['wrong', 'wrong'] }];

  before(async () => {
    const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    server = await startScriptedServer({ models: ['scripted'] });
    server.setHandler(methodHandler(scripts));
  });
  after(async () => {
    await server.close();
  });

  /** Three good rows and, with `bad`, rows that are no usable seed between them. */
  function writeSeeds(dir: string, bad: string[] = []): string {
    const file = path.join(dir, 'seeds.jsonl');
    const good = scripts.map((s, i) => JSON.stringify({ id: `q${i}`, domain: 'math', question: s.question }));
    writeFileSync(file, [good[0], ...bad, good[1], good[2]].join('\n') + '\n');
    return file;
  }

  const flags = (dir: string, url = server.url) => ['--base-url', url, '--model', 'scripted', '--runs-dir', path.join(dir, 'runs'), '--prompts', PROMPTS, '--candidates', '2', '--votes', '1'];

  test('a finished run stays finished: run again with its server down, it is reported as it stands', async () => {
    const dir = tempDir();
    const seeds = writeSeeds(dir);
    const first = await runCli(['run', seeds, ...flags(dir), '--json']);
    assert.equal(first.code, 0, first.stderr);
    const { runId, dir: runDir } = JSON.parse(first.stdout) as { runId: string; dir: string };
    const record = readFileSync(path.join(runDir, 'events.jsonl'), 'utf8');
    const requests = server.requests.length;

    // The server's address now answers nothing.
    const down = `http://127.0.0.1:${await closedPort()}/v1`;
    const again = await runCli(['run', seeds, ...flags(dir, down), '--retries', '0']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`^run ${runId} is finished already: nothing is asked of the model$`, 'm'));
    assert.match(again.stdout, new RegExp(`^run ${runId} was finished already: 2 accepted of 3 seeds$`, 'm'));
    assert.match(again.stdout, /give it a new id \(--run NAME\)/);
    // Told apart: the run ran elsewhere; the URL is not part of its id.
    assert.match(again.stderr, new RegExp(`note: run ${runId} ran on ${server.url.replace(/\/+$/, '')}; this command names ${down}, where it is not run again`));

    const json = await runCli(['run', seeds, ...flags(dir, down), '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(
      (({ state, alreadyFinished, skippedRows, funnel }) => ({ state, alreadyFinished, skippedRows, accepted: funnel.acceptedFinal }))(
        JSON.parse(json.stdout) as { state: string; alreadyFinished: boolean; skippedRows: number; funnel: { acceptedFinal: number } },
      ),
      { state: 'finished', alreadyFinished: true, skippedRows: 0, accepted: 2 },
    );
    const streamed = await runCli(['run', seeds, ...flags(dir, down), '--events']);
    assert.equal(streamed.code, 0, streamed.stderr);
    const stream = events(streamed.stdout);
    assert.deepEqual(
      stream.map((e) => e.type),
      ['notice', 'start', 'result'],
    );
    assert.deepEqual(stream[1], { type: 'start', runId, dir: runDir, resumed: true, seedsTotal: 3, skippedRows: 0, fileRows: 3, alreadyFinished: true });
    assert.equal(stream[2]?.type === 'result' && stream[2].alreadyFinished, true);

    assert.equal(server.requests.length, requests, 'the server was asked nothing');
    assert.equal(readFileSync(path.join(runDir, 'events.jsonl'), 'utf8'), record, 'nothing was appended');
    assert.deepEqual(runStates(runDir), ['started', 'finished']);
  });

  test('a finished run named for the embedded engine is reported without a download or an engine start', async () => {
    const dir = tempDir();
    const seeds = writeSeeds(dir);
    // The same model name as the embedded engine would serve a file `scripted.gguf` under.
    const first = await runCli(['run', seeds, ...flags(dir), '--json']);
    assert.equal(first.code, 0, first.stderr);
    const models = tempDir();
    const again = await runCli(
      ['run', seeds, '--model-path', path.join(models, 'missing', 'scripted.gguf'), '--runs-dir', path.join(dir, 'runs'), '--prompts', PROMPTS, '--candidates', '2', '--votes', '1', '--json'],
      { env: { SVD_MODELS_DIR: models } },
    );
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { alreadyFinished: boolean }).alreadyFinished, true);
    assert.doesNotMatch(again.stderr, /starting the embedded engine/);
    assert.match(again.stderr, /ran on http:\/\/127\.0\.0\.1:\d+\/v1; this command names the embedded engine/);
  });

  test('skipped rows are said at the start and carried by --events, --json and svd status', async () => {
    const dir = tempDir();
    const bad = ['{"id": "b1", "domain": "math"', JSON.stringify({ id: 'b2', question: 'no domain' }), JSON.stringify({ id: 'b3', domain: 'art', question: 'q' })];
    const seeds = writeSeeds(dir, bad);
    const text = await runCli(['run', seeds, ...flags(dir), '--run', 'text']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stderr, /^3 of 6 rows skipped \(see the warnings above\)$/m);
    assert.match(text.stdout, /^seeds 3 \(3 of 6 rows skipped\), model scripted, n=2, v=1$/m);
    assert.equal(text.stderr.match(/^warning: .*\(row skipped\)$/gm)?.length, 3);

    const streamed = await runCli(['run', seeds, ...flags(dir), '--run', 'events', '--events']);
    assert.equal(streamed.code, 0, streamed.stderr);
    const stream = events(streamed.stdout);
    assert.deepEqual(stream.slice(0, 4).map((e) => e.type), ['problem', 'problem', 'problem', 'start']);
    const start = stream.find((e) => e.type === 'start');
    assert.deepEqual(start && { skippedRows: start.skippedRows, fileRows: start.fileRows, seedsTotal: start.seedsTotal }, { skippedRows: 3, fileRows: 6, seedsTotal: 3 });
    const result = stream.at(-1);
    assert.equal(result?.type === 'result' && result.skippedRows, 3);

    const json = await runCli(['run', seeds, ...flags(dir), '--run', 'json', '--json']);
    assert.equal((JSON.parse(json.stdout) as { skippedRows: number }).skippedRows, 3);

    const status = await runCli(['status', 'text', '--runs-dir', path.join(dir, 'runs')]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^seed file .*seeds\.jsonl \(3 rows skipped: not usable seeds\)$/m);
    const statusJson = await runCli(['status', 'text', '--runs-dir', path.join(dir, 'runs'), '--json']);
    assert.equal((JSON.parse(statusJson.stdout) as { skippedRows: number }).skippedRows, 3);
  });

  // Were the download begun, the command would wait on the hanging address until this test's timeout.
  test('a file that is no seed file fails at once, before the default model is downloaded', { timeout: 60_000 }, async () => {
    // The download's address takes every connection and never answers.
    const connections: net.Socket[] = [];
    const hanging = http.createServer(() => undefined);
    hanging.on('connection', (socket) => connections.push(socket));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hanging.address() as net.AddressInfo).port}/Qwen3-0.6B-Q8_0.gguf`;
    try {
      const dir = tempDir();
      const env = { SVD_MODELS_DIR: path.join(dir, 'models'), SVD_MODEL_URL: url };
      const result = await runCli(['run', path.join(ROOT, 'package.json'), '--runs-dir', path.join(dir, 'runs'), '--events'], { env });
      assert.equal(result.code, EXIT_CODES.bad_seed_file, result.stderr);
      assert.match(result.stderr, /package\.json:1: expected a JSON array of seed rows/);
      const stream = events(result.stdout);
      assert.deepEqual(stream.map((e) => e.type), ['error']);
      assert.equal(stream[0]?.type === 'error' && stream[0].code, 'bad_seed_file');
      assert.doesNotMatch(result.stderr, /downloading|starting the embedded engine/);
      // A sweep too.
      const sweep = await runCli(['sweep', path.join(ROOT, 'package.json'), '--candidates', '1', '--votes', '1', '--runs-dir', path.join(dir, 'runs')], { env });
      assert.equal(sweep.code, EXIT_CODES.bad_seed_file, sweep.stderr);
      assert.equal(connections.length, 0, 'the download was never begun');
    } finally {
      for (const socket of connections) socket.destroy();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });
});
