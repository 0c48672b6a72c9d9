import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lastBoxed, lastCodeBlock, staticFilter } from '../../../../src/core/method/answer';
import { fullTrace, splitTrace } from '../../../../src/core/method/trace';
import type { Domain, InvalidReason } from '../../../../src/core/base/types';

describe('lastBoxed', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['simple', 'so \\boxed{42}', '42'],
    ['last of several', '\\boxed{1} then \\boxed{2}', '2'],
    ['nested braces', '\\boxed{\\frac{1}{2}}', '\\frac{1}{2}'],
    ['deeply nested', '\\boxed{\\sqrt{\\frac{a^{2}}{b_{1}}}} done', '\\sqrt{\\frac{a^{2}}{b_{1}}}'],
    ['space before brace', '\\boxed {7}', '7'],
    ['fbox', 'answer: \\fbox{x+1}', 'x+1'],
    ['trimmed', '\\boxed{  5 }', '5'],
    ['escaped braces are literal', '\\boxed{\\{1, 2\\}}', '\\{1, 2\\}'],
    ['escaped closing brace does not close', '\\boxed{a\\}', undefined],
    ['unbalanced last falls back to earlier balanced', '\\boxed{3} and \\boxed{\\frac{1}{2}', '3'],
    ['only unbalanced', 'final: \\boxed{\\frac{1}{2}', undefined],
    ['none', 'the answer is 42', undefined],
    ['\\boxed without brace', '\\boxed 4', undefined],
    ['box inside box: the inner one is the last opened', '\\boxed{\\boxed{9}}', '9'],
    ['empty box', '\\boxed{}', ''],
    ['stray closing brace before', '} } \\boxed{8}', '8'],
    ['stray opening brace before', '{ \\boxed{8}', '8'],
    ['double backslash line break before group', '\\boxed{a \\\\ b}', 'a \\\\ b'],
  ];
  for (const [name, text, expected] of cases) {
    test(name, () => assert.equal(lastBoxed(text), expected));
  }

  test('many unclosed boxes stay linear', () => {
    const text = '\\boxed{'.repeat(150_000);
    const started = performance.now();
    assert.equal(lastBoxed(text), undefined);
    assert.ok(performance.now() - started < 500, 'quadratic scan');
  });
});

describe('lastCodeBlock', () => {
  test('backtick fence with language', () => {
    assert.deepEqual(lastCodeBlock('text\n```python\nprint(1)\n```\nmore'), { language: 'python', code: 'print(1)' });
  });
  test('tilde fence, no language', () => {
    assert.deepEqual(lastCodeBlock('~~~\na = 1\nb = 2\n~~~'), { language: '', code: 'a = 1\nb = 2' });
  });
  test('language is the first word of the info string', () => {
    assert.equal(lastCodeBlock('```cpp title="main.cpp"\nint main(){}\n```')?.language, 'cpp');
  });
  test('last of several blocks', () => {
    const text = '```python\nfirst()\n```\nthen\n```js\nsecond()\n```';
    assert.deepEqual(lastCodeBlock(text), { language: 'js', code: 'second()' });
  });
  test('an unclosed final fence does not count; the earlier closed one does', () => {
    const text = '```python\nok()\n```\n\n```python\ntruncated(';
    assert.deepEqual(lastCodeBlock(text), { language: 'python', code: 'ok()' });
  });
  test('only an unclosed fence', () => {
    assert.equal(lastCodeBlock('```python\nprint(1)\n'), undefined);
  });
  test('a longer fence holds a shorter one', () => {
    const text = '````markdown\n```python\nx = 1\n```\n````';
    assert.deepEqual(lastCodeBlock(text), { language: 'markdown', code: '```python\nx = 1\n```' });
  });
  test('a tilde line does not close a backtick fence', () => {
    assert.deepEqual(lastCodeBlock('```\na\n~~~\nb\n```'), { language: '', code: 'a\n~~~\nb' });
  });
  test('a closing fence with trailing text is content', () => {
    assert.deepEqual(lastCodeBlock('```\na\n``` not a close\nb\n```'), { language: '', code: 'a\n``` not a close\nb' });
  });
  test('inline triple backticks are not a fence', () => {
    assert.equal(lastCodeBlock('use ```x``` here\nand more'), undefined);
  });
  test('indented fence in a list item is dedented by its indent', () => {
    const text = '1. Code:\n   ```python\n   def f():\n       return 1\n   ```';
    assert.deepEqual(lastCodeBlock(text), { language: 'python', code: 'def f():\n    return 1' });
  });
  test('CRLF line endings', () => {
    assert.deepEqual(lastCodeBlock('```python\r\nx = 1\r\ny = 2\r\n```\r\n'), { language: 'python', code: 'x = 1\ny = 2' });
  });
  test('empty block', () => {
    assert.deepEqual(lastCodeBlock('```\n```'), { language: '', code: '' });
  });
});

describe('staticFilter', () => {
  const run = (domain: Domain, text: string, extra: { reasoning?: string; finishReason?: string } = {}) =>
    staticFilter(domain, { text, reasoning: extra.reasoning, finishReason: extra.finishReason ?? 'stop' });
  const invalid = (domain: Domain, text: string, reason: InvalidReason, extra?: { reasoning?: string; finishReason?: string }) =>
    assert.deepEqual(run(domain, text, extra), { valid: false, reason });

  test('math: valid; final answer is the text after </think>, without the thinking', () => {
    const result = run('math', '<think>\nmaybe \\boxed{5}? no.\n</think>\n\nSo x = 4, \\boxed{4}.\n');
    assert.deepEqual(result, { valid: true, finalAnswer: 'So x = 4, \\boxed{4}.' });
  });
  test('science: valid with a letter', () => {
    assert.deepEqual(run('science', 'The answer is \\boxed{C}'), { valid: true, finalAnswer: 'The answer is \\boxed{C}' });
  });
  test('reasoning in a separate field is never part of the final answer', () => {
    const result = run('math', 'Hence \\boxed{7}.', { reasoning: 'secret chain of thought' });
    assert.deepEqual(result, { valid: true, finalAnswer: 'Hence \\boxed{7}.' });
  });
  test('truncated comes first, even with an answer present', () => {
    invalid('math', '<think>x</think> \\boxed{1}', 'truncated', { finishReason: 'length' });
  });
  test('unterminated think', () => invalid('math', '<think>\nlong thinking \\boxed{2}', 'unterminated_think'));
  test('a new think opened after the last close is unterminated', () => {
    invalid('math', '<think>a</think>\\boxed{1}<think>more', 'unterminated_think');
  });
  test('empty text', () => invalid('math', '', 'empty'));
  test('whitespace only', () => invalid('coding', '  \n\t ', 'empty'));
  test('nothing after </think>', () => invalid('math', '<think>\n\\boxed{3}\n</think>\n  ', 'empty'));
  test('empty with reasoning in a separate field', () => invalid('science', '', 'empty', { reasoning: 'thought \\boxed{1}' }));
  test('math without a box', () => invalid('math', 'The answer is 42.', 'no_boxed_answer'));
  test('box only inside the thinking does not count', () => {
    invalid('science', '<think>\\boxed{B}</think>\nI think it is B.', 'no_boxed_answer');
  });
  test('empty or unbalanced box', () => {
    invalid('math', 'Answer: \\boxed{ }', 'no_boxed_answer');
    invalid('math', 'Answer: \\boxed{\\frac{1}{2}', 'no_boxed_answer');
  });
  test('coding without a code block', () => invalid('coding', 'def f(): return 1', 'no_code_block'));
  test('coding with only an unclosed block', () => invalid('coding', 'Here:\n```python\ndef f():\n', 'no_code_block'));
  test('coding with a blank block', () => invalid('coding', '```python\n\n```', 'no_code_block'));
  test('code block only inside the thinking does not count', () => {
    invalid('coding', '<think>\n```python\nx=1\n```\n</think>\nDone.', 'no_code_block');
  });
  test('coding: final answer is the last block, re-fenced with its language', () => {
    const text = '<think>plan</think>\nFirst try:\n```python\nbad()\n```\nFinal:\n~~~python\nimport sys\nprint(sys.stdin.read())\n~~~\nExplained.';
    assert.deepEqual(run('coding', text), { valid: true, finalAnswer: '```python\nimport sys\nprint(sys.stdin.read())\n```' });
  });
  test('coding: no language keeps a bare fence', () => {
    assert.deepEqual(run('coding', '```\nx = 1\n```'), { valid: true, finalAnswer: '```\nx = 1\n```' });
  });
  test('coding: code holding a fence gets a longer fence', () => {
    const result = run('coding', '````python\ns = """\n```\n"""\n````');
    assert.deepEqual(result, { valid: true, finalAnswer: '````python\ns = """\n```\n"""\n````' });
  });
  test('other finish reasons pass', () => {
    assert.equal(run('math', '\\boxed{1}', { finishReason: 'unknown' }).valid, true);
    assert.equal(run('math', '\\boxed{1}', { finishReason: 'LENGTH' }).valid, false);
  });
});

describe('splitTrace / fullTrace', () => {
  test('inline think', () => {
    assert.deepEqual(splitTrace({ text: '<think>\nhmm\n</think>\n\nAnswer' }), { thinking: 'hmm', answer: 'Answer', unterminated: false });
  });
  test('no think at all', () => {
    assert.deepEqual(splitTrace({ text: '  Answer \n' }), { thinking: '', answer: 'Answer', unterminated: false });
  });
  test('separate reasoning field', () => {
    assert.deepEqual(splitTrace({ text: 'Answer', reasoning: ' why ' }), { thinking: 'why', answer: 'Answer', unterminated: false });
  });
  test('separate field plus inline block', () => {
    assert.deepEqual(splitTrace({ text: '<think>b</think>A', reasoning: 'a' }), { thinking: 'a\nb', answer: 'A', unterminated: false });
  });
  test('bare </think> (opener in the prompt)', () => {
    assert.deepEqual(splitTrace({ text: 'thinking here\n</think>\n\nAnswer' }), {
      thinking: 'thinking here',
      answer: 'Answer',
      unterminated: false,
    });
  });
  test('several think blocks: thinking carries no tags, answer is after the last close', () => {
    const split = splitTrace({ text: '<think>one</think>\nmid\n<think>two</think>\nfinal' });
    assert.equal(split.answer, 'final');
    assert.ok(!split.thinking.includes('<think>') && !split.thinking.includes('</think>'), split.thinking);
    assert.match(split.thinking, /one[\s\S]*mid[\s\S]*two/);
  });
  test('unterminated', () => {
    assert.deepEqual(splitTrace({ text: '<think>\nstill going' }), { thinking: 'still going', answer: '', unterminated: true });
  });
  test('fullTrace keeps inline text as is', () => {
    assert.equal(fullTrace({ text: '<think>\nx\n</think>\n\nA\n' }), '<think>\nx\n</think>\n\nA');
    assert.equal(fullTrace({ text: 'plain' }), 'plain');
  });
  test('fullTrace puts a separate reasoning field back in <think> form', () => {
    assert.equal(fullTrace({ text: 'A', reasoning: 'why' }), '<think>\nwhy\n</think>\n\nA');
  });
  test('fullTrace restores the opener of a bare </think>', () => {
    const full = fullTrace({ text: 'why\n</think>\n\nA' });
    assert.equal(full, '<think>\nwhy\n</think>\n\nA');
    assert.deepEqual(splitTrace({ text: full }), { thinking: 'why', answer: 'A', unterminated: false });
  });
  test('round trip: splitting the full trace gives back thinking and answer', () => {
    const sample = { text: 'Final \\boxed{2}', reasoning: 'step 1\nstep 2' };
    assert.deepEqual(splitTrace({ text: fullTrace(sample) }), splitTrace(sample));
  });
});
