import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../../src/cli/main';
import { EXIT_CODES } from '../../../../src/core/base/errors';
import { parseRunConfig } from '../../../../src/core/base/config';
import { isSvdError } from '../../../../src/core/base/errors';
import { readEvaluation, runEvaluation, type EvalResult } from '../../../../src/core/experiments/evaluate';
import { listRuns } from '../../../../src/core/record/store';
import { parsePrompt, startScriptedServer, type ChatHandler, type ScriptedServer } from '../../../fixtures/scripted-server';
import { boxedEqualsGold } from '../../../fixtures/checkers';

const PROMPTS = path.resolve(__dirname, '../../../fixtures/prompts');

type Plan = 'R' | 'W' | 'I';
interface Question {
  question: string;
  domain: 'math' | 'science';
  right: string;
  /** Per model, per sample index: right, wrong or invalid (no boxed answer). */
  answers: Record<string, Plan[]>;
  /** The correctness judge rejects every answer of this question, right or not. */
  strictCorrectness?: boolean;
}

const ALL_RIGHT: Plan[] = ['R', 'R', 'R', 'R'];
const QUESTIONS: Question[] = [
  { question: 'What is 5 * 5?', domain: 'math', right: '25', answers: { base: ['W', 'R', 'R', 'W'], tuned: ALL_RIGHT } },
  { question: 'What is 6 * 6?', domain: 'math', right: '36', answers: { base: ['W', 'W', 'W', 'W'], tuned: ALL_RIGHT } },
  { question: 'How many protons has carbon?', domain: 'science', right: '6', answers: { base: ALL_RIGHT, tuned: ALL_RIGHT }, strictCorrectness: true },
  { question: 'What is 7 * 7?', domain: 'math', right: '49', answers: { base: ['I', 'I', 'I', 'I'], tuned: ALL_RIGHT } },
];
const UNLABELED = 'What is 8 * 8? (no gold)';

function handler(): ChatHandler {
  const drawn = new Map<string, number>();
  const tagOf = (answer: string | undefined) => {
    const match = /Q(\d+) sample (\d+)/.exec(answer ?? '');
    if (!match) throw new Error(`no tag in ${answer}`);
    return QUESTIONS[Number(match[1])]!;
  };
  return (call) => {
    const prompt = parsePrompt(call.body);
    switch (prompt.kind) {
      case 'generate': {
        const i = QUESTIONS.findIndex((q) => q.question === prompt.question);
        if (i === -1) throw new Error(`unexpected question ${prompt.question}`);
        const key = `${call.body.model}:${i}`;
        const k = drawn.get(key) ?? 0;
        drawn.set(key, k + 1);
        const plan = QUESTIONS[i]!.answers[call.body.model]![k]!;
        const tag = `Q${i} sample ${k}`;
        if (plan === 'I') return { thinking: 'Hmm.', content: `${tag}: I could not finish.` };
        return { thinking: 'Multiply.', content: `${tag}: the answer is \\boxed{${plan === 'R' ? QUESTIONS[i]!.right : '1'}}.` };
      }
      case 'cycle_infer':
        return { content: `${tagOf(prompt.answer).question} (${/sample \d+/.exec(prompt.answer ?? '')![0]})` };
      case 'cycle_compare':
        return { content: '[[Y]]' };
      case 'factuality':
      case 'correctness': {
        const question = tagOf(prompt.answer);
        const right = (prompt.answer ?? '').includes(`\\boxed{${question.right}}`);
        const yes = right && !(prompt.kind === 'correctness' && question.strictCorrectness);
        return { content: yes ? '[[Y]]' : '[[N]]' };
      }
      default:
        throw new Error(`unexpected ${prompt.kind}`);
    }
  };
}

const checker = boxedEqualsGold;

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'svd-eval-'));
}

function writeSeeds(dir: string): string {
  const file = path.join(dir, 'eval.jsonl');
  const rows = QUESTIONS.map((q, i) => ({ id: `q${i}`, domain: q.domain, question: q.question, answer: q.right }));
  rows.splice(2, 0, { id: 'u', domain: 'math', question: UNLABELED } as (typeof rows)[number]);
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

describe('evaluation', () => {
  let server: ScriptedServer;
  before(async () => {
    server = await startScriptedServer({ models: ['base', 'tuned'] });
  });
  after(async () => {
    await server.close();
  });

  const evaluate = (dir: string, options: { ttc?: boolean; samples?: number; limit?: number; models?: string[] } = {}): Promise<EvalResult> =>
    runEvaluation({
      seedsFile: writeSeeds(dir),
      runsDir: path.join(dir, '.svd', 'runs'),
      evalId: 'e1',
      models: (options.models ?? ['base', 'tuned']).map((model) => ({ baseURL: server.url, model, engine: 'server' as const })),
      samples: options.samples ?? 4,
      limit: options.limit,
      ttc: options.ttc,
      config: parseRunConfig({ promptsDir: PROMPTS, candidates: 3, votes: 1, concurrency: 2 }),
      checker,
    });

  test('pass@1 is the mean over K samples, per domain and overall, for two models side by side', async () => {
    server.setHandler(handler());
    const dir = tempDir();
    const from = server.requests.length;
    const result = await evaluate(dir);
    assert.equal(result.questions, 4);
    assert.equal(result.skippedNoGold, 1);
    const [base, tuned] = result.models;
    assert.equal(base!.model, 'base');
    // base: q0 2 of 4, q1 0 of 4, q3 no boxed answer (invalid) 0 of 4; science q2 4 of 4.
    assert.deepEqual(base!.passAt1.overall, { questions: 4, samples: 16, correct: 6, passAt1: 1.5 / 4 });
    assert.deepEqual(base!.passAt1.perDomain.math, { questions: 3, samples: 12, correct: 2, passAt1: 0.5 / 3 });
    assert.deepEqual(base!.passAt1.perDomain.science, { questions: 1, samples: 4, correct: 4, passAt1: 1 });
    assert.equal(base!.passAt1.perDomain.coding, undefined);
    assert.deepEqual(base!.questions[3]!.outcomes, ['invalid', 'invalid', 'invalid', 'invalid']);
    assert.deepEqual(tuned!.passAt1.overall, { questions: 4, samples: 16, correct: 16, passAt1: 1 });
    // One request of n = 4 per question and model; nothing for the unlabeled row.
    assert.equal(base!.requests, 4);
    assert.equal(tuned!.requests, 4);
    const seen = server.requests.slice(from);
    assert.deepEqual(seen.map((r) => [r.kind, r.n]), Array.from({ length: 8 }, () => ['generate', 4]));
    assert.ok(seen.every((r) => !JSON.stringify(r.body).includes(UNLABELED)));
    assert.equal(base!.ttc, undefined);

    const saved = readEvaluation(path.join(dir, '.svd', 'evals', 'e1'));
    assert.deepEqual(saved, result);
  });

  test('the test-time baseline answers with the first candidate that passes, else the first valid one, unverified', async () => {
    server.setHandler(handler());
    const dir = tempDir();
    const from = server.requests.length;
    const result = await evaluate(dir, { ttc: true });
    const [base, tuned] = result.models;
    const ttc = base!.ttc!;
    assert.deepEqual(
      base!.questions.map((q) => q.ttc),
      [
        { candidateId: 'q0#1', verified: true, correct: true }, // q0#0 is wrong and rejected: the first that passes
        { candidateId: 'q1#0', verified: false, correct: false }, // nothing passes: the first valid, unverified
        { candidateId: 'q2#0', verified: false, correct: true }, // right, but the strict judge rejects every candidate
        { verified: false, correct: false }, // no valid candidate: no answer
      ],
    );
    assert.deepEqual(ttc.passAt1.overall, { questions: 4, samples: 4, correct: 2, passAt1: 0.5 });
    assert.equal(ttc.verified, 1);
    assert.equal(ttc.unverified, 3);
    assert.equal(ttc.unverifiedShare, 0.75);
    assert.equal(ttc.noAnswer, 1);
    // The candidates are the pass@1 samples 0..2, already cached. The cascade (v = 1): q0 3 + 4, q1 3 x 3, q2 3 x 4.
    assert.equal(ttc.requests, 28);
    assert.equal(ttc.requestsPerQuestion, 7);
    // Samples used per question, cached or not: 12 candidates and 28 votes over 4 questions.
    assert.equal(ttc.samplesPerQuestion, 10);
    // tuned: the first candidate passes everywhere but on q2, whose 3 candidates are all judged (4 each).
    assert.equal(tuned!.ttc!.requests, 4 + 4 + 12 + 4);
    assert.deepEqual(tuned!.ttc!.passAt1.overall.passAt1, 1);
    assert.equal(tuned!.ttc!.unverified, 1);
    assert.equal(server.requests.length - from, 4 + 28 + 4 + 24, 'the server saw what the evaluation counted');

    // The baseline's runs are kept with the evaluations, never among the runs that become training data.
    assert.ok(ttc.runDir.startsWith(path.join(dir, '.svd', 'evals', 'ttc')));
    assert.deepEqual(listRuns(path.join(dir, '.svd', 'runs')), []);

    // Again: the samples come from the cache and the baseline's runs are finished, so nothing is asked.
    const before = server.requests.length;
    const again = await runEvaluation({
      seedsFile: writeSeeds(dir),
      runsDir: path.join(dir, '.svd', 'runs'),
      models: [{ baseURL: server.url, model: 'base', engine: 'server' }],
      samples: 4,
      ttc: true,
      config: parseRunConfig({ promptsDir: PROMPTS, candidates: 3, votes: 1, concurrency: 2 }),
      checker,
    });
    assert.equal(server.requests.length, before);
    assert.deepEqual(again.models[0]!.ttc!.passAt1, ttc.passAt1);
    assert.notEqual(again.id, 'e1');
    assert.ok(existsSync(path.join(again.dir, 'result.json')));
  });

  test('--limit takes the first N labeled questions; a file without gold is refused', async () => {
    server.setHandler(handler());
    const dir = tempDir();
    const result = await evaluate(dir, { limit: 2, samples: 1, models: ['tuned'], ttc: true });
    assert.equal(result.questions, 2);
    assert.deepEqual(result.models[0]!.questions.map((q) => q.seedId), ['q0', 'q1']);
    assert.equal(result.models[0]!.ttc!.passAt1.overall.questions, 2);

    const unlabeled = path.join(dir, 'unlabeled.jsonl');
    writeFileSync(unlabeled, JSON.stringify({ id: 'u', domain: 'math', question: UNLABELED }) + '\n');
    await assert.rejects(
      runEvaluation({
        seedsFile: unlabeled,
        runsDir: path.join(dir, '.svd', 'runs'),
        models: [{ baseURL: server.url, model: 'base', engine: 'server' }],
        config: parseRunConfig({ promptsDir: PROMPTS }),
        checker,
      }),
      (error) => isSvdError(error, 'bad_seed_file'),
    );
  });

  test('svd eval prints the models side by side and --json the result', async () => {
    server.setHandler(handler());
    const dir = tempDir();
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), isTTY: false };
    const args = [writeSeeds(dir), '--base-url', server.url, '--model', 'base', '--model', 'tuned', '--prompts', PROMPTS, '--runs-dir', path.join(dir, '.svd', 'runs')];
    const code = await main(['eval', ...args, '--samples', '4', '--ttc', '--candidates', '3', '--votes', '1'], io);
    assert.equal(code, 0, err.join('\n'));
    const text = out.join('\n');
    assert.match(text, /4 questions \(1 row\(s\) without gold skipped\), 4 sample\(s\) each/);
    assert.match(text, /^ +base +tuned$/m);
    assert.match(text, /^ {2}math \(3\) +16\.7% +100\.0%$/m);
    assert.match(text, /^ {2}overall \(4\) +37\.5% +100\.0%$/m);
    assert.match(text, /^test-time baseline \(n=3, v=1\)/m);
    assert.match(text, /^ {2}unverified +75\.0% +25\.0%$/m);
    assert.match(text, /^result .*evals.*result\.json$/m);

    out.length = 0;
    assert.equal(await main(['eval', ...args, '--samples', '4', '--json'], io), 0, err.join('\n'));
    const json = JSON.parse(out.join('')) as EvalResult;
    assert.deepEqual(json.models.map((m) => m.passAt1.overall.passAt1), [0.375, 1]);
    assert.deepEqual(readEvaluation(json.dir), json);

    // --events: progress per model as the samples come (the cache answers them all here), then the result.
    out.length = 0;
    assert.equal(await main(['eval', ...args, '--samples', '4', '--events'], io), 0, err.join('\n'));
    const events = out.map((line) => JSON.parse(line) as { type: string; model?: string; done?: number; total?: number } & Partial<EvalResult>);
    assert.equal(events.at(-1)!.type, 'result');
    assert.deepEqual(events.at(-1)!.models!.map((m) => m.passAt1.overall.passAt1), [0.375, 1]);
    const progress = events.filter((e) => e.type === 'progress');
    assert.ok(progress.length >= 2, JSON.stringify(events.slice(0, 3)));
    assert.ok(progress.every((e) => e.done! <= e.total!));
    assert.deepEqual([...new Set(progress.map((e) => e.model))], json.models.map((m) => m.model));

    const three = ['--base-url', server.url, '--base-url', server.url];
    assert.equal(await main(['eval', ...args, ...three], io), EXIT_CODES.bad_config, 'three servers for two models');
  });
});
