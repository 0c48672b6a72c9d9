// Reading a judge's reply: its verdict (factuality, correctness, cycle compare) and its inferred question (cycle infer).
// Only the text after the last </think> is read: a judge may think aloud about either verdict before deciding.
import { splitTrace } from './trace';
import type { Verdict } from '../base/types';

export interface ParsedVerdict {
  verdict: Verdict;
  via: 'mark' | 'letter' | 'word' | 'none';
}

const UNPARSEABLE: ParsedVerdict = { verdict: 'unparseable', via: 'none' };

// [[Y]], [[ n ]], [[YES]], [[**N**]]. One character class between the brackets keeps matching linear.
const MARK = /\[\[[\s*_]*(yes|no|y|n)[\s*_]*\]\]/giu;
// What stands between two marks when the judge restates the instruction ("[[Y]] or [[N]]", "[[Y]]/[[N]]").
const QUOTED_PAIR_GAP = /^[^\n]{0,40}$/u;
const QUOTED_PAIR_JOIN = /(?:^|[^\p{L}])or(?:[^\p{L}]|$)|[/|]/iu;

/**
 * The judge's verdict, by the first rule that finds one:
 * 1. mark: the last [[Y]] / [[N]] (spaces, case, [[YES]] / [[NO]] tolerated). Two marks of opposite value joined on
 *    one line by "or", "/" or "|" are a restated instruction, not a verdict, and are skipped.
 * 2. letter: the last line that is a bare uppercase Y or N once decoration is stripped ("N", "**Y**", "> N.",
 *    "\boxed{Y}", "[N]"), or that carries a verdict label ("Verdict: y", "Final answer: N", "My decision is Y").
 *    Lowercase letters count only after verdict / decision / judgment / vote, and a letter inside or glued to a word
 *    or formula ("Y-axis", "N = 5", "N's") never counts: a lone y or n, or "Answer: n", is usually a variable.
 * 3. word: the last YES or NO (any case) that is a whole word and ends its clause (followed by the end of the line
 *    or by . , ! ; : or a dash). "No errors found" or "no longer" is a determiner, not an answer, so it is skipped;
 *    "not", "nobody", "yesterday", "NO2" are other words; "yes or no" and "yes/no" are restated instructions.
 * Anything else, and a reply whose <think> never closes, is unparseable (the cascade counts it as a "no" vote).
 */
export function parseVerdict(text: string): ParsedVerdict {
  const split = splitTrace({ text });
  if (split.unterminated) return UNPARSEABLE;
  const answer = normalize(split.answer);
  if (answer === '') return UNPARSEABLE;

  const mark = lastMark(answer);
  if (mark !== undefined) return { verdict: mark, via: 'mark' };
  const letter = lastLetter(answer);
  if (letter !== undefined) return { verdict: letter, via: 'letter' };
  const word = lastWord(answer);
  if (word !== undefined) return { verdict: word, via: 'word' };
  return UNPARSEABLE;
}

/** Full-width and other compatibility forms fold to ASCII; zero-width characters would split a mark; one line break. */
function normalize(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/[\u200B-\u200D\u2060\uFEFF]/g, '')
    .replace(/\r\n?|\u2028|\u2029/g, '\n');
}

function toVerdict(token: string): Verdict {
  return token[0]?.toLowerCase() === 'y' ? 'yes' : 'no';
}

function lastMark(text: string): Verdict | undefined {
  const marks = Array.from(text.matchAll(MARK), (m) => ({
    start: m.index,
    end: m.index + m[0].length,
    verdict: toVerdict(m[1] ?? ''),
  }));
  const quoted = new Set<number>();
  for (let i = 0; i + 1 < marks.length; i++) {
    const a = marks[i];
    const b = marks[i + 1];
    if (a === undefined || b === undefined || a.verdict === b.verdict) continue;
    const gap = text.slice(a.end, b.start);
    if (QUOTED_PAIR_GAP.test(gap) && QUOTED_PAIR_JOIN.test(gap)) {
      quoted.add(i);
      quoted.add(i + 1);
    }
  }
  for (let i = marks.length - 1; i >= 0; i--) {
    if (!quoted.has(i)) return marks[i]?.verdict;
  }
  return undefined;
}

// Group 1 is set for a verdict label proper; only then may the letter be lowercase ("Answer: n" is likely a variable).
const LABEL_AT_START =
  /^(?:(?:my|the|our)\s+)?(?:(?:final|overall)\s+)?(?:(verdict|decision|judge?ment|vote)|answer|result|conclusion|output|grade)(?:\s+is)?[\s:\-–—]*/iu;
// Mid-sentence only the unambiguous labels count: "the answer is N" may well be about a variable N.
// Single character classes between the parts keep the match linear on long runs of spaces.
const LABEL_INLINE =
  /(?:(verdict|decision|judge?ment)|final\s+answer)(?:\s+is)?[\s:"'“‘([]*([YNyn])(?=$|[^\p{L}\p{N}_'’\-(])/giu;
const LEADING_DECORATION = new Set(Array.from(`"'“”‘’[](){}<>.,!:;#+-–— \t\f\v\u00a0`));
const TRAILING_DECORATION = new Set(Array.from(`"'“”‘’[](){}<>.,!:; \t\f\v\u00a0`));
const BOXED_LETTER = /\\(?:boxed|fbox)\s*\{\s*([YN])\s*\}/g;
const FORMULA_AFTER = /^\s*[=<>≤≥≠+*/^×÷]/u;

/** Walks lines from the end and stops at the first with a letter: a verdict sits near the end of a reply. */
function lastLetter(text: string): Verdict | undefined {
  let end = text.length;
  for (;;) {
    // lastIndexOf(_, -1) would look at index 0 again, so the first line is handled explicitly.
    const start = end === 0 ? -1 : text.lastIndexOf('\n', end - 1);
    const found = lineLetter(text.slice(start + 1, end));
    if (found !== undefined) return found;
    if (start < 0) return undefined;
    end = start;
  }
}

function lineLetter(raw: string): Verdict | undefined {
  // Markdown emphasis and code marks never belong to a verdict; \boxed{Y} and \text{N} are a model's way to stress it.
  const unstyled = raw.replace(/[*`]/g, '').replace(/\\(?:text|textbf|mathrm|mathbf)\s*\{([^{}]*)\}/g, ' $1 ');
  let boxed: Verdict | undefined;
  for (const match of unstyled.matchAll(BOXED_LETTER)) boxed = toVerdict(match[1] ?? '');
  const line = unstyled
    .replace(/\\(?:boxed|fbox)\s*\{([^{}]*)\}/g, ' $1 ')
    .replace(/(?<![\p{L}\p{N}])_+|_+(?![\p{L}\p{N}])/gu, ' ');
  const core = trimSet(line, LEADING_DECORATION, TRAILING_DECORATION);
  if (core === 'Y' || core === 'N') return toVerdict(core);
  const label = LABEL_AT_START.exec(core);
  if (label !== null && label[0] !== '') {
    const rest = trimSet(core.slice(label[0].length), LEADING_DECORATION, TRAILING_DECORATION);
    if (rest === 'Y' || rest === 'N' || (label[1] !== undefined && (rest === 'y' || rest === 'n'))) return toVerdict(rest);
  }
  let found: Verdict | undefined;
  for (const match of line.matchAll(LABEL_INLINE)) {
    const letter = match[2] ?? '';
    const lowercaseAllowed = match[1] !== undefined;
    const after = line.slice(match.index + match[0].length);
    if ((lowercaseAllowed || letter === 'Y' || letter === 'N') && !FORMULA_AFTER.test(after)) found = toVerdict(letter);
  }
  // A boxed letter is unambiguous anywhere in the line; which of the two came last matters little on one line.
  return found ?? boxed;
}

/** Strips characters of the given sets from both ends; a loop, since a regex like /[...]+$/ is quadratic on long runs. */
function trimSet(text: string, leading: ReadonlySet<string>, trailing: ReadonlySet<string>): string {
  let start = 0;
  let end = text.length;
  while (start < end && leading.has(text[start] ?? '')) start++;
  while (end > start && trailing.has(text[end - 1] ?? '')) end--;
  return text.slice(start, end);
}

// ASCII \b finds the words fast; neighbours outside ASCII ("noël") are checked one character at a time.
const WORD = /\b(yes|no)\b/gi;
const WORD_CHAR = /^[\p{L}\p{N}_]$/u;
const WORD_PAIR = /(?<![\p{L}\p{N}_])(?:yes|no)\s*(?:\/|\||\bor\b)\s*(?:yes|no)(?![\p{L}\p{N}_])/giu;
const CLOSING_DECORATION = new Set(Array.from('*_`"\'’”)]}'));
const CLAUSE_PUNCTUATION = new Set(Array.from('.,!;:—–\n'));
const HYPHEN_WORD = /^[-'’]\p{L}/u;

function lastWord(text: string): Verdict | undefined {
  const cleaned = text.replace(WORD_PAIR, (pair) => ' '.repeat(pair.length));
  let found: Verdict | undefined;
  for (const match of cleaned.matchAll(WORD)) {
    const end = match.index + match[0].length;
    const before = cleaned[match.index - 1] ?? ' ';
    if (WORD_CHAR.test(before) || before === '-') continue;
    if (WORD_CHAR.test(cleaned[end] ?? ' ') || HYPHEN_WORD.test(cleaned.slice(end, end + 2))) continue;
    if (endsClause(cleaned, end)) found = toVerdict(match[1] ?? '');
  }
  return found;
}

/** After a word: closing decoration, spaces, then the end of the text, a line break, punctuation or a spaced dash. */
function endsClause(text: string, from: number): boolean {
  let i = from;
  while (i < text.length && CLOSING_DECORATION.has(text[i] ?? '')) i++;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  if (i >= text.length) return true;
  const next = text[i] ?? '';
  if (CLAUSE_PUNCTUATION.has(next)) return true;
  return next === '-' && i > from && (text[i + 1] === ' ' || text[i + 1] === undefined);
}

const QUESTION_LABEL =
  /^(?:#{1,6}\s*)?[*_]{0,3}\s*(?:(?:the|my|an?)\s+)?(?:(?:most\s+)?likely\s+|inferred\s+|reconstructed\s+|original\s+)*(?:question|problem|task)(?:\s+statement)?\s*[*_]{0,3}\s*(?::[*_]{0,3}\s*|[*_]{0,3}\n)/iu;
const WRAPPERS: ReadonlyArray<readonly [string, string]> = [
  ['"', '"'],
  ["'", "'"],
  ['“', '”'],
  ['‘', '’'],
  ['«', '»'],
  ['„', '“'],
  ['**', '**'],
  ['__', '__'],
  ['*', '*'],
  ['_', '_'],
  ['`', '`'],
];

/**
 * Cycle step 1: the question the judge inferred from the answer alone. Reads the text after the last </think>,
 * drops a leading label ("Question:", "**Inferred question:**", "## Reconstructed problem") and quotes or emphasis
 * wrapped around the whole question. Nothing left, or a <think> that never closes: undefined.
 */
export function parseInferredQuestion(text: string): string | undefined {
  const split = splitTrace({ text });
  if (split.unterminated) return undefined;
  let question = split.answer.replace(/\r\n?/g, '\n').trim();
  for (;;) {
    const before = question;
    question = unwrap(question.replace(QUESTION_LABEL, '').trim()).trim();
    if (question === before) break;
  }
  return question === '' ? undefined : question;
}

function unwrap(text: string): string {
  for (const [open, close] of WRAPPERS) {
    if (text.length < open.length + close.length || !text.startsWith(open) || !text.endsWith(close)) continue;
    const inner = text.slice(open.length, text.length - close.length);
    // "A" and "B" starts and ends with a quote but is not one quoted question.
    if (!inner.includes(open) && !inner.includes(close)) return inner;
  }
  return text;
}
