import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../../src/cli/main';
import { auditRun, type Audit } from '../../../../src/core/record/audit';
import { createAnswerChecker } from '../../../../src/core/check/index';
import { NOT_CHECKED } from '../../../../src/core/base/checker';
import type { AnswerChecker, CheckResult } from '../../../../src/core/base/checker';
import { parseRunConfig, type RunConfigInput } from '../../../../src/core/base/config';
import type { RunEvent, TruthEvent } from '../../../../src/core/record/events';
import { runPipeline } from '../../../../src/core/method/pipeline';
import type { RunResult } from '../../../../src/core/method/runPlan';
import { foldRun } from '../../../../src/core/record/runview';
import { formatFunnel, funnelJson } from '../../../../src/core/record/status';
import { RunStore } from '../../../../src/core/record/store';
import { methodHandler, parsePrompt, rightValue, startScriptedServer, type ScriptedServer, type SeedScript } from '../../../fixtures/scripted-server';

const PROMPTS = path.resolve(__dirname, '../../../fixtures/prompts');
const GOLD_MARK = 'GOLD-SOLUTION-NEVER-SENT';

/** Right when the last \boxed{} holds the gold answer: all the audit needs from a checker. */
class BoxedChecker implements AnswerChecker {
  calls = 0;
  constructor(private readonly gate: () => Promise<void> = async () => {}) {}
  async check(_domain: string, text: string, gold: { answer?: string }): Promise<CheckResult | undefined> {
    this.calls++;
    await this.gate();
    if (gold.answer === undefined) return undefined;
    const boxed = [...text.matchAll(/\\boxed\{([^}]*)\}/g)].at(-1)?.[1];
    if (boxed === undefined) return { outcome: 'error', correct: false, detail: 'no boxed answer', durationMs: 0 };
    const correct = boxed.trim() === gold.answer;
    return { outcome: correct ? 'pass' : 'fail', correct, extracted: boxed, detail: correct ? 'matches' : `expected ${gold.answer}`, durationMs: 1 };
  }
}

// n = 3, v = 2, first-valid. Right answers box the gold, wrong ones do not; the judges are scripted so that each
// kind of error occurs (see the figures worked out in the first test).
const SCRIPTS: SeedScript[] = [
  { question: 'What is 3 + 4?', answers: ['wrong', 'right', 'right'], factuality: 'yes', correctness: 'yes' },
  { question: 'What is 2 * 8 + 1?', answers: ['right', 'wrong', 'right'], correctness: 'no' },
  { question: 'What is 30 - 3?', answers: ['invalid', 'right', 'wrong'] },
  { question: 'What is 40 - 3?', answers: ['right', 'wrong', 'invalid'], cycle: 'no' },
  { question: 'Without gold: what is 50 - 3?' },
];

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'svd-audit-'));
}

function writeSeeds(dir: string): string {
  const file = path.join(dir, 'seeds.jsonl');
  const rows = SCRIPTS.map((s, i) => {
    const row: Record<string, string> = { id: `q${i}`, domain: 'math', question: s.question };
    if (i < 4) {
      row.answer = rightValue(SCRIPTS, i);
      row.solution = `${GOLD_MARK} ${i}`;
    }
    return JSON.stringify(row);
  });
  writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

function run(server: ScriptedServer, seeds: string, runsDir: string, extra: { checker?: AnswerChecker; config?: RunConfigInput; runId?: string } = {}): Promise<RunResult> {
  return runPipeline({
    seedsFile: seeds,
    runsDir,
    runId: extra.runId ?? 'audited',
    config: parseRunConfig({ promptsDir: PROMPTS, candidates: 3, votes: 2, ...extra.config }),
    endpoint: { baseURL: server.url, model: 'scripted', engine: 'server' },
    checker: extra.checker,
  });
}

function eventsOf(dir: string): RunEvent[] {
  const store = RunStore.open(dir, { readOnly: true });
  try {
    return [...store.events()];
  } finally {
    store.close();
  }
}

const truths = (events: RunEvent[]) => events.filter((e): e is TruthEvent => e.type === 'truth');

const EXPECTED: Audit = {
  checked: 10,
  correct: 6,
  outcomes: { pass: 6, fail: 4, error: 0, timeout: 0 },
  unchecked: 0,
  unsandboxed: 0,
  overall: { judged: 7, accepted: 2, correct: 4, acceptedCorrect: 1, falseAccepts: 1, falseRejects: 3, precision: 0.5, recall: 0.25 },
  stages: {
    cycle: { judged: 7, accepted: 5, correct: 4, acceptedCorrect: 3, falseAccepts: 2, falseRejects: 1, precision: 0.6, recall: 0.75 },
    factuality: { judged: 5, accepted: 4, correct: 3, acceptedCorrect: 3, falseAccepts: 1, falseRejects: 0, precision: 0.75, recall: 1 },
    correctness: { judged: 4, accepted: 2, correct: 3, acceptedCorrect: 1, falseAccepts: 1, falseRejects: 2, precision: 0.5, recall: 1 / 3 },
  },
};

describe('audit against the scripted server', () => {
  let server: ScriptedServer;
  before(async () => {
    server = await startScriptedServer({ models: ['scripted'] });
    server.setHandler(methodHandler(SCRIPTS));
  });
  after(async () => {
    await server.close();
  });

  test('precision, recall, false accepts and false rejects per stage and overall', async () => {
    // Judged (verified, seed done): q0#0 wrong, accepted (false accept); q1#0, q1#2 right, rejected at correctness;
    // q1#1 wrong, rejected at factuality; q2#1 right, accepted; q3#0 right and q3#1 wrong, rejected at the cycle.
    // Checked but never judged (first-valid stopped before them): q0#1, q0#2, q2#2. q4 has no gold.
    const dir = tempDir();
    const before = server.requests.length;
    const checker = new BoxedChecker();
    const result = await run(server, writeSeeds(dir), path.join(dir, 'runs'), { checker });
    assert.equal(result.state, 'finished');
    const events = eventsOf(result.dir);
    const recorded = truths(events);
    assert.deepEqual(
      recorded.map((t) => `${t.candidateId}:${t.outcome}`).sort(),
      ['q0#0:fail', 'q0#1:pass', 'q0#2:pass', 'q1#0:pass', 'q1#1:fail', 'q1#2:pass', 'q2#1:pass', 'q2#2:fail', 'q3#0:pass', 'q3#1:fail'],
    );
    assert.equal(checker.calls, 10, 'only valid candidates of seeds with gold are checked');
    const truth = recorded.find((t) => t.candidateId === 'q0#0')!;
    assert.equal(truth.id, 'truth:q0#0');
    assert.equal(truth.extracted, String(0 * 10 + 8));
    assert.equal(truth.correct, false);

    const view = foldRun(events);
    assert.deepEqual(auditRun(view), EXPECTED);
    // The review sees each candidate's truth in the fold.
    const q2 = view.seeds.find((s) => s.seed.seedId === 'q2')!;
    assert.equal(q2.candidates[0]!.truth, undefined, 'an invalid candidate is not checked');
    assert.equal(q2.candidates[1]!.truth?.correct, true);

    // Gold never reaches the model: no request carries the reference solution, and no prompt the gold in a field.
    const seen = server.requests.slice(before);
    assert.ok(seen.length > 0);
    for (const request of seen) assert.doesNotMatch(JSON.stringify(request.body), new RegExp(GOLD_MARK));
    for (const event of events) {
      if (event.type === 'seed') assert.doesNotMatch(JSON.stringify(event.prompt), new RegExp(GOLD_MARK));
    }

    const json = funnelJson(view);
    assert.deepEqual(json.audit, EXPECTED);
    const text = formatFunnel(view);
    assert.match(text, /Audit against the seeds' gold/);
    assert.match(text, /checked 10 valid candidates: 6 right \(60\.0%\)/);
    assert.match(text, /^ {2}overall +7 +2 +50\.0% +25\.0% +1 +3$/m);
    assert.match(text, /^ {2}correctness +4 +2 +50\.0% +33\.3% +1 +2$/m);
  });

  test('code not run for want of a sandbox reads "not checked"; a resume where a sandbox exists checks it', async () => {
    const dir = tempDir();
    const seeds = writeSeeds(dir);
    const noSandbox: AnswerChecker = {
      check: async (_domain, _text, gold) =>
        gold.answer === undefined ? undefined : { outcome: 'unchecked', correct: false, detail: `${NOT_CHECKED} (bwrap is not installed)`, durationMs: 0 },
    };
    const notices: string[] = [];
    const first = await runPipeline({
      seedsFile: seeds,
      runsDir: path.join(dir, 'runs'),
      runId: 'unsandboxed',
      config: parseRunConfig({ promptsDir: PROMPTS, candidates: 3, votes: 2 }),
      endpoint: { baseURL: server.url, model: 'scripted', engine: 'server' },
      checker: noSandbox,
      onNotice: (text) => notices.push(text),
    });
    assert.equal(first.state, 'finished');
    const recorded = truths(eventsOf(first.dir));
    assert.equal(recorded.length, 10);
    assert.ok(recorded.every((t) => t.outcome === 'unchecked' && t.id === `truth-unchecked:${t.candidateId}`));
    assert.equal(notices.filter((n) => n.includes(NOT_CHECKED)).length, 1, 'said once a run');
    const audit = auditRun(foldRun(eventsOf(first.dir)))!;
    assert.equal(audit.checked, 0);
    assert.equal(audit.unsandboxed, 10);
    assert.equal(audit.unchecked, 10);
    assert.match(formatFunnel(foldRun(eventsOf(first.dir))), /10 coding candidates not checked: no sandbox on this machine/);
    const q0 = foldRun(eventsOf(first.dir)).seeds.find((s) => s.seed.seedId === 'q0')!;
    assert.equal(q0.candidates[0]!.truth?.outcome, 'unchecked');
    assert.match(q0.candidates[0]!.truth!.detail, /^not checked: no sandbox on this machine/);

    // The same run again, now with a checker that can run: each candidate gets its real truth, which takes the place
    // of "not checked" in the fold, and the audit matches that of a run checked from the start.
    const again = await run(server, seeds, path.join(dir, 'runs'), { checker: new BoxedChecker(), runId: 'unsandboxed' });
    const events = eventsOf(again.dir);
    assert.equal(truths(events).filter((t) => t.outcome !== 'unchecked').length, 10);
    assert.deepEqual(auditRun(foldRun(events)), EXPECTED);
  });

  test('the judges decide alone: the same run without checking accepts the same candidates', async () => {
    const dir = tempDir();
    const seeds = writeSeeds(dir);
    const audited = await run(server, seeds, path.join(dir, 'runs'), { checker: new BoxedChecker(), runId: 'a' });
    const plain = await run(server, seeds, path.join(dir, 'runs'), { checker: new BoxedChecker(), config: { audit: 'off' }, runId: 'b' });
    const outcomes = (d: string) => eventsOf(d).flatMap((e) => (e.type === 'outcome' ? [`${e.seedId}:${e.acceptedCandidateIds.join(',')}`] : [])).sort();
    assert.deepEqual(outcomes(plain.dir), outcomes(audited.dir));
    assert.equal(truths(eventsOf(plain.dir)).length, 0, 'audit off: nothing checked');
    assert.equal(funnelJson(foldRun(eventsOf(plain.dir))).audit, undefined);
    assert.doesNotMatch(formatFunnel(foldRun(eventsOf(plain.dir))), /Audit/);
  });

  test('checks run beside the cascade and the run finishes only once every truth is written', async () => {
    const dir = tempDir();
    const countBefore = server.countBy('cycle_infer');
    // Each check waits until the cascade has sent its first request: had the pipeline awaited checks before judging,
    // it would never get there.
    const checker = new BoxedChecker(async () => {
      while (server.countBy('cycle_infer') === countBefore) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    const result = await run(server, writeSeeds(dir), path.join(dir, 'runs'), { checker, config: { concurrency: 1 } });
    assert.equal(result.state, 'finished');
    const events = eventsOf(result.dir);
    assert.equal(truths(events).length, 10);
    const finished = events.findIndex((e) => e.type === 'run' && e.state === 'finished');
    const lastTruth = events.map((e) => e.type).lastIndexOf('truth');
    assert.ok(lastTruth < finished, 'every truth is recorded before the run says finished');
  });

  test('resume checks the candidates that have no truth, and never writes one twice', async () => {
    const dir = tempDir();
    const seeds = writeSeeds(dir);
    const runsDir = path.join(dir, 'runs');
    // A first session that recorded no truth (as one stopped before its checks ended would).
    const first = await run(server, seeds, runsDir);
    assert.equal(truths(eventsOf(first.dir)).length, 0);
    const requests = server.requests.length;
    const checker = new BoxedChecker();
    const second = await run(server, seeds, runsDir, { checker });
    assert.equal(second.resumed, true);
    assert.equal(server.requests.length, requests, 'checking asks the model nothing');
    assert.equal(truths(eventsOf(second.dir)).length, 10);
    assert.deepEqual(auditRun(foldRun(eventsOf(second.dir))), EXPECTED);

    const again = new BoxedChecker();
    await run(server, seeds, runsDir, { checker: again });
    assert.equal(again.calls, 0, 'candidates already checked are not checked again');
    const ids = eventsOf(second.dir).map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'no event is written twice');
    assert.equal(truths(eventsOf(second.dir)).length, 10);
  });

  test('a checker that fails is reported, and the run still finishes', async () => {
    const dir = tempDir();
    const notices: string[] = [];
    const result = await runPipeline({
      seedsFile: writeSeeds(dir),
      runsDir: path.join(dir, 'runs'),
      config: parseRunConfig({ promptsDir: PROMPTS, candidates: 1, votes: 1 }),
      endpoint: { baseURL: server.url, model: 'scripted', engine: 'server' },
      checker: { check: async () => Promise.reject(new Error('sandbox missing')) },
      onNotice: (message) => notices.push(message),
    });
    assert.equal(result.state, 'finished');
    assert.equal(truths(eventsOf(result.dir)).length, 0);
    assert.ok(notices.some((n) => /could not check candidate q0#0: sandbox missing/.test(n)), notices.join('\n'));
  });

  test('svd run checks with the answer checker and svd status shows the audit, as text and JSON', async () => {
    const dir = tempDir();
    const runsDir = path.join(dir, 'runs');
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), isTTY: false };
    const args = ['--base-url', server.url, '--model', 'scripted', '--prompts', PROMPTS, '--runs-dir', runsDir];
    assert.equal(await main(['run', writeSeeds(dir), ...args, '--candidates', '3', '--votes', '2', '--run', 'cli'], io), 0, err.join('\n'));
    out.length = 0;
    assert.equal(await main(['status', 'cli', '--runs-dir', runsDir, '--json'], io), 0, err.join('\n'));
    assert.deepEqual((JSON.parse(out.join('')) as { audit: Audit }).audit, EXPECTED);
    out.length = 0;
    assert.equal(await main(['status', 'cli', '--runs-dir', runsDir], io), 0);
    assert.match(out.join('\n'), /checked 10 valid candidates: 6 right/);

    assert.equal(await main(['run', writeSeeds(dir), ...args, '--candidates', '3', '--votes', '2', '--run', 'off', '--audit', 'off'], io), 0);
    out.length = 0;
    assert.equal(await main(['status', 'off', '--runs-dir', runsDir, '--json'], io), 0);
    assert.equal((JSON.parse(out.join('')) as { audit?: Audit }).audit, undefined);
  });

  const python = spawnSync('python3', ['--version']).status === 0;

  test('coding: the real checker runs each valid candidate against the tests', { skip: !python && 'python3 is not installed' }, async () => {
    const scripts: SeedScript[] = [{ question: 'Write solve() returning the answer.', answers: ['wrong', 'right', 'invalid'] }];
    const generate = methodHandler(scripts);
    // Lenient judges: every question inferred right, every vote yes.
    server.setHandler((call) => {
      const kind = parsePrompt(call.body).kind;
      if (kind === 'generate') return generate(call);
      return { content: kind === 'cycle_infer' ? scripts[0]!.question : '[[Y]]' };
    });
    const dir = tempDir();
    const seeds = path.join(dir, 'code.jsonl');
    writeFileSync(seeds, JSON.stringify({ id: 'c0', domain: 'coding', question: scripts[0]!.question, tests: `assert solve() == ${rightValue(scripts, 0)}` }) + '\n');
    const checker = createAnswerChecker({ codeWorkers: 2 });
    try {
      const result = await runPipeline({
        seedsFile: seeds,
        runsDir: path.join(dir, 'runs'),
        config: parseRunConfig({ promptsDir: PROMPTS, candidates: 3, votes: 1 }),
        endpoint: { baseURL: server.url, model: 'scripted', engine: 'server' },
        checker,
      });
      const view = foldRun(eventsOf(result.dir));
      const candidates = view.seeds[0]!.candidates;
      assert.deepEqual(candidates.map((c) => c.truth?.outcome), ['fail', 'pass', undefined]);
      assert.equal(candidates[0]!.acceptedByMethod, true, 'the lenient judges accepted the wrong program');
      assert.deepEqual(auditRun(view)?.overall, {
        judged: 1, accepted: 1, correct: 0, acceptedCorrect: 0, falseAccepts: 1, falseRejects: 0, precision: 0, recall: null,
      });
    } finally {
      await checker.close();
    }
  });
});
