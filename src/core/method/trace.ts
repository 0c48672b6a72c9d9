// A sample's text in the two shapes the method uses: the full trace (thinking included, for training) and the
// answer alone (what judges see). Reasoning may come inline as <think>...</think> or in a separate field.
import type { Sample } from '../base/types';

const OPEN = '<think>';
const CLOSE = '</think>';

export interface SplitTrace {
  /** The reasoning: the separate field and/or what stood inside <think>...</think>. */
  thinking: string;
  /** The text after the last </think> (all the text when there is no think block), trimmed. */
  answer: string;
  /** A <think> was opened and never closed: the answer is missing. */
  unterminated: boolean;
}

export function splitTrace(sample: Pick<Sample, 'text' | 'reasoning'>): SplitTrace {
  const text = sample.text;
  const close = text.lastIndexOf(CLOSE);
  const open = text.lastIndexOf(OPEN);
  const separate = sample.reasoning?.trim() ?? '';
  if (close === -1) {
    if (open !== -1) {
      const inline = text.slice(open + OPEN.length).trim();
      return { thinking: join(separate, inline), answer: '', unterminated: true };
    }
    return { thinking: separate, answer: text.trim(), unterminated: false };
  }
  if (open > close) {
    // A new block was opened after the last close and never closed.
    const inline = text.slice(open + OPEN.length).trim();
    return { thinking: join(separate, inline), answer: '', unterminated: true };
  }
  // Several think blocks (or an opener the chat template put in the prompt) leave tags to drop, not just one <think>.
  const inline = text.slice(0, close).split(OPEN).join('\n').split(CLOSE).join('\n').trim();
  return { thinking: join(separate, inline), answer: text.slice(close + CLOSE.length).trim(), unterminated: false };
}

/** The full sample as the model produced it, thinking first, in the <think> form chat templates expect. */
export function fullTrace(sample: Pick<Sample, 'text' | 'reasoning'>): string {
  const separate = sample.reasoning?.trim();
  const text = sample.text.trim();
  if (!separate) {
    // Templates that open <think> in the prompt leave the reply with a bare </think>: restore the opener.
    const close = text.indexOf(CLOSE);
    if (close !== -1 && !text.slice(0, close).includes(OPEN)) return `${OPEN}\n${text}`;
    return text;
  }
  return `${OPEN}\n${separate}\n${CLOSE}\n\n${text}`;
}

function join(a: string, b: string): string {
  return a && b ? `${a}\n${b}` : a || b;
}
