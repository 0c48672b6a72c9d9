// Final-answer extraction and the method's static filter: the checks that need no model call.
import { splitTrace } from './trace';
import type { Domain, InvalidReason, Sample } from '../base/types';

const BOX_OPENER = /\\(?:boxed|fbox)\s*\{/g;

/**
 * The content (trimmed) of the last `\boxed{...}` / `\boxed {...}` / `\fbox{...}` whose braces balance.
 * An unbalanced one counts as absent, so an earlier balanced box is returned instead.
 * `\{` and `\}` are literal braces in LaTeX and do not count toward the balance.
 */
export function lastBoxed(text: string): string | undefined {
  const openers = new Set<number>();
  for (const match of text.matchAll(BOX_OPENER)) openers.add(match.index + match[0].length - 1);
  if (openers.size === 0) return undefined;

  // One forward pass pairs every brace, so many unclosed boxes cost O(length), not O(length^2).
  const stack: number[] = [];
  let best: { open: number; close: number } | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x5c /* \ */) {
      i++;
    } else if (ch === 0x7b /* { */) {
      stack.push(i);
    } else if (ch === 0x7d /* } */) {
      const open = stack.pop();
      if (open !== undefined && openers.has(open) && (best === undefined || open > best.open)) {
        best = { open, close: i };
      }
    }
  }
  return best === undefined ? undefined : text.slice(best.open + 1, best.close).trim();
}

export interface CodeBlock {
  language: string;
  code: string;
}

// A fence opener: any indentation (models nest code blocks in list items), 3+ backticks or tildes, an info string.
const FENCE_OPEN = /^([ \t]*)(`{3,}|~{3,})(.*)$/;

/**
 * The last closed fenced code block. Blocks are paired from the start, as in CommonMark: a closing fence uses the
 * opener's character, is at least as long, and carries nothing but whitespace. An unclosed final fence is not a block.
 */
export function lastCodeBlock(text: string): CodeBlock | undefined {
  const lines = text.split(/\r\n|\r|\n/);
  let last: CodeBlock | undefined;
  let i = 0;
  while (i < lines.length) {
    const open = FENCE_OPEN.exec(lines[i] ?? '');
    const indent = open?.[1];
    const fence = open?.[2];
    const info = open?.[3];
    // A backtick info string may not contain a backtick: "```x```" is inline code, not a fence.
    if (indent === undefined || fence === undefined || info === undefined || (fence[0] === '`' && info.includes('`'))) {
      i++;
      continue;
    }
    const closer = new RegExp(`^[ \\t]*${fence[0] === '`' ? '`' : '~'}{${fence.length},}[ \\t]*$`);
    let end = i + 1;
    while (end < lines.length && !closer.test(lines[end] ?? '')) end++;
    if (end >= lines.length) break;
    const body = lines.slice(i + 1, end).map((line) => dedent(line, indent.length));
    last = { language: info.trim().split(/\s+/)[0] ?? '', code: body.join('\n') };
    i = end + 1;
  }
  return last;
}

/** Removes up to `width` leading whitespace characters, as CommonMark does for an indented fence's content. */
function dedent(line: string, width: number): string {
  let cut = 0;
  while (cut < width && (line[cut] === ' ' || line[cut] === '\t')) cut++;
  return line.slice(cut);
}

export type FilterResult = { valid: true; finalAnswer: string } | { valid: false; reason: InvalidReason };

/**
 * The static filter of the method (no model call). finalAnswer = what judges see: math/science the text after the
 * last </think> (trimmed); coding the last fenced code block re-fenced with its language ("```python\n<code>\n```").
 * An empty `\boxed{}` or a code block holding only whitespace carries no answer, so it fails like a missing one.
 */
export function staticFilter(
  domain: Domain,
  sample: Pick<Sample, 'text' | 'reasoning' | 'finishReason'>,
): FilterResult {
  if (sample.finishReason.trim().toLowerCase() === 'length') return { valid: false, reason: 'truncated' };
  const split = splitTrace(sample);
  if (split.unterminated) return { valid: false, reason: 'unterminated_think' };
  if (split.answer === '') return { valid: false, reason: 'empty' };
  if (domain === 'coding') {
    const block = lastCodeBlock(split.answer);
    if (block === undefined || block.code.trim() === '') return { valid: false, reason: 'no_code_block' };
    return { valid: true, finalAnswer: fenced(block) };
  }
  const boxed = lastBoxed(split.answer);
  if (boxed === undefined || boxed === '') return { valid: false, reason: 'no_boxed_answer' };
  return { valid: true, finalAnswer: split.answer };
}

/** Re-fences code with a fence longer than any backtick run inside it, so the block cannot end early. */
function fenced(block: CodeBlock): string {
  const code = block.code.replace(/^(?:[ \t]*\n)+/, '').trimEnd();
  let longest = 0;
  for (const run of code.matchAll(/`+/g)) longest = Math.max(longest, run[0].length);
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${block.language}\n${code}\n${fence}`;
}
