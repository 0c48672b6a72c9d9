// Runs for the review webview's tests and benchmark, built with the same EventLog the core tests use.
import { candidateIdOf, eventIds, type RunEvent, type VoteEvent } from '../../src/core/record/events';
import type { Stage, Verdict } from '../../src/core/base/types';
import { EventLog, sampleRun } from '../fixtures/events';

export const RICH_ANSWER = [
  '## Solution',
  '',
  'Let $x^2 = 4$, so $x = 2$ (taking the positive root). In display form:',
  '',
  '$$\\frac{a}{b} + \\sqrt{x} = 3$$',
  '',
  '- step one',
  '- step two, see [the docs](https://example.com/docs)',
  '',
  '```python',
  'def answer():',
  '    return 42  # the answer',
  '```',
  '',
  'Therefore the answer is \\boxed{42}.',
].join('\n');

export const RICH_THINKING = 'First I consider the equation $x^2 = 4$. The root is 2. Let me double-check: 2 * 2 = 4.';

/** A judge sample as the pipeline records it. */
export function vote(
  candidateId: string,
  stage: Stage,
  step: VoteEvent['step'],
  index: number,
  verdict: Verdict | null,
  text: string,
  extra: Partial<Pick<VoteEvent, 'inferredQuestion' | 'reasoning'>> = {},
): VoteEvent {
  return {
    type: 'vote',
    id: eventIds.vote(candidateId, stage, step, index),
    at: '2025-03-01T11:00:00.000Z',
    candidateId,
    stage,
    step,
    index,
    text,
    finishReason: 'stop',
    promptTokens: 30,
    completionTokens: 40,
    cached: false,
    verdict,
    ...extra,
  };
}

/**
 * The core tests' sample run (every verdict kind, invalid candidates, overrides, errors) plus:
 * - s6 (math): a rich answer (markdown, math, code, a link, thinking), accepted, with inferred questions;
 * - s7 (coding): #0 in the cycle stage, votes recorded and no result yet (running).
 */
export function reviewRun(): EventLog {
  const log = sampleRun();
  log.run('started');
  log.seed('s6', { line: 6, domain: 'math', question: 'Solve $x^2 = 4$ for positive $x$.' });
  const s6c0 = log.candidate('s6', 0, { text: `<think>${RICH_THINKING}</think>\n${RICH_ANSWER}` });
  for (let i = 0; i < 3; i++) {
    log.events.push(
      vote(s6c0, 'cycle', 'infer', i, null, `Inferred: What positive x satisfies x squared equals four? (sample ${i + 1})`, {
        inferredQuestion: `What positive x satisfies $x^2 = 4$? (v${i + 1})`,
      }),
      vote(s6c0, 'cycle', 'compare', i, 'yes', `Both ask for the positive root of x^2 = 4. [[Y]] (compare ${i + 1})`, {
        inferredQuestion: `What positive x satisfies $x^2 = 4$? (v${i + 1})`,
      }),
    );
  }
  log.events.push({ type: 'stage', id: eventIds.stage(s6c0, 'cycle'), at: '2025-03-01T11:00:01.000Z', candidateId: s6c0, stage: 'cycle', passed: true, yes: 3, votes: 3 });
  log.stage(s6c0, 'factuality', ['yes', 'yes', 'yes']);
  log.stage(s6c0, 'correctness', ['yes', 'yes', 'yes']);
  log.outcome('s6', 'accepted', [s6c0]);

  log.seed('s7', { line: 7, domain: 'coding', question: 'Write a function that returns the sum of a list.' });
  const s7c0 = log.candidate('s7', 0, { text: '<think>easy</think>\n```python\ndef total(xs):\n    return sum(xs)\n```' });
  log.events.push(
    vote(s7c0, 'cycle', 'infer', 0, null, 'Inferred: sum a list', { inferredQuestion: 'Write a function that sums a list of numbers.' }),
    vote(s7c0, 'cycle', 'compare', 0, 'yes', 'Same task. [[Y]]'),
  );
  return log;
}

/** Candidate ids of reviewRun, by what they show. */
export const CANDIDATES = {
  truncated: 's1#0',
  acceptedByMethod: 's1#1',
  notVerified: 's1#2',
  noBoxed: 's1#3',
  failedCycle: 's2#0',
  failedFactualityUnparseable: 's2#1',
  overriddenAccept: 's2#2',
  noCodeBlock: 's3#0',
  overriddenReject: 's4#0',
  rich: 's6#0',
  running: 's7#0',
} as const;

/** A deterministic pseudo-random source, so a big run is the same every time. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * A finished run of `candidates` candidates, 4 per seed, over the three domains, verified with first-valid
 * selection and votes that now and then say no or cannot be read.
 */
export function bigRun(candidates = 10_000): RunEvent[] {
  const events: RunEvent[] = [];
  for (const batch of bigRunBatches(candidates)) events.push(...batch);
  return events;
}

/** `bigRun` a seed at a time, so a run of millions of events can be written without holding it. */
export function* bigRunBatches(candidates = 10_000): Generator<RunEvent[]> {
  const rand = random(7);
  const log = new EventLog();
  const perSeed = 4;
  const seeds = Math.ceil(candidates / perSeed);
  const domains = ['math', 'science', 'coding'] as const;
  log.run('started');
  for (let s = 0; s < seeds; s++) {
    const seedId = `q${String(s + 1).padStart(5, '0')}`;
    const domain = domains[s % 3]!;
    log.seed(seedId, { line: s + 1, domain, question: `Question ${s + 1} (${domain}): compute $\\sum_{k=1}^{${s + 2}} k$ and explain each step.` });
    let accepted: string | undefined;
    for (let i = 0; i < perSeed && s * perSeed + i < candidates; i++) {
      const invalid = rand() < 0.1;
      const body =
        domain === 'coding'
          ? `Here is a solution.\n\n\`\`\`python\ndef solve(n):\n    return n * (n + 1) // 2  # seed ${s + 1}\n\`\`\`\n\nIt runs in $O(1)$.`
          : `We use the formula $\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}$ with $n = ${s + 2}$.\n\n1. Substitute.\n2. Simplify.\n\nSo the answer is \\boxed{${((s + 2) * (s + 3)) / 2}}.`;
      const id = log.candidate(seedId, i, {
        text: `<think>Seed ${s + 1}, candidate ${i}: recall the formula, check small cases, then answer.</think>\n${body}`,
        ...(invalid ? { invalidReason: domain === 'coding' ? 'no_code_block' : 'no_boxed_answer' } : {}),
      });
      if (invalid || accepted) continue;
      const verdicts = (): Verdict[] =>
        [0, 1, 2].map(() => {
          const r = rand();
          return r < 0.12 ? 'no' : r < 0.14 ? 'unparseable' : 'yes';
        });
      if (log.cascade(id, { cycle: verdicts(), factuality: verdicts(), correctness: verdicts() })) accepted = id;
    }
    log.outcome(seedId, accepted ? 'accepted' : 'rejected', accepted ? [accepted] : []);
    yield log.events.splice(0);
  }
  log.run('finished', { wallMs: 1_000_000 });
  yield log.events.splice(0);
}

export { candidateIdOf };

/** A truth event: the candidate checked against its seed's gold, as the pipeline's audit records it. */
export function truth(
  candidateId: string,
  outcome: 'pass' | 'fail' | 'error' | 'timeout' | 'unchecked',
  extra: { extracted?: string; detail?: string; output?: string } = {},
): RunEvent {
  const hash = candidateId.lastIndexOf('#');
  return {
    type: 'truth',
    id: outcome === 'unchecked' ? eventIds.uncheckedTruth(candidateId) : eventIds.truth(candidateId),
    at: '2025-03-01T12:00:00.000Z',
    seedId: candidateId.slice(0, hash),
    candidateId,
    outcome,
    correct: outcome === 'pass',
    detail: extra.detail ?? `${outcome} by the gold`,
    ...(extra.extracted !== undefined ? { extracted: extra.extracted } : {}),
    ...(extra.output !== undefined ? { output: extra.output } : {}),
    durationMs: 12,
  };
}

/** Hostile text where the gold and a test run's output reach the panel: it must stay text. */
export const HOSTILE_GOLD = `<img src=x onerror="window.__xss='gold'"><script>window.__xss='gold-script'</script>`;
export const HOSTILE_OUTPUT = `Traceback: <img src=x onerror="window.__xss='output'"><b>bold?</b>`;

/** Long tests: the panel shows them collapsed. */
export const LONG_TESTS = [
  'def check(candidate):',
  ...Array.from({ length: 12 }, (_, i) => `    assert candidate(${i}, 1) == ${i + 1}`),
  `    # ${HOSTILE_GOLD}`,
].join('\n');

/**
 * A finished run whose seeds carry gold, with truth for every judged candidate, so that which the judges got wrong
 * is known exactly:
 * - m1 (math, gold 42): #0 right, rejected at correctness (false reject); #1 right, accepted.
 * - m2 (math, gold hostile text): #0 wrong, accepted (false accept).
 * - m3 (science, gold B): #0 no answer (error), rejected at cycle; #1 right, rejected at factuality (false reject).
 * - c1 (coding, long tests, entry point add): #0 fails the tests, accepted (false accept); #1 valid, never verified,
 *   no truth (what "Run tests" is tried on).
 * - c2 (coding, short tests): #0 invalid (no code block).
 * Audit: overall 6 judged, 3 accepted, 3 right, 1 both: precision 1/3, recall 1/3, 2 false accepts, 2 false rejects.
 */
export function auditReviewRun(): EventLog {
  const log = new EventLog();
  log.run('started');
  log.seed('m1', { line: 1, domain: 'math', question: 'What is six times seven?' }).gold = { answer: '42' };
  const m1c0 = log.candidate('m1', 0, { text: 'Six sevens: \\boxed{42}' });
  const m1c1 = log.candidate('m1', 1, { text: 'So \\boxed{42}.' });
  log.cascade(m1c0, { correctness: ['yes', 'no', 'yes'] });
  log.cascade(m1c1, {});
  log.outcome('m1', 'accepted', [m1c1]);
  log.events.push(truth(m1c0, 'pass', { extracted: '42' }), truth(m1c1, 'pass', { extracted: '42' }));

  log.seed('m2', { line: 2, domain: 'math', question: 'What is 3 + 4?' }).gold = { answer: `7 ${HOSTILE_GOLD}` };
  const m2c0 = log.candidate('m2', 0, { text: 'Clearly \\boxed{8}' });
  log.cascade(m2c0, {});
  log.outcome('m2', 'accepted', [m2c0]);
  log.events.push(truth(m2c0, 'fail', { extracted: '8', detail: '8 is not 7' }));

  log.seed('m3', { line: 3, domain: 'science', question: 'Which option is a noble gas? A) N B) Ne C) O D) H' }).gold = { answer: 'B' };
  const m3c0 = log.candidate('m3', 0, { text: 'Some gas, I think.' });
  const m3c1 = log.candidate('m3', 1, { text: 'Neon: \\boxed{B}' });
  log.cascade(m3c0, { cycle: ['no', 'yes', 'yes'] });
  log.cascade(m3c1, { factuality: ['yes', 'yes', 'no'] });
  log.outcome('m3', 'rejected');
  log.events.push(truth(m3c0, 'error', { detail: 'no answer found' }), truth(m3c1, 'pass', { extracted: 'B' }));

  log.seed('c1', { line: 4, domain: 'coding', question: 'def add(a, b):\n    """Return a + b."""' }).gold = { tests: LONG_TESTS, entryPoint: 'add' };
  const c1c0 = log.candidate('c1', 0, { text: '```python\ndef add(a, b):\n    return a - b\n```' });
  log.candidate('c1', 1, { text: '```python\ndef add(a, b):\n    return a + b\n```' });
  log.cascade(c1c0, {});
  log.outcome('c1', 'accepted', [c1c0]);
  log.events.push(truth(c1c0, 'fail', { detail: 'AssertionError', output: HOSTILE_OUTPUT }));

  log.seed('c2', { line: 5, domain: 'coding', question: 'Write mul(a, b).' }).gold = { tests: 'assert mul(2, 3) == 6' };
  log.candidate('c2', 0, { invalidReason: 'no_code_block', text: 'mul is a * b' });
  log.outcome('c2', 'no_valid');
  log.run('finished', { wallMs: 10_000 });
  return log;
}

/** Candidate ids of auditReviewRun, by what the gold says of the judges. */
export const AUDIT = {
  falseAccepts: ['m2#0', 'c1#0'],
  falseRejects: ['m1#0', 'm3#1'],
  right: ['m1#1', 'm3#0'],
  untested: 'c1#1',
  invalid: 'c2#0',
} as const;
