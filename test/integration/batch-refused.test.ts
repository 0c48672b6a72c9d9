// A server that refuses `n > 1` with a 400, as some hosted OpenAI-compatible providers do, through the built CLI:
// the first refusal is recognised, the run goes on one sample per request, says so once, and its record and the
// response cache are exactly those of a run on a server that takes `n`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI_STREAMS, readEventLine, type RunStreamEvent } from '../../src/protocol/cliEvents';
import { ActiveRun } from '../../src/vscode/runs/runner';
import { CLI, ROOT, runCli } from '../fixtures/cli';
import { methodHandler, rightValue, startScriptedServer, type ScriptedServer, type SeedScript } from '../fixtures/scripted-server';

const PROMPTS = path.join(ROOT, 'test/fixtures/prompts');
const SCRIPTS: SeedScript[] = [
  { question: 'What is 2 + 2?' },
  { question: 'What is 3 + 5?', answers: ['wrong', 'right', 'right'] },
  { question: 'What is 9 - 1?', answers: ['wrong', 'wrong', 'wrong'] },
];
const REFUSAL = /does not take n > 1/;

function writeSeeds(dir: string): string {
  const file = path.join(dir, 'seeds.jsonl');
  const rows = SCRIPTS.map((s, i) => ({ id: `q${i}`, domain: 'math', question: s.question, answer: rightValue(SCRIPTS, i) }));
  writeFileSync(file, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  return file;
}

const jsonLines = <T>(file: string): T[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);

function runEvents(stdout: string): RunStreamEvent[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const read = readEventLine<RunStreamEvent>(CLI_STREAMS.run, line);
      assert.ok(read.ok, line);
      return read.event;
    });
}

/** What a run leaves: its record's event ids (time-stamped run events aside), and the cache's keys. */
function recordOf(dir: string, runId: string): { ids: string[]; cacheKeys: string[]; samples: number } {
  const events = jsonLines<{ id: string; type: string; text?: string }>(path.join(dir, 'runs', runId, 'events.jsonl'));
  const cacheKeys = jsonLines<{ k: string }>(path.join(dir, 'cache', 'samples.jsonl')).map((line) => line.k);
  return {
    // A run's lifecycle and its usage checkpoints (every 2 s, so how many depends on the machine's pace) are not work.
    ids: events.filter((e) => e.type !== 'run' && e.type !== 'usage').map((e) => e.id),
    cacheKeys,
    samples: events.filter((e) => typeof e.text === 'string').length,
  };
}

describe('a server that refuses n > 1', () => {
  let refusing: ScriptedServer;
  let batching: ScriptedServer;

  before(async () => {
    const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    refusing = await startScriptedServer({ models: ['scripted'], rejectN: true });
    batching = await startScriptedServer({ models: ['scripted'] });
  });
  after(async () => {
    await refusing.close();
    await batching.close();
  });

  // One request at a time, so that the scripted answers come in the same order on both servers.
  const args = (server: ScriptedServer, seeds: string, dir: string) => [
    'run', seeds, '--base-url', server.url, '--model', 'scripted', '--runs-dir', path.join(dir, 'runs'), '--prompts', PROMPTS,
    '--candidates', '3', '--votes', '2', '--concurrency', '1', '--events',
  ];

  test('svd run: one notice, one sample per request after the first refusal, and the same record and cache', async () => {
    const refusedDir = mkdtempSync(path.join(os.tmpdir(), 'svd-refused-'));
    refusing.setHandler(methodHandler(SCRIPTS));
    const refused = await runCli(args(refusing, writeSeeds(refusedDir), refusedDir));
    assert.equal(refused.code, 0, refused.stderr);
    const events = runEvents(refused.stdout);
    const notices = events.filter((e) => e.type === 'notice' && REFUSAL.test(e.message));
    assert.equal(notices.length, 1, refused.stdout);
    assert.equal(refused.stderr.match(new RegExp(REFUSAL.source, 'g'))?.length, 1, refused.stderr);

    // Batches were refused (those sent before the first refusal was understood), then only single samples went.
    const batches = refusing.requests.filter((r) => r.n > 1);
    assert.ok(batches.length >= 1 && batches.every((r) => r.status === 400), JSON.stringify(batches.map((r) => r.status)));
    const lastBatch = refusing.requests.lastIndexOf(batches.at(-1)!);
    const firstAnswered = refusing.requests.findIndex((r) => r.status === 200);
    assert.ok(lastBatch < firstAnswered, 'no batch once the refusal was understood');
    const answered = refusing.requests.filter((r) => r.status === 200);
    assert.ok(answered.every((r) => r.n === 1));

    const batchedDir = mkdtempSync(path.join(os.tmpdir(), 'svd-batched-'));
    batching.setHandler(methodHandler(SCRIPTS));
    const batched = await runCli(args(batching, writeSeeds(batchedDir), batchedDir));
    assert.equal(batched.code, 0, batched.stderr);
    assert.ok(batching.requests.some((r) => r.n > 1), 'the other server was asked for several samples at once');
    assert.ok(!runEvents(batched.stdout).some((e) => e.type === 'notice' && REFUSAL.test(e.message)));

    const result = (list: RunStreamEvent[]) => list.find((e) => e.type === 'result');
    const runId = (list: RunStreamEvent[]) => list.find((e) => e.type === 'start')!.runId;
    const one = recordOf(refusedDir, runId(events));
    const other = recordOf(batchedDir, runId(runEvents(batched.stdout)));
    // Nothing lost, nothing twice: the same events and cache entries as on a server that takes n, each once.
    assert.equal(new Set(one.ids).size, one.ids.length);
    assert.deepEqual([...one.ids].sort(), [...other.ids].sort());
    assert.equal(new Set(one.cacheKeys).size, one.cacheKeys.length);
    assert.deepEqual([...one.cacheKeys].sort(), [...other.cacheKeys].sort());
    assert.equal(one.samples, answered.length, 'every answered request is one sample of the record');
    assert.equal(one.cacheKeys.length, answered.length);
    const funnel = (e: RunStreamEvent | undefined) => (e?.type === 'result' ? { accepted: e.accepted, candidates: e.candidates } : undefined);
    assert.deepEqual(funnel(result(events)), funnel(result(runEvents(batched.stdout))));
  });

  test("the editor's reader hears the notice, once", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-refused-editor-'));
    const server = await startScriptedServer({ models: ['scripted'], rejectN: true, handler: methodHandler(SCRIPTS) });
    try {
      const notices: string[] = [];
      const run = new ActiveRun(
        CLI,
        {
          seedFile: writeSeeds(dir),
          runsDir: path.join(dir, 'runs'),
          config: { promptsDir: PROMPTS, candidates: 2, votes: 1 },
          baseUrl: server.url,
          model: 'scripted',
          engine: { parallel: 1 },
          modelsDir: path.join(dir, 'models'),
          cwd: dir,
        },
        { onMessage: (message) => void (message.type === 'notice' && notices.push(message.message)) },
      );
      const outcome = await run.done;
      assert.equal(outcome.state, 'finished', outcome.error?.message);
      assert.equal(notices.filter((n) => REFUSAL.test(n)).length, 1, notices.join('\n'));
    } finally {
      await server.close();
    }
  });
});
