// Short answers in words (science: "mitochondria", "the Krebs cycle"): exact match after the normalisation SQuAD's
// and TriviaQA's graders use (case, punctuation, articles, whitespace), plus Unicode (NFKC, accents) and the LaTeX a
// boxed answer wraps words in. Answers that are numbers or formulas go to the math checker instead (isWordAnswer).
import { splitTrace } from '../method/trace';
import { finalBoxedAnswer } from './math';
import type { CheckResult } from '../base/checker';

// H2O, CO2, NaCl, Na^+: a chemical formula names a substance; it is not a product of symbols.
const FORMULA = /^(?:[A-Z][a-z]?(?:_?\{?\d+\}?)?)+(?:\^?\{?\d*[+-]\}?)?$/;

/**
 * Whether a gold answer is words (exact match) rather than a number or a formula (the math checker). A number with
 * its unit ("1.5 meters", "-5 kJ/mol") is a number: the math checker reads the value. Otherwise a word is three
 * letters or more outside LaTeX commands; a chemical formula counts as words; so does text without a digit or an
 * operator ("pH").
 */
export function isWordAnswer(gold: string): boolean {
  const text = gold.trim().replace(/^\$+|\$+$/g, '').trim();
  if (/^[-+\u2212]?\s*\.?\d/.test(text)) return false;
  if (FORMULA.test(text)) return true;
  if (/\p{L}{3,}/u.test(text.replace(/\\[a-zA-Z]+/g, ' '))) return true;
  return !/[\p{N}\\^_=+\-*/<>()|]/u.test(text);
}

const ARTICLES = /\b(?:a|an|the)\b/g;

/**
 * SQuAD's normalize_answer (lower case, no punctuation, no articles, single spaces), after NFKC, accents removed and
 * LaTeX unwrapped: `\text{The Krebs cycle.}` and `krebs  cycle` are the same answer.
 */
export function normalizeShortAnswer(text: string): string {
  return text
    .replace(/\\(?:text|textrm|textbf|textit|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}/g, '$1')
    .replace(/\\[,;:! ]|~/g, ' ')
    .replace(/\$/g, '')
    // Sub- and superscripts (H_{2}O, Na^+) are part of the name; a bare `_` joins words (TriviaQA's titles).
    .replace(/_(?=\{|\d)|\^(?=\{|\d|[+-])|[{}]/g, '')
    .replace(/_/g, ' ')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .normalize('NFKC')
    .toLowerCase()
    // A trailing sign is a charge (Na+, Cl-), which punctuation removal would lose.
    .replace(/(?<=[\p{L}\p{N}])\+(?=\s|$)/gu, ' plus')
    .replace(/(?<=[\p{L}\p{N}])[-\u2212](?=\s|$)/gu, ' minus')
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .replace(ARTICLES, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const STATED = /(?:final\s+answer|answer)\s*(?:is|:)\s*[:*\s]*([^\n]+?)[\s*]*$/gim;
const SHORT_REPLY = 200;

/**
 * The candidate's answer: its last \boxed{}, else the last "the answer is ..." / "Answer: ..." line, else the whole
 * reply when it is one short line (as SQuAD takes a prediction).
 */
export function finalShortAnswer(text: string): string | undefined {
  const boxed = finalBoxedAnswer(text);
  if (boxed !== undefined) return boxed;
  const answer = splitTrace({ text }).answer.trim();
  let stated: string | undefined;
  for (const match of answer.matchAll(STATED)) stated = match[1]!.replace(/\*+/g, '').trim();
  if (stated !== undefined && stated !== '') return stated;
  return answer !== '' && !answer.includes('\n') && answer.length <= SHORT_REPLY ? answer : undefined;
}

export function checkExact(text: string, gold: string): CheckResult {
  const started = performance.now();
  const extracted = finalShortAnswer(text);
  if (extracted === undefined) {
    return { outcome: 'error', correct: false, detail: 'no \\boxed{} answer', durationMs: performance.now() - started };
  }
  const want = normalizeShortAnswer(gold);
  const got = normalizeShortAnswer(extracted);
  const correct = got !== '' && got === want;
  const detail = correct
    ? `${JSON.stringify(oneLine(extracted))} matches the gold answer ${JSON.stringify(oneLine(gold))} (normalised: ${JSON.stringify(want)})`
    : `${JSON.stringify(oneLine(extracted))} differs from the gold answer ${JSON.stringify(oneLine(gold))} (normalised: ${JSON.stringify(got)} against ${JSON.stringify(want)})`;
  return { outcome: correct ? 'pass' : 'fail', correct, extracted, detail, durationMs: performance.now() - started };
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}
