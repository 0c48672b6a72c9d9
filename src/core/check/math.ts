// Math answers: the last \boxed{} of the candidate (or all its boxes, when the gold lists as many values; or, with no
// box, a bare answer) against the gold answer, by value. Agreement with other graders' tests is measured on
// test/fixtures/check/math-graders.jsonl (see math-graders.md).
//
// Library: mathjs 15.2.0, chosen over @cortex-js/compute-engine 0.140.0. On test/fixtures/check/math-rewrites.jsonl
// (201 pairs, both behind the same structural layer of latex.ts / compare.ts) both agree 201/201 (1.000); mathjs
// takes 348 ms for the table against 703 ms, adds about 0.73 MB to a bundle against 4.5 MB, and supports Node 20
// (compute-engine 0.140 declares node >= 22.3).

// tsc refuses a CommonJS file importing an ES module's declarations (TS1479), though the types resolve; esbuild
// bundles the import from mathjs's ES build, which lets it drop what is not used (0.73 MB instead of 2.6 MB), and
// tsx loads its CommonJS build.
import {
  InfinityDependencies,
  absDependencies,
  acosDependencies,
  addDependencies,
  asinDependencies,
  atanDependencies,
  combinationsDependencies,
  compileDependencies,
  cosDependencies,
  coshDependencies,
  cotDependencies,
  cscDependencies,
  divideDependencies,
  eDependencies,
  expDependencies,
  factorialDependencies,
  fractionDependencies,
  gammaDependencies,
  iDependencies,
  log10Dependencies,
  logDependencies,
  multiplyDependencies,
  nthRootDependencies,
  parseDependencies,
  piDependencies,
  powDependencies,
  secDependencies,
  sinDependencies,
  sinhDependencies,
  sqrtDependencies,
  subtractDependencies,
  tanDependencies,
  tanhDependencies,
  unaryMinusDependencies,
  unaryPlusDependencies,
  create,
  type Fraction,
  type EvalFunction,
  // @ts-expect-error TS1479, as above.
} from 'mathjs';
import { lastBoxed } from '../method/answer';
import { splitTrace } from '../method/trace';
import { AnswerComparer, type CompiledExpression, type Complex, type ExpressionReader } from './compare';
import { parseAnswer } from './latex';
import { latexToMathjs } from './translate';
import type { CheckResult } from '../base/checker';

/** A mathjs instance with only the functions translate.ts can emit. */
function createMath() {
  return create({
    InfinityDependencies,
    absDependencies,
    acosDependencies,
    addDependencies,
    asinDependencies,
    atanDependencies,
    combinationsDependencies,
    compileDependencies,
    cosDependencies,
    coshDependencies,
    cotDependencies,
    cscDependencies,
    divideDependencies,
    eDependencies,
    expDependencies,
    factorialDependencies,
  gammaDependencies,
    iDependencies,
    log10Dependencies,
    logDependencies,
    multiplyDependencies,
    nthRootDependencies,
    parseDependencies,
    piDependencies,
    powDependencies,
    secDependencies,
    sinDependencies,
    sinhDependencies,
    sqrtDependencies,
    subtractDependencies,
    tanDependencies,
    tanhDependencies,
    unaryMinusDependencies,
    unaryPlusDependencies,
  });
}

const MAX_GAMMA_ARGUMENT = 172;

// Past this length an answer is compared as text only: evaluating it would cost more than it could tell.
const MAX_EVALUATED_LENGTH = 2000;

/** Exact rational arithmetic (BigInt fractions) for + - * / and small integer powers: 2^{64} + 1 is not 2^{64}. */
function createExactMath() {
  return create(
    {
      addDependencies,
      compileDependencies,
      divideDependencies,
      fractionDependencies,
      multiplyDependencies,
      parseDependencies,
      powDependencies,
      subtractDependencies,
      unaryMinusDependencies,
      unaryPlusDependencies,
    },
    { number: 'Fraction' },
  );
}

// Only numbers, brackets, the four operations and powers: a function or a name has no exact value here.
const RATIONAL_EXPRESSION = /^[\d\s()+\-*/^]*$/;
// A power's exponent: a literal integer of a few digits, so that no exact power grows past what a check may cost.
const EXPONENT = /\^\s*\(\(?\s*-?\s*\d{1,3}\s*\)?\)/g;

let comparer: AnswerComparer | undefined;

/** The comparer, built on first use so that importing this module costs nothing. */
function sharedComparer(): AnswerComparer {
  if (!comparer) comparer = new AnswerComparer(mathjsReader());
  return comparer;
}

function mathjsReader(): ExpressionReader {
  const math = createMath();
  let exactMath: ReturnType<typeof createExactMath> | undefined;
  // gamma(n) for a large integer n loops for a long time before it overflows. Past 172 it has no value here rather
  // than Infinity, so that 1/2004! and 1/2006! are not both 0.
  const gamma = math.gamma;
  math.import({ boundedGamma: (x: unknown) => (typeof x === 'number' && x > MAX_GAMMA_ARGUMENT ? NaN : gamma(x as number)) });
  return {
    compile(latex: string): CompiledExpression | undefined {
      if (latex.length > MAX_EVALUATED_LENGTH) return undefined;
      const translated = latexToMathjs(latex);
      if (!translated) return undefined;
      let code: EvalFunction;
      try {
        code = math.compile(translated.expression);
      } catch {
        return undefined;
      }
      return {
        variables: translated.variables,
        evaluate(scope) {
          try {
            return toComplex(code.evaluate({ ...scope }));
          } catch {
            return undefined;
          }
        },
        exact() {
          const expression = translated.expression;
          if (translated.variables.length > 0 || !RATIONAL_EXPRESSION.test(expression)) return undefined;
          if (expression.replace(EXPONENT, '').includes('^')) return undefined;
          try {
            exactMath ??= createExactMath();
            const value: unknown = exactMath.compile(expression).evaluate();
            return value !== null && typeof value === 'object' && 'toFraction' in value ? (value as Fraction).toFraction() : undefined;
          } catch {
            return undefined;
          }
        },
      };
    },
  };
}

function toComplex(value: unknown): Complex | undefined {
  if (typeof value === 'number') return Number.isNaN(value) ? undefined : { re: value, im: 0 };
  if (value !== null && typeof value === 'object' && 're' in value && 'im' in value) {
    const { re, im } = value as Complex;
    return typeof re === 'number' && typeof im === 'number' && !Number.isNaN(re) && !Number.isNaN(im) ? { re, im } : undefined;
  }
  return undefined;
}

/**
 * The candidate's final answer: the content of the last `\boxed{...}` / `\fbox{...}` (nested braces balanced) or
 * `\boxed 5`, in the text after the thinking. undefined when there is none.
 */
export function finalBoxedAnswer(text: string): string | undefined {
  const answer = splitTrace({ text }).answer;
  let bare: { index: number; value: string } | undefined;
  for (const match of answer.matchAll(/\\(?:boxed|fbox)(?:\s+|(?=[0-9]))([^\s{$\\][^\s$]*|\\[a-zA-Z]+)/g)) {
    bare = { index: match.index, value: match[1]! };
  }
  if (!bare) return nonEmpty(lastBoxed(answer));
  // A braced box after the bare one wins; before it, the bare one is the last answer.
  return nonEmpty(lastBoxed(answer.slice(bare.index + 1))) ?? bare.value.replace(/[.,;]$/, '');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** Two final answers (LaTeX) mean the same value. */
export function mathEquivalent(answer: string, gold: string): boolean {
  return sharedComparer().equivalent(answer, gold);
}

// More boxes than this in one answer are not gathered into a list.
const MAX_BOXES = 20;

/** The contents of every top-level `\boxed{...}` in the text after the thinking, in order, repeats dropped. */
export function allBoxedAnswers(text: string): string[] {
  const answer = splitTrace({ text }).answer;
  const found: string[] = [];
  let end = 0;
  for (const match of answer.matchAll(/\\(?:boxed|fbox)\s*\{/g)) {
    if (match.index < end) continue;
    let depth = 0;
    let close = -1;
    for (let i = match.index + match[0].length - 1; i < answer.length; i++) {
      const ch = answer[i];
      if (ch === '\\') i++;
      else if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) {
        close = i;
        break;
      }
    }
    if (close < 0) break;
    const value = answer.slice(match.index + match[0].length, close).trim();
    if (value !== '' && !found.includes(value)) found.push(value);
    if (found.length > MAX_BOXES) return [];
    end = close;
  }
  return found;
}

// A bare answer longer than this is prose, not an answer.
const MAX_BARE_LENGTH = 200;

/**
 * The final answer of a text with no \boxed{}: the whole text when it reads as one (`1`, `$\frac12$`, `x = 3`),
 * else what follows "the answer is" / "Final Answer:" on the last line that says so, else a last line that is a
 * value alone. undefined when none: a sentence ("I think it is 4") or a word ("two") is not read as an answer.
 */
export function bareAnswer(text: string): string | undefined {
  const answer = splitTrace({ text }).answer.trim();
  const whole = statedAnswer(answer);
  if (whole !== undefined || !answer.includes('\n')) return whole;
  // A worked answer ending on a line that is the value alone.
  return statedAnswer(answer.slice(answer.lastIndexOf('\n') + 1).trim());
}

function statedAnswer(answer: string): string | undefined {
  const stated = [...answer.matchAll(/(?:final answer|the answer)(?: is)?\s*[:：]?\s*(?:the final answer is\s*)?(.+)$/gim)].pop();
  const candidate = stated ? stated[1]!.replace(/\s*I hope it is correct\.?\s*$/i, '') : answer;
  const math = /^\$+([^$]+)\$+/.exec(candidate.trim()) ?? /^\\[([(]([^]*?)\\[\])]/.exec(candidate.trim());
  // `**15**`: markdown emphasis around the value.
  const value = (math ? math[1]! : candidate)
    .trim()
    .replace(/[.,;]$/, '')
    .trim()
    .replace(/^(\*{1,2}|_{1,2})(.+)\1$/, '$2')
    .trim();
  if (value === '' || value.length > MAX_BARE_LENGTH || /\n/.test(value)) return undefined;
  // Math, not words: a digit or a command, and no run of plain words outside \text{}.
  const outsideText = value.replace(/\\(?:text|mathrm|textbf|mbox)\s*\{[^{}]*\}/g, ' ');
  if (!/[\d\\]/.test(value) || /[a-zA-Z]{2,}\s+[a-zA-Z]{2,}/.test(outsideText.replace(/\\[a-zA-Z]+/g, ' '))) return undefined;
  return value;
}

/** The number of values a gold answer lists (a set, a list of solutions), 1 for anything else. */
function listedCount(gold: string): number {
  const parsed = parseAnswer(gold);
  return parsed.kind === 'list' ? parsed.items.length : 1;
}

function safeEquivalent(answer: string, gold: string): boolean {
  try {
    return mathEquivalent(answer, gold);
  } catch {
    // A parser corner no rule foresaw: the answer cannot be shown equal, so it is not counted right.
    return false;
  }
}

/**
 * The candidate's last boxed answer against the gold answer. Several boxes (`\boxed{1}` and `\boxed{2}`) count
 * together when the gold lists as many values; with no box, a bare answer is compared (see bareAnswer).
 */
export function checkMath(text: string, gold: string): CheckResult {
  const started = performance.now();
  let extracted = finalBoxedAnswer(text);
  if (extracted === undefined) extracted = bareAnswer(text);
  if (extracted === undefined) {
    return { outcome: 'error', correct: false, detail: 'no \\boxed{} answer', durationMs: performance.now() - started };
  }
  let same = safeEquivalent(extracted, gold);
  if (!same) {
    const boxes = allBoxedAnswers(text);
    if (boxes.length > 1 && listedCount(gold) === boxes.length) {
      const joined = boxes.join(', ');
      same = safeEquivalent(joined, gold);
      if (same) extracted = joined;
    }
  }
  return {
    outcome: same ? 'pass' : 'fail',
    correct: same,
    extracted,
    detail: same ? `${oneLine(extracted)} equals the gold answer ${oneLine(gold)}` : `${oneLine(extracted)} differs from the gold answer ${oneLine(gold)}`,
    durationMs: performance.now() - started,
  };
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}
