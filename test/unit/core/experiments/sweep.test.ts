import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../../src/cli/main';
import { EXIT_CODES } from '../../../../src/core/base/errors';
import { parseRunConfig } from '../../../../src/core/base/config';
import { runPipeline } from '../../../../src/core/method/pipeline';
import { SWEEP_CSV, readSweep, runSweep, sweepCells, type SweepResult } from '../../../../src/core/experiments/sweep';
import { parsePrompt, startScriptedServer, type ChatHandler, type ScriptedServer } from '../../../fixtures/scripted-server';
import { boxedEqualsGold } from '../../../fixtures/checkers';

const PROMPTS = path.resolve(__dirname, '../../../fixtures/prompts');

interface Plan {
  label: string;
  question: string;
  right: string;
  /** Whether candidate k boxes the right value. */
  rightAt: (k: number) => boolean;
  /** The first vote of factuality and correctness says yes even to a wrong answer; later votes do not. */
  lenientFirstVote?: boolean;
}

// A: every candidate right. B: candidate 0 wrong, the rest right. C: every candidate wrong, and the judges' first
// vote lets it through: one vote accepts it, three do not.
const PLANS: Plan[] = [
  { label: 'A', question: 'What is 6 * 7?', right: '42', rightAt: () => true },
  { label: 'B', question: 'What is 9 * 9?', right: '81', rightAt: (k) => k > 0 },
  { label: 'C', question: 'What is 12 * 12?', right: '144', rightAt: () => false, lenientFirstVote: true },
];

/**
 * Replies by the plans. The k-th sample of a prompt is the k-th one the server draws for it, which holds because
 * each cell asks only for samples no earlier cell drew (the claim under test): were a cached sample asked again, the
 * candidate and vote indices would shift and the request counts below would not add up.
 */
function sweepHandler(onInfer?: (answer: string) => boolean): ChatHandler {
  const drawn = new Map<string, number>();
  const next = (key: string) => {
    const index = drawn.get(key) ?? 0;
    drawn.set(key, index + 1);
    return index;
  };
  const planOf = (answer: string | undefined) => {
    const match = /Seed (\w) candidate (\d+)/.exec(answer ?? '');
    if (!match) throw new Error(`no candidate tag in ${answer}`);
    return { plan: PLANS.find((p) => p.label === match[1])!, k: Number(match[2]) };
  };
  return (call) => {
    const prompt = parsePrompt(call.body);
    switch (prompt.kind) {
      case 'generate': {
        const plan = PLANS.find((p) => p.question === prompt.question)!;
        const k = next(`generate:${plan.label}`);
        const value = plan.rightAt(k) ? plan.right : `${plan.right}1`;
        return { thinking: 'Multiply.', content: `Seed ${plan.label} candidate ${k}: the answer is \\boxed{${value}}.` };
      }
      case 'cycle_infer': {
        const { plan, k } = planOf(prompt.answer);
        if (onInfer?.(prompt.answer ?? '')) return { content: 'dropped' };
        return { content: `${plan.question} (read from candidate ${k})` };
      }
      case 'cycle_compare':
        return { content: 'Same question. [[Y]]' };
      case 'factuality':
      case 'correctness': {
        const { plan, k } = planOf(prompt.answer);
        const vote = next(`${prompt.kind}:${plan.label}:${k}`);
        const right = (prompt.answer ?? '').includes(`\\boxed{${plan.right}}`);
        return { content: right || (plan.lenientFirstVote && vote === 0) ? 'Correct. [[Y]]' : 'Wrong. [[N]]' };
      }
      default:
        throw new Error(`unexpected ${prompt.kind}`);
    }
  };
}

const checker = boxedEqualsGold;

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'svd-sweep-'));
}

function writeSeeds(dir: string): string {
  const file = path.join(dir, 'seeds.jsonl');
  writeFileSync(file, PLANS.map((p) => JSON.stringify({ id: p.label, domain: 'math', question: p.question, answer: p.right })).join('\n') + '\n');
  return file;
}

const sampled = (server: ScriptedServer, from: number) => server.requests.slice(from).reduce((sum, r) => sum + r.n, 0);

function sweep(server: ScriptedServer, seeds: string, runsDir: string, signal?: AbortSignal): Promise<SweepResult> {
  return runSweep({
    seedsFile: seeds,
    runsDir,
    candidates: [4, 1],
    votes: [3, 1],
    config: parseRunConfig({ promptsDir: PROMPTS, concurrency: 1 }),
    endpoint: { baseURL: server.url, model: 'scripted', engine: 'server' },
    checker,
    signal,
  });
}

describe('budget sweep', () => {
  let server: ScriptedServer;
  before(async () => {
    server = await startScriptedServer({ models: ['scripted'] });
  });
  after(async () => {
    await server.close();
  });

  test('cells run cheapest first', () => {
    assert.deepEqual(sweepCells([1, 4, 8], [1, 3, 5]).map((c) => c.name), ['n1v1', 'n1v3', 'n4v1', 'n1v5', 'n8v1', 'n4v3', 'n4v5', 'n8v3', 'n8v5']);
  });

  test('each cell asks only for the samples no smaller cell drew', async () => {
    server.setHandler(sweepHandler());
    const dir = tempDir();
    const seeds = writeSeeds(dir);
    const from = server.requests.length;
    const result = await sweep(server, seeds, path.join(dir, 'runs'));
    assert.equal(result.state, 'finished');
    assert.deepEqual(result.cells.map((c) => c.name), ['n1v1', 'n1v3', 'n4v1', 'n4v3']);
    // n1v1: A 5 (generate, infer, compare, factuality, correctness), B 4 (stops at factuality), C 5 (let through).
    // n1v3: 2 more inferences (1 request), 2 more comparisons, 2 more judge votes (1 request each): A 5, B 4, C 4.
    // n4v1: 3 more candidates per seed in one request; A#0 B#0 C#0 are judged from the cache; B#1 is new: 4.
    // n4v3: only B#1's 2 extra votes per step (5) and C#1..C#3, never judged before (3 x 5).
    assert.deepEqual(result.cells.map((c) => c.requests), [14, 13, 7, 20]);
    assert.equal(server.requests.length - from, 54, 'the server saw exactly what the cells counted');
    const generate = server.requests.slice(from).filter((r) => r.kind === 'generate');
    assert.deepEqual(generate.map((r) => r.n), [1, 1, 1, 3, 3, 3], 'n = 4 after n = 1 asks for the 3 missing candidates');
    // Fresh samples over the whole sweep: those of the largest cell (81), plus C#0's correctness vote that only the
    // one-vote cells reached (n4v3 rejects C#0 at factuality).
    assert.equal(sampled(server, from), 82);
    // Samples each cell used (what it would cost alone), and of those the ones the model drew for it.
    assert.deepEqual(result.cells.map((c) => c.samples), [14, 33, 27, 81]);
    assert.deepEqual(result.cells.map((c) => c.samples - c.cachedSamples), [14, 20, 13, 35]);
    assert.deepEqual(result.cells.map((c) => c.accepted), [2, 1, 3, 2]);
    // More votes, fewer false accepts: C#0 passes one lenient vote, not three.
    assert.deepEqual(result.cells.map((c) => [c.precision, c.recall, c.falseAccepts, c.falseRejects]), [
      [0.5, 1, 1, 0],
      [1, 1, 0, 0],
      [2 / 3, 1, 1, 0],
      [1, 1, 0, 0],
    ]);
    assert.ok(result.cells.every((c) => c.promptTokens > 0 && c.completionTokens > 0));

    const saved = readSweep(result.dir);
    assert.deepEqual(saved.cells, result.cells);
    assert.equal(saved.audited, true);
    const csv = readFileSync(path.join(result.dir, SWEEP_CSV), 'utf8').trim().split('\n');
    assert.equal(csv.length, 5);
    assert.match(csv[0]!, /^name,candidates,votes,state,seeds,seeds_done,accepted,judged,accepted_correct,precision,recall,/);
    assert.match(csv[1]!, /^n1v1,1,1,finished,3,3,2,3,1,0.5,1,/);

    // The largest cell alone, with a cold cache: 19 + 21 requests for the same 81 samples.
    server.setHandler(sweepHandler());
    const alone = tempDir();
    const before = server.requests.length;
    const single = await runPipeline({
      seedsFile: writeSeeds(alone),
      runsDir: path.join(alone, 'runs'),
      config: parseRunConfig({ promptsDir: PROMPTS, candidates: 4, votes: 3, concurrency: 1 }),
      endpoint: { baseURL: server.url, model: 'scripted', engine: 'server' },
    });
    assert.equal(single.accepted, 2);
    assert.equal(server.requests.length - before, 40);
    assert.equal(sampled(server, before), 81);

    // Again: every cell is finished, nothing is asked or rewritten.
    const events = readFileSync(path.join(result.dir, 'n4v3', 'events.jsonl'), 'utf8');
    const again = await sweep(server, seeds, path.join(dir, 'runs'));
    assert.equal(server.requests.length - before, 40);
    assert.deepEqual(again.cells, result.cells);
    assert.equal(readFileSync(path.join(result.dir, 'n4v3', 'events.jsonl'), 'utf8'), events);
  });

  test('a stopped sweep resumes: finished cells are kept, the half-done one resumes as a run', async () => {
    const controller = new AbortController();
    // Stop at B#1's first inference, which only the n = 4 cells ask: n1v1 and n1v3 are done by then.
    let stopped = false;
    server.setHandler(
      sweepHandler((answer) => {
        if (stopped || !answer.includes('Seed B candidate 1')) return false;
        stopped = true;
        controller.abort();
        return true;
      }),
    );
    const dir = tempDir();
    const seeds = writeSeeds(dir);
    const runsDir = path.join(dir, 'runs');
    const from = server.requests.length;
    const first = await sweep(server, seeds, runsDir, controller.signal);
    assert.equal(first.state, 'stopped');
    assert.deepEqual(first.cells.map((c) => c.state), ['finished', 'finished', 'stopped', 'pending']);
    assert.deepEqual(readSweep(first.dir).cells.map((c) => c.state), ['finished', 'finished', 'stopped', 'pending']);
    const finishedEvents = readFileSync(path.join(first.dir, 'n1v3', 'events.jsonl'), 'utf8');
    const firstRequests = server.requests.length - from;

    const second = await sweep(server, seeds, runsDir);
    assert.equal(second.state, 'finished');
    assert.equal(readFileSync(path.join(first.dir, 'n1v3', 'events.jsonl'), 'utf8'), finishedEvents, 'a finished cell is not run again');
    // The uninterrupted sweep's 54, plus the one request the stop cut off (sent, so counted, and asked again).
    assert.equal(server.requests.length - from, 55);
    assert.equal(server.requests.length - from - firstRequests, 4 + 20, "the rest of n4v1 (B#1's 4 steps) and n4v3");
    assert.deepEqual(second.cells.map((c) => c.requests), [14, 13, 8, 20]);
    assert.deepEqual(second.cells.map((c) => c.accepted), [2, 1, 3, 2]);
  });

  test('svd sweep prints the table, writes sweep.json and sweep.csv, and --out copies them', async () => {
    server.setHandler(sweepHandler());
    const dir = tempDir();
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), isTTY: false };
    const args = ['--base-url', server.url, '--model', 'scripted', '--prompts', PROMPTS, '--runs-dir', path.join(dir, 'runs'), '--concurrency', '1'];
    const code = await main(['sweep', writeSeeds(dir), '--candidates', '1,4', '--votes', '1,3', ...args, '--out', path.join(dir, 'report')], io);
    assert.equal(code, 0, err.join('\n'));
    const text = out.join('\n');
    assert.match(text, /^cell +state +accepted +precision +recall/m);
    assert.match(text, /^n1v1 +finished +2 +50\.0% +100\.0% +1 +0 +14 /m);
    assert.match(text, /^n4v3 +finished +2 +100\.0% +100\.0% +0 +0 +20 /m);
    const id = /^sweep (\S+)$/m.exec(text)?.[1];
    assert.ok(id, text);
    assert.deepEqual(readSweep(path.join(dir, 'report')).cells, readSweep(path.join(dir, 'runs', id)).cells);

    out.length = 0;
    assert.equal(await main(['sweep', writeSeeds(dir), '--candidates', '1,4', '--votes', '1,3', ...args, '--json'], io), 0);
    const json = JSON.parse(out.join('')) as SweepResult;
    assert.deepEqual(json.cells.map((c) => c.requests), [14, 13, 7, 20], 'read back from the finished cells');
    // status reads a cell like any run.
    out.length = 0;
    assert.equal(await main(['status', `${id}/n4v3`, '--runs-dir', path.join(dir, 'runs'), '--json'], io), 0);
    assert.equal((JSON.parse(out.join('')) as { audit: { overall: { precision: number } } }).audit.overall.precision, 1);

    // --events: one JSON object per line, for the editor: start, a cell line each (finished earlier here), the result.
    out.length = 0;
    assert.equal(await main(['sweep', writeSeeds(dir), '--candidates', '1,4', '--votes', '1,3', ...args, '--events'], io), 0);
    const events = out.map((line) => JSON.parse(line) as { type: string; name?: string; done?: boolean; cells?: unknown[] });
    assert.deepEqual(events.map((e) => e.type), ['start', 'cell', 'cell', 'cell', 'cell', 'result']);
    assert.deepEqual(events.filter((e) => e.type === 'cell').map((e) => [e.name, e.done]), [['n1v1', true], ['n1v3', true], ['n4v1', true], ['n4v3', true]]);
    assert.equal(events.at(-1)!.cells!.length, 4);

    assert.equal(await main(['sweep', writeSeeds(dir), '--candidates', '1,x', '--votes', '1', ...args], io), EXIT_CODES.bad_config);
    assert.equal(await main(['sweep', writeSeeds(dir), '--candidates', '0', '--votes', '1', ...args], io), EXIT_CODES.bad_config);
  });
});
