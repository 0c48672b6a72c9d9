import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseInferredQuestion, parseVerdict } from '../../../../src/core/method/verdict';
import type { ParsedVerdict } from '../../../../src/core/method/verdict';

type Row = [name: string, text: string, verdict: ParsedVerdict['verdict'], via: ParsedVerdict['via']];

const TABLE: Row[] = [
  // Marks
  ['plain Y mark', 'The solution is right.\n\n[[Y]]', 'yes', 'mark'],
  ['plain N mark', 'Step 3 is wrong.\n[[N]]', 'no', 'mark'],
  ['spaces and lowercase', 'ok [[ y ]]', 'yes', 'mark'],
  ['YES inside a mark', 'Final: [[YES]]', 'yes', 'mark'],
  ['no inside a mark', 'Final: [[no]]', 'no', 'mark'],
  ['bold inside the mark', 'Verdict: [[**N**]]', 'no', 'mark'],
  ['bold around the mark', '**[[Y]]**', 'yes', 'mark'],
  ['several marks: the last wins', 'First I thought [[N]], but on rechecking: [[Y]]', 'yes', 'mark'],
  ['changed its mind to no', '[[Y]]\n\nWait, step 2 divides by zero.\n\n[[N]]', 'no', 'mark'],
  ['mark then "no" prose: the mark wins', '[[Y]]\n\nThere is no error. No.', 'yes', 'mark'],
  ['mark then a lone N line: the mark wins', '[[Y]]\nN', 'yes', 'mark'],
  ['mark inside thinking is ignored', '<think>clearly [[Y]]</think>\nActually wrong. [[N]]', 'no', 'mark'],
  ['only thinking has a mark', '<think>[[Y]]</think>\nI cannot decide.', 'unparseable', 'none'],
  ['thinking with a separate later block', '<think>[[N]]</think> text <think>[[N]]</think>\n[[Y]]', 'yes', 'mark'],
  ['unterminated think is unparseable', '<think>The answer is right [[Y]]', 'unparseable', 'none'],
  ['think reopened after the last close', '<think>a</think>[[Y]]<think>still', 'unparseable', 'none'],
  ['quoted instruction then the real mark', 'I must answer with [[Y]] or [[N]]. The proof holds.\n[[N]]', 'no', 'mark'],
  ['real mark then a restated instruction', 'Verdict: [[Y]]\n(Format: end with [[Y]] or [[N]].)', 'yes', 'mark'],
  ['real mark then slash instruction', '[[Y]]\nreply [[Y]]/[[N]]', 'yes', 'mark'],
  ['only the restated instruction, then a letter', 'Answer with [[Y]] or [[N]].\nVerdict: N', 'no', 'letter'],
  ['adjacent opposite marks without "or" are both real', '[[Y]][[N]]', 'no', 'mark'],
  ['full-width brackets and letter', 'よって［［Ｙ］］', 'yes', 'mark'],
  ['zero-width space inside the mark', '[[\u200BN]]', 'no', 'mark'],
  ['CRLF', 'Reasoning...\r\n\r\n[[Y]]\r\n', 'yes', 'mark'],
  ['mark in a code span', 'Result: `[[N]]`', 'no', 'mark'],
  ['mark in LaTeX box', '$\\boxed{[[Y]]}$', 'yes', 'mark'],
  ['single brackets are not a mark but a letter', 'Decision [Y]', 'yes', 'letter'],
  ['triple brackets still hold a mark', '[[[Y]]]', 'yes', 'mark'],
  ['not a mark: other letter', '[[X]]', 'unparseable', 'none'],
  // Letters
  ['a line that is just Y', 'Checked all steps.\nY', 'yes', 'letter'],
  ['a line that is just N with a period', 'Checked.\nN.', 'no', 'letter'],
  ['bold N', 'The limit is wrong.\n\n**N**', 'no', 'letter'],
  ['Verdict: Y', 'Verdict: Y', 'yes', 'letter'],
  ['bold label and lowercase letter', '**Final verdict:** y', 'yes', 'letter'],
  ['heading label', '## Verdict: N', 'no', 'letter'],
  ['inline verdict in a sentence', 'So my verdict is N because step 4 fails.', 'no', 'letter'],
  ['boxed letter', 'Therefore \\boxed{Y}', 'yes', 'letter'],
  ['boxed text letter on its own line', '\\boxed{\\text{N}}', 'no', 'letter'],
  ['blockquote letter', '> N', 'no', 'letter'],
  ['last letter line wins', 'N\n...on reflection\nY', 'yes', 'letter'],
  ['lowercase lone n is a variable, not a verdict', 'for all n\nn', 'unparseable', 'none'],
  ['N = 5 is a formula', 'We need\nN = 5', 'unparseable', 'none'],
  ['Y-axis is a word', 'Plot it on the\nY-axis', 'unparseable', 'none'],
  ["N's is a word", "N's value", 'unparseable', 'none'],
  ['verdict label followed by a formula', 'verdict: N = 5 holds', 'unparseable', 'none'],
  ['"the answer is N" mid-sentence is ambiguous', 'so the answer is N here', 'unparseable', 'none'],
  ['"Answer: n" is a variable, not a verdict', 'Reference solution done.\nAnswer: n', 'unparseable', 'none'],
  ['"Answer: N" after a label counts', 'Answer: N', 'no', 'letter'],
  ['inline lowercase after final answer is a variable', 'so my final answer is n here', 'unparseable', 'none'],
  ['inline lowercase after verdict counts', 'so my verdict is n here', 'no', 'letter'],
  ['Y/N on a line is not a verdict', 'Y/N', 'unparseable', 'none'],
  ['a letter line beats an earlier yes word', 'Yes, mostly.\nN', 'no', 'letter'],
  ['letter beats a later yes word', 'Verdict: N\nYes, I am sure.', 'no', 'letter'],
  // Words
  ['YES at the end', 'All steps check out. YES', 'yes', 'word'],
  ['no errors found ... YES', 'No errors found in the derivation; the constants match. YES', 'yes', 'word'],
  ['YES, there are no errors', 'YES, there are no errors in it', 'yes', 'word'],
  ['No. at the end', 'The sign in step 2 is flipped. No.', 'no', 'word'],
  ['No, comma', 'No, the integral diverges', 'no', 'word'],
  ['lowercase yes', 'so: yes', 'yes', 'word'],
  ['bold NO', 'Final answer: **NO**', 'no', 'word'],
  ['the answer is no', 'Is the proof complete? The answer is no.', 'no', 'word'],
  ['quoted no', "The answer is 'no'.", 'no', 'word'],
  ['not / nobody / yesterday / noon', 'Not right; nobody said so yesterday at noon.', 'unparseable', 'none'],
  ['no as a determiner only', 'There are no mistakes and no gaps here', 'unparseable', 'none'],
  ['no longer / no one', 'It no longer holds and no one disputes it', 'unparseable', 'none'],
  ['no-one and yes-man', 'no-one; a yes-man', 'unparseable', 'none'],
  ['NO2 is a molecule', 'It releases NO2 gas', 'unparseable', 'none'],
  ['yes or no instruction', 'I should reply yes or no.', 'unparseable', 'none'],
  ['yes/no then the answer', 'Reply yes/no: yes', 'yes', 'word'],
  ['unicode letters around no', 'Noël said noño', 'unparseable', 'none'],
  ['full-width YES', 'ＹＥＳ', 'yes', 'word'],
  ['yes then no: last wins', 'Yes. Hmm, actually no.', 'no', 'word'],
  // Nothing
  ['empty', '', 'unparseable', 'none'],
  ['whitespace', ' \n\t\r\n', 'unparseable', 'none'],
  ['gibberish bytes', '\u0000\uFFFD\u0007\uD800~~##[[ ]]]] {{}} ¿¡', 'unparseable', 'none'],
  ['empty mark', '[[]]', 'unparseable', 'none'],
  ['lone think close', '</think>', 'unparseable', 'none'],
  ['zero-width character before the first line break', '\u200B\nno verdict here', 'unparseable', 'none'],
  ['zero-width character then a letter line', '\u200B\nN', 'no', 'letter'],
];

describe('parseVerdict: adversarial table', () => {
  test('the table is large enough to mean something', () => assert.ok(TABLE.length >= 40));
  for (const [name, text, verdict, via] of TABLE) {
    test(name, () => assert.deepEqual(parseVerdict(text), { verdict, via }));
  }
});

describe('parseVerdict: long texts', () => {
  // The best of three runs: the bound is on the parser's cost, not on what else the machine is doing.
  const timed = (text: string): { parsed: ParsedVerdict; ms: number } => {
    let ms = Infinity;
    let parsed: ParsedVerdict = { verdict: 'unparseable', via: 'none' };
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      parsed = parseVerdict(text);
      ms = Math.min(ms, performance.now() - started);
    }
    return { parsed, ms };
  };
  // Warm the regular expressions so the measurement is of the parse, not of compilation.
  parseVerdict('warm up [[Y]]\nN\nyes');

  test('1 MB of prose ending in a mark', () => {
    const text = `${'The derivative of x^2 is 2x, and no step is skipped here.\n'.repeat(18_000)}[[Y]]`;
    assert.ok(text.length > 1_000_000);
    const { parsed, ms } = timed(text);
    assert.deepEqual(parsed, { verdict: 'yes', via: 'mark' });
    assert.ok(ms < 100, `took ${ms.toFixed(1)} ms`);
  });
  test('1 MB of prose with no verdict at all (every fallback runs)', () => {
    const text = 'Consider n and the Y-axis; there are no gaps. '.repeat(23_000);
    const { parsed, ms } = timed(text);
    assert.deepEqual(parsed, { verdict: 'unparseable', via: 'none' });
    assert.ok(ms < 100, `took ${ms.toFixed(1)} ms`);
  });
  test('1 MB of thinking, short answer', () => {
    const text = `<think>${'maybe [[N]] '.repeat(100_000)}</think>\nVerdict: Y`;
    const { parsed, ms } = timed(text);
    assert.deepEqual(parsed, { verdict: 'yes', via: 'letter' });
    assert.ok(ms < 100, `took ${ms.toFixed(1)} ms`);
  });
  test('degenerate whitespace runs after labels and brackets stay fast', () => {
    const text = `verdict${' '.repeat(300_000)}x [[${' '.repeat(300_000)}x no${' '.repeat(300_000)}x`;
    const { parsed, ms } = timed(text);
    assert.deepEqual(parsed, { verdict: 'unparseable', via: 'none' });
    assert.ok(ms < 100, `took ${ms.toFixed(1)} ms`);
  });
  test('many short lines', () => {
    const text = `${'ok\n'.repeat(300_000)}N`;
    const { parsed, ms } = timed(text);
    assert.deepEqual(parsed, { verdict: 'no', via: 'letter' });
    assert.ok(ms < 100, `took ${ms.toFixed(1)} ms`);
  });
});

describe('parseInferredQuestion', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['plain', 'What is 2 + 2?', 'What is 2 + 2?'],
    ['trimmed', '\n  What is 2 + 2?  \n', 'What is 2 + 2?'],
    ['Question: label', 'Question: What is 2 + 2?', 'What is 2 + 2?'],
    ['Inferred question: label', 'Inferred question:\nFind x such that x^2 = 4.', 'Find x such that x^2 = 4.'],
    ['bold label', '**Inferred Question:** Find x.', 'Find x.'],
    ['bold label with the colon outside', '**Question**: Find x.', 'Find x.'],
    ['heading label line', '## Reconstructed problem\n\nFind x.', 'Find x.'],
    ['most likely question', 'The most likely question: Find x.', 'Find x.'],
    ['problem statement label', 'Problem statement: Sort the list.', 'Sort the list.'],
    ['quoted', '"Find x."', 'Find x.'],
    ['curly quoted after a label', 'Question: “Find x.”', 'Find x.'],
    ['bold question', '**Find x.**', 'Find x.'],
    ['two quoted parts are kept', '"A" and "B"?', '"A" and "B"?'],
    ['thinking is dropped', '<think>It might be about primes.</think>\nQuestion: Is 7 prime?', 'Is 7 prime?'],
    ['separate blocks of thinking', '<think>a</think>x<think>b</think>\nFind y.', 'Find y.'],
    ['unterminated thinking', '<think>It might be about', undefined],
    ['empty', '', undefined],
    ['label only', 'Question:', undefined],
    ['quotes only', '""', undefined],
    ['multi-line question kept whole', 'Question: Given n.\n\nCompute f(n).', 'Given n.\n\nCompute f(n).'],
    ['CRLF', 'Question:\r\nFind x.\r\n', 'Find x.'],
    ['a question that starts with the word Question but has no colon', 'Question marks are used how?', 'Question marks are used how?'],
  ];
  for (const [name, text, expected] of cases) {
    test(name, () => assert.equal(parseInferredQuestion(text), expected));
  }
});
