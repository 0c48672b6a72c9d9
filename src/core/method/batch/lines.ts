// The OpenAI batch line format, which the OpenAI Batch API, `vllm run-batch` and other tools read and write: one
// request per sample, named by a custom_id that says run, seed, candidate, stage and vote (the run's id and the
// sample's event id), and the output and error lines that answer them, in OpenAI's shape or vLLM's.
import { z } from 'zod';
import { SvdError } from '../../base/errors';
import type { Sample, SampleRequest } from '../../base/types';
import { CompletionSchema, hasAnswer, shapeProblem, textOrUndefined } from '../chatResponse';
import { chatBody, type ChatBody } from '../model';

/** Between the run's id and the event id: run ids may hold `/` (a sweep's cells) but event ids never start so. */
const SEPARATOR = '|';
/** The event ids a request is made for: candidates and votes (see record/events.ts). */
const SAMPLE_EVENT = /^(cand|vote):/;

/** The custom_id of a sample: e.g. `seeds-1a2b3c4d|vote:q7#2:factuality:judge:1`. */
export function customIdOf(runId: string, eventId: string): string {
  return `${runId}${SEPARATOR}${eventId}`;
}

/** The event id a custom_id names, when it names a sample of this run; undefined otherwise. */
export function eventIdOf(runId: string, customId: string): string | undefined {
  const prefix = `${runId}${SEPARATOR}`;
  if (!customId.startsWith(prefix)) return undefined;
  const eventId = customId.slice(prefix.length);
  return SAMPLE_EVENT.test(eventId) ? eventId : undefined;
}

export const CHAT_COMPLETIONS_URL = '/v1/chat/completions';

export interface RequestLine {
  custom_id: string;
  method: 'POST';
  url: typeof CHAT_COMPLETIONS_URL;
  body: Omit<ChatBody, 'n'>;
}

/** One sample's request; `n` is left out (one sample per line) so that each sample has its own custom_id. */
export function requestLine(customId: string, model: string, request: SampleRequest): RequestLine {
  return { custom_id: customId, method: 'POST', url: CHAT_COMPLETIONS_URL, body: chatBody(model, request) };
}

// OpenAI: `error` is {code, message} or null, a failed request's `response` is null or carries the status and an
// error body. vLLM: `error` is a string, and a failed request's `response` has status 400 and no body.
const ResultLineSchema = z.looseObject({
  custom_id: z.string().min(1),
  response: z
    .looseObject({
      status_code: z.number().int(),
      body: z.unknown().optional(),
    })
    .nullable()
    .optional(),
  error: z.unknown().optional(),
});

export type ResultLine =
  | { customId: string; ok: true; sample: Sample }
  | { customId: string; ok: false; reason: string };

/**
 * One output or error line read: its sample, or why it holds none. Throws `bad_config` naming the field when the
 * line is not a batch result at all; `where` says file and line.
 */
export function parseResultLine(text: string, where: string): ResultLine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SvdError('bad_config', `${where}: not a JSON line`);
  }
  const parsed = ResultLineSchema.safeParse(json);
  if (!parsed.success) throw new SvdError('bad_config', `${where}: not a batch result line: ${shapeProblem(parsed.error)}`);
  const { custom_id: customId, response, error } = parsed.data;
  const failed = (reason: string): ResultLine => ({ customId, ok: false, reason });
  const said = errorText(error);
  if (said !== undefined) return failed(said);
  if (!response) return failed('no response');
  if (response.status_code < 200 || response.status_code >= 300) {
    return failed(`status ${response.status_code}${bodyError(response.body) ? `: ${bodyError(response.body)}` : ''}`);
  }
  const completion = CompletionSchema.safeParse(response.body);
  if (!completion.success) return failed(`an unexpected response body: ${shapeProblem(completion.error)}`);
  const choice = completion.data.choices.find(hasAnswer);
  if (!choice) return failed('the response has no content (content: null)');
  const sample: Sample = {
    text: choice.message.content ?? '',
    finishReason: choice.finish_reason ?? 'unknown',
    promptTokens: Math.round(completion.data.usage?.prompt_tokens ?? 0),
    completionTokens: Math.round(completion.data.usage?.completion_tokens ?? 0),
  };
  const reasoning = textOrUndefined(choice.message.reasoning_content) ?? textOrUndefined(choice.message.reasoning);
  if (reasoning !== undefined) sample.reasoning = reasoning;
  return { customId, ok: true, sample };
}

/** The error a line carries, as text: OpenAI's object or vLLM's string; undefined for none. */
function errorText(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  if (typeof error === 'string') return error === '' ? undefined : error;
  if (typeof error === 'object') {
    const { code, message } = error as { code?: unknown; message?: unknown };
    const parts = [code, message].filter((part): part is string => typeof part === 'string' && part !== '');
    return parts.length > 0 ? parts.join(': ') : JSON.stringify(error);
  }
  return String(error);
}

function bodyError(body: unknown): string | undefined {
  const message = (body as { error?: { message?: unknown } } | null | undefined)?.error?.message;
  return typeof message === 'string' ? message : undefined;
}
