// Multiple choice: the option letter the candidate settled on, against the gold letter.
import { splitTrace } from '../method/trace';
import { finalBoxedAnswer } from './math';
import type { CheckResult } from '../base/checker';

/** A gold answer that is an option letter (A to J, as in MMLU and MMLU-Pro), else undefined. */
export function choiceLetter(gold: string): string | undefined {
  const m = /^\s*\(?\s*([A-J])\s*\)?\s*\.?\s*$/.exec(gold);
  return m ? m[1] : undefined;
}

// Ways of stating the answer, strongest first; within a kind the last statement wins ("..., so A. Wait: C." is C).
const LETTER = '\\(?\\s*([A-J])\\s*\\)?';
const STATED: RegExp[][] = [
  [
    // "the answer is (B)", "Answer: **B**", "correct option: C", "the best choice would be D"
    new RegExp(`(?:answer|correct\\s+(?:option|choice|letter)|best\\s+(?:option|choice))\\s*(?:is|would\\s+be|should\\s+be|must\\s+be|:)?\\s*[:\\s*]*(?:option|choice)?\\s*\\**\\s*${LETTER}(?![A-Za-z0-9])`, 'gi'),
    // "option B is correct", "(C) is the right answer"
    new RegExp(`(?:(?:option|choice)\\s+)?${LETTER}\\s*\\**\\s+is\\s+(?:the\\s+)?(?:correct|right|best)(?:\\s+(?:answer|option|choice))?\\b`, 'gi'),
  ],
  // **B**, **(B)**, **B.**, **B) text**
  [/\*\*\s*\(?([A-J])\s*[).:]?(?:\s[^*\n]*)?\*\*/g],
  // a line that is only the letter: "B", "(B)", "B."
  [/^[ \t]*\(?([A-J])\)?\.?[ \t]*$/gm],
  // (B) anywhere
  [/\(([A-J])\)/g],
];

/** The option letter the candidate chose, read from the text after its thinking; undefined when it names none. */
export function finalChoice(text: string): string | undefined {
  const answer = splitTrace({ text }).answer;
  const boxed = finalBoxedAnswer(answer);
  if (boxed !== undefined) {
    const letter = boxedLetter(boxed);
    if (letter) return letter;
  }
  for (const patterns of STATED) {
    let last: { index: number; letter: string } | undefined;
    for (const pattern of patterns) {
      for (const match of answer.matchAll(pattern)) {
        const letter = match[1]!;
        // Case-insensitive keywords, but a letter must be a capital: "the answer is a prime" names no option.
        if (/^[A-J]$/.test(letter) && (last === undefined || match.index > last.index)) last = { index: match.index, letter };
      }
    }
    if (last) return last.letter;
  }
  return undefined;
}

/** `B`, `(B)`, `\text{(B)}`, `\textbf{B}`, `B. 42`, `(B) 42`. */
function boxedLetter(boxed: string): string | undefined {
  const inner = boxed
    .replace(/\\(?:text|textbf|mathrm|mathbf|textrm|mbox)\s*\{([^{}]*)\}/g, '$1')
    .replace(/\*\*/g, '')
    .trim();
  const m = /^\(?\s*([A-J])\s*(?:\)|\.|:|$)/.exec(inner);
  return m ? m[1] : undefined;
}

export function checkChoice(text: string, goldLetter: string): CheckResult {
  const started = performance.now();
  const gold = choiceLetter(goldLetter) ?? goldLetter.trim().toUpperCase();
  const extracted = finalChoice(text);
  if (extracted === undefined) {
    return { outcome: 'error', correct: false, detail: 'no option letter found', durationMs: performance.now() - started };
  }
  const correct = extracted === gold;
  return {
    outcome: correct ? 'pass' : 'fail',
    correct,
    extracted,
    detail: correct ? `chose ${extracted}, the gold option` : `chose ${extracted}, the gold option is ${gold}`,
    durationMs: performance.now() - started,
  };
}
