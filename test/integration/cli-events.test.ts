// The `--events` streams across the process boundary: every line the built CLI prints is an event of its command's
// schema (src/protocol/cliEvents.ts), a failure ends the stream as a structured error, and the editor's reader
// (src/vscode/platform/cliProcess.ts, runs/runner.ts; no vscode import) refuses what is not an event and takes the
// error from the event, never from stderr.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT_CODES } from '../../src/core/base/errors';
import type { SeedProblem } from '../../src/core/base/types';
import { EvalResultSchema, type EvalOptions } from '../../src/core/experiments/evaluate';
import { SweepResultSchema, type SweepOptions } from '../../src/core/experiments/sweep';
import type { RunOptions } from '../../src/core/method/pipeline';
import type { DownloadProgress } from '../../src/engine/download';
import {
  CLI_STREAMS,
  RunStreamEvent,
  readEventLine,
  type CellEvent,
  type CliCommandWithEvents,
  type CliStreamEvent,
  type DownloadEvent,
  type EvalProgressEvent,
  type ProblemEvent,
  type RunProgressEvent,
  type RunStartEvent,
  type SweepProgressEvent,
  type SweepStartEvent,
} from '../../src/protocol/cliEvents';
import { CliProcess, type CliRequest } from '../../src/vscode/platform/cliProcess';
import { ActiveRun, type RunOutcome } from '../../src/vscode/runs/runner';
import { CLI, ROOT, runCli } from '../fixtures/cli';
import { methodHandler, rightValue, startScriptedServer, type ScriptedServer, type SeedScript } from '../fixtures/scripted-server';

const PROMPTS = path.join(ROOT, 'test/fixtures/prompts');

// The CLI spreads what core hands it into its events, and a spread escapes TypeScript's check for unknown fields; so
// the fields are compared here, at compile time: a field core adds or drops fails `tsc` until the schema has it.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type SameFields<Event, Payload> = Same<keyof Omit<Event, 'type'>, keyof Payload> extends true ? Same<Omit<Event, 'type'>, Payload> : false;
type Payload<F extends ((payload: never) => void) | undefined> = Parameters<NonNullable<F>>[0];
void [
  true satisfies SameFields<RunStartEvent, Payload<RunOptions['onStart']>>,
  true satisfies SameFields<RunProgressEvent, Payload<RunOptions['onProgress']>>,
  true satisfies SameFields<Omit<ProblemEvent, 'text'>, SeedProblem>,
  true satisfies SameFields<DownloadEvent, DownloadProgress>,
  true satisfies SameFields<SweepStartEvent, Payload<SweepOptions['onStart']>>,
  true satisfies SameFields<CellEvent, Payload<SweepOptions['onCellStart']>>,
  true satisfies SameFields<SweepProgressEvent, Payload<SweepOptions['onProgress']>>,
  true satisfies SameFields<EvalProgressEvent, Payload<EvalOptions['onProgress']>>,
];

const SCRIPTS: SeedScript[] = [
  { question: 'What is 2 + 2?' },
  { question: 'What is 3 + 5?', answers: ['wrong', 'right'] },
  { question: 'What is 9 - 1?', answers: ['wrong', 'wrong'] },
];

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'svd-cli-events-'));
}

/** The scripts' questions with their gold (for the audit and eval), and one row without a question (a problem). */
function writeSeeds(dir: string): string {
  const file = path.join(dir, 'seeds.jsonl');
  const rows = SCRIPTS.map((s, i) => ({ id: `q${i}`, domain: 'math', question: s.question, answer: rightValue(SCRIPTS, i) }));
  writeFileSync(file, [...rows, { id: 'no-question', domain: 'math' }].map((row) => JSON.stringify(row)).join('\n') + '\n');
  return file;
}

/** Every stdout line read with the command's schema; fails on the first line that is not one of its events. */
function eventsOf(command: CliCommandWithEvents, stdout: string): CliStreamEvent[] {
  const lines = stdout.split('\n').filter((line) => line !== '');
  assert.ok(lines.length > 0, `svd ${command} printed nothing`);
  return lines.map((line) => {
    const read = readEventLine<CliStreamEvent>(CLI_STREAMS[command], line);
    assert.ok(read.ok, `svd ${command}: ${read.ok ? '' : read.reason}\n${line}`);
    return read.event;
  });
}

const typesOf = (events: CliStreamEvent[]) => [...new Set(events.map((e) => e.type))].sort();

describe('the --events streams', () => {
  let server: ScriptedServer;

  before(async () => {
    const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    server = await startScriptedServer({ models: ['scripted'] });
  });
  after(async () => {
    await server.close();
  });

  const base = (dir: string) => ['--base-url', server.url, '--model', 'scripted', '--runs-dir', path.join(dir, 'runs'), '--prompts', PROMPTS];

  test('every line svd run, sweep and eval print with --events is an event of its stream', async () => {
    const dir = tempDir();
    const seeds = writeSeeds(dir);

    server.setHandler(methodHandler(SCRIPTS));
    const first = await runCli(['run', seeds, ...base(dir), '--candidates', '2', '--votes', '1', '--events']);
    assert.equal(first.code, 0, first.stderr);
    const run = eventsOf('run', first.stdout);
    assert.deepEqual(typesOf(run), ['problem', 'progress', 'result', 'start']);
    assert.equal(run.at(-1)!.type, 'result');
    // Other settings on the same seeds: a new run, and a notice that says so.
    server.setHandler(methodHandler(SCRIPTS));
    const second = await runCli(['run', seeds, ...base(dir), '--candidates', '3', '--votes', '1', '--events']);
    assert.equal(second.code, 0, second.stderr);
    assert.ok(eventsOf('run', second.stdout).some((e) => e.type === 'notice'), second.stdout);

    server.setHandler(methodHandler(SCRIPTS));
    const swept = await runCli(['sweep', seeds, ...base(dir), '--candidates', '1,2', '--votes', '1', '--events']);
    assert.equal(swept.code, 0, swept.stderr);
    const sweep = eventsOf('sweep', swept.stdout);
    assert.deepEqual(typesOf(sweep), ['cell', 'problem', 'progress', 'result', 'start']);
    // The result pins a few fields; the whole of it is the sweep's own result, as core reads it.
    SweepResultSchema.parse(sweep.at(-1));

    server.setHandler(methodHandler(SCRIPTS));
    const evaluated = await runCli(['eval', seeds, ...base(dir), '--samples', '2', '--events']);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const evaluation = eventsOf('eval', evaluated.stdout);
    assert.deepEqual(typesOf(evaluation), ['problem', 'progress', 'result']);
    EvalResultSchema.parse(evaluation.at(-1));
  });

  test('a failure ends the stream with an error event: its code and exit status; stderr keeps its line for people', async () => {
    const dir = tempDir();
    const seeds = writeSeeds(dir);
    server.setHandler(methodHandler(SCRIPTS));
    server.inject(...SCRIPTS.map(() => ({ kind: '500' as const, match: 'generate' as const })));
    const failed = await runCli(['run', seeds, ...base(dir), '--retries', '0', '--concurrency', '1', '--events']);
    assert.equal(server.pendingFaults, 0);
    assert.equal(failed.code, EXIT_CODES.unreachable, failed.stderr);
    const last = eventsOf('run', failed.stdout).at(-1)!;
    assert.ok(last.type === 'error', failed.stdout);
    assert.equal(last.code, 'unreachable');
    assert.equal(last.exitCode, EXIT_CODES.unreachable);
    assert.match(last.message, /all 3 seeds ended in an error/);
    assert.match(failed.stderr, /^error: all 3 seeds ended in an error/m);

    // A bad flag value and a usage error commander reports: both bad_config, on the stream too.
    for (const args of [['run', seeds, '--candidates', 'x', '--events'], ['run', '--events']]) {
      const refused = await runCli(args);
      assert.equal(refused.code, EXIT_CODES.bad_config, refused.stderr);
      const events = eventsOf('run', refused.stdout);
      assert.equal(events.length, 1, refused.stdout);
      assert.deepEqual({ ...events[0]!, message: '' }, { type: 'error', code: 'bad_config', exitCode: EXIT_CODES.bad_config, message: '' });
      assert.doesNotMatch((events[0] as { message: string }).message, /^error: /);
    }
  });

  test('the editor: a run that fails reaches the reader as a structured error with its code', async () => {
    const dir = tempDir();
    server.setHandler(methodHandler(SCRIPTS));
    server.inject(...SCRIPTS.map(() => ({ kind: '500' as const, match: 'generate' as const })));
    const messages: string[] = [];
    const logged: string[] = [];
    const run = new ActiveRun(
      CLI,
      {
        seedFile: writeSeeds(dir),
        runsDir: path.join(dir, 'runs'),
        config: { promptsDir: PROMPTS, candidates: 2, votes: 1, maxRetries: 0, concurrency: 1 },
        baseUrl: server.url,
        model: 'scripted',
        engine: { parallel: 1 },
        modelsDir: path.join(dir, 'models'),
        cwd: dir,
      },
      { onMessage: (message) => messages.push(message.type), onLog: (line) => logged.push(line) },
    );
    const outcome: RunOutcome = await run.done;
    assert.equal(outcome.state, 'failed');
    assert.equal(outcome.exitCode, EXIT_CODES.unreachable);
    assert.equal(outcome.error?.code, 'unreachable');
    assert.match(outcome.error?.message ?? '', /all 3 seeds ended in an error/);
    assert.equal(messages.at(-1), 'error');
    assert.ok(messages.includes('start'), messages.join(' '));
    assert.ok(outcome.runId && outcome.dir, 'from the start event');
    assert.ok(!logged.some((line) => line.includes('not one of its events')), logged.join('\n'));
  });
});

describe("the editor's reader of a stream", () => {
  /** A stand-in for the CLI: prints `stdout` lines and `stderr`, then exits with `code`. */
  function fakeCli(stdout: string[], stderr: string, code: number): string {
    const file = path.join(tempDir(), 'fake-cli.js');
    writeFileSync(
      file,
      `for (const line of ${JSON.stringify(stdout)}) process.stdout.write(line + '\\n');\n` +
        `process.stderr.write(${JSON.stringify(stderr)});\nprocess.exitCode = ${code};\n`,
    );
    return file;
  }

  function request(cliPath: string): CliRequest {
    const dir = tempDir();
    return { cliPath, args: ['run', 'seeds.jsonl', '--events'], config: {}, runsDir: path.join(dir, 'runs'), modelsDir: path.join(dir, 'models'), cwd: dir };
  }

  const start = { type: 'start', runId: 'r', dir: '/runs/r', resumed: false, seedsTotal: 2, skippedRows: 1, fileRows: 3, alreadyFinished: false };
  const progress = { type: 'progress', seedsTotal: 2, seedsDone: 1, accepted: 1, candidates: 2, requests: 3, requestsPerSecond: 1.5, elapsedMs: 2000, etaMs: 2000 };
  const result = {
    type: 'result',
    runId: 'r',
    dir: '/runs/r',
    state: 'finished',
    funnel: { seeds: 2, seedsDone: 2, acceptedFinal: 1, candidates: 4 },
    skippedRows: 1,
    alreadyFinished: false,
  };

  test('a line that is not an event of the stream is refused with the reason, and the rest go on', async () => {
    const malformed = [
      'starting the engine',
      '{"type":"start"',
      JSON.stringify({ type: 'mystery' }),
      JSON.stringify({ type: 'start', runId: 'r' }),
      JSON.stringify({ ...start, extra: true }),
      JSON.stringify({ ...progress, seedsDone: -1 }),
      // An event of another command's stream is not one of this one's.
      JSON.stringify({ type: 'cell', name: 'n1v1', index: 0, total: 1, runId: 'r', done: false }),
    ];
    const events: string[] = [];
    const refused: { line: string; reason: string }[] = [];
    const child = new CliProcess(
      request(fakeCli([JSON.stringify(start), ...malformed, JSON.stringify(progress), JSON.stringify(result)], '', 0)),
      RunStreamEvent,
      {
        onEvent: (event) => events.push(event.type),
        onBadLine: (line, reason) => refused.push({ line, reason }),
      },
    );
    const outcome = await child.done;
    assert.deepEqual(events, ['start', 'progress', 'result']);
    assert.deepEqual(refused.map((r) => r.line), malformed);
    assert.ok(refused.every((r) => r.reason.length > 0));
    assert.equal(refused[0]!.reason, 'not JSON');
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.result?.state, 'finished');
    assert.deepEqual(outcome.result?.funnel, result.funnel, 'a result keeps the fields the schema does not pin');
  });

  test("the outcome carries the run's skipped rows and accepted count, and whether it was finished already", async () => {
    const finished = { ...result, alreadyFinished: true };
    const cli = fakeCli([JSON.stringify({ ...start, resumed: true, alreadyFinished: true }), JSON.stringify(finished)], '', 0);
    const r = request(cli);
    const run = new ActiveRun(cli, { seedFile: 'seeds.jsonl', runsDir: r.runsDir, config: {}, engine: { parallel: 1 }, modelsDir: r.modelsDir, cwd: r.cwd }, {});
    const outcome = await run.done;
    assert.deepEqual(
      { state: outcome.state, alreadyFinished: outcome.alreadyFinished, skippedRows: outcome.skippedRows, fileRows: outcome.fileRows, funnel: outcome.funnel },
      { state: 'finished', alreadyFinished: true, skippedRows: 1, fileRows: 3, funnel: { seeds: 2, seedsDone: 2, acceptedFinal: 1 } },
    );
  });

  test("the editor's wording of an error, where the event gives one, is what the editor shows", async () => {
    const error = { type: 'error', code: 'engine', message: 'no model: give --model-path FILE', editorMessage: 'no model: set svd.engine.modelPath', exitCode: EXIT_CODES.engine };
    const child = new CliProcess(request(fakeCli([JSON.stringify(error)], '', EXIT_CODES.engine)), RunStreamEvent);
    assert.deepEqual((await child.done).error, { code: 'engine', message: 'no model: set svd.engine.modelPath' });
  });

  test("the error comes from the error event, not from stderr's text", async () => {
    const error = { type: 'error', code: 'auth', message: 'the server refused the API key', exitCode: EXIT_CODES.auth };
    const cli = fakeCli([JSON.stringify(start), JSON.stringify(error)], 'error: words for people, not read\n', EXIT_CODES.auth);
    const logged: string[] = [];
    const r = request(cli);
    const run = new ActiveRun(
      cli,
      { seedFile: 'seeds.jsonl', runsDir: r.runsDir, config: {}, baseUrl: 'http://127.0.0.1:9/v1', model: 'm', engine: { parallel: 1 }, modelsDir: r.modelsDir, cwd: r.cwd },
      { onLog: (line) => logged.push(line) },
    );
    const outcome = await run.done;
    assert.equal(outcome.state, 'failed');
    assert.deepEqual(outcome.error, { code: 'auth', message: 'the server refused the API key' });
    assert.equal(outcome.runId, 'r');
    assert.deepEqual(logged, ['error: words for people, not read'], 'stderr is only logged');
  });

  test('a process that dies without an error event: the code its exit status stands for', async () => {
    const child = new CliProcess(request(fakeCli([JSON.stringify(start)], 'error: something on stderr\n', EXIT_CODES.engine)), RunStreamEvent);
    const outcome = await child.done;
    assert.equal(outcome.error?.code, 'engine');
    assert.match(outcome.error?.message ?? '', /exit code 9 and no error report/);
    assert.doesNotMatch(outcome.error?.message ?? '', /something on stderr/);
  });
});
