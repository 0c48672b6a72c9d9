// Math answers: the last \boxed{} of the candidate against the gold answer, by value.
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
  type EvalFunction,
  // @ts-expect-error TS1479, as above.
} from 'mathjs';
import { lastBoxed } from '../answer';
import { splitTrace } from '../trace';
import { AnswerComparer, type CompiledExpression, type Complex, type ExpressionReader } from './compare';
import { latexToMathjs } from './translate';
import type { CheckResult } from './types';

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

// Past this length an answer is compared as text only: evaluating it would cost more than it could tell.
const MAX_EVALUATED_LENGTH = 2000;

let comparer: AnswerComparer | undefined;

/** The comparer, built on first use so that importing this module costs nothing. */
function sharedComparer(): AnswerComparer {
  if (!comparer) comparer = new AnswerComparer(mathjsReader());
  return comparer;
}

function mathjsReader(): ExpressionReader {
  const math = createMath();
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

/** The candidate's last boxed answer against the gold answer. */
export function checkMath(text: string, gold: string): CheckResult {
  const started = performance.now();
  const extracted = finalBoxedAnswer(text);
  if (extracted === undefined) {
    return { outcome: 'error', correct: false, detail: 'no \\boxed{} answer', durationMs: performance.now() - started };
  }
  let same: boolean;
  try {
    same = mathEquivalent(extracted, gold);
  } catch {
    // A parser corner no rule foresaw: the answer cannot be shown equal, so it is not counted right.
    same = false;
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
