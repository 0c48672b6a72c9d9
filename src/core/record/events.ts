// The run record: one JSON object per line in `<run>/events.jsonl`, appended as things happen.
// Every event has a deterministic `id` (except `error`, `override` and `run`, which are unique per occurrence), so
// writing the same step twice is a no-op: that is what makes resume exact.
import { z } from 'zod';
import { DOMAINS, OVERRIDE_ACTIONS, PURPOSES, STAGES } from '../base/types';

const domain = z.enum(DOMAINS);
const stage = z.enum(STAGES);
const message = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });
const gold = z.object({
  answer: z.string().optional(),
  tests: z.string().optional(),
  solution: z.string().optional(),
  entryPoint: z.string().optional(),
  shuffleSeed: z.number().int().nonnegative().optional(),
  testCases: z
    .object({
      kind: z.enum(['stdin', 'functional']),
      fnName: z.string().optional(),
      unwrap: z.boolean().optional(),
      cases: z.array(z.object({ input: z.string(), output: z.string() })),
      omitted: z.number().int().nonnegative().optional(),
    })
    .optional(),
});
const base = { id: z.string().min(1), at: z.string() };

/** A seed entered processing. `prompt` is exactly what the generation request sent. id: `seed:<seedId>` */
export const SeedEvent = z.object({
  ...base,
  type: z.literal('seed'),
  seedId: z.string(),
  line: z.number().int(),
  domain,
  question: z.string(),
  prompt: z.array(message),
  gold: gold.optional(),
});

/** A generated candidate and the static filter's result. id: `cand:<candidateId>`, candidateId `<seedId>#<index>` */
export const CandidateEvent = z.object({
  ...base,
  type: z.literal('candidate'),
  seedId: z.string(),
  candidateId: z.string(),
  index: z.number().int().nonnegative(),
  text: z.string(),
  reasoning: z.string().optional(),
  finishReason: z.string(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  cached: z.boolean(),
  valid: z.boolean(),
  invalidReason: z.string().optional(),
  /** What the judges see: the text after the last </think> (coding: the last fenced block, with its language). */
  finalAnswer: z.string().optional(),
});

/**
 * One judge sample. `step` is `infer` (cycle: the question inferred from the answer; verdict null),
 * `compare` (cycle: inferred vs original) or `judge` (factuality, correctness).
 * id: `vote:<candidateId>:<stage>:<step>:<index>`
 */
export const VoteEvent = z.object({
  ...base,
  type: z.literal('vote'),
  candidateId: z.string(),
  stage,
  step: z.enum(['infer', 'compare', 'judge']),
  index: z.number().int().nonnegative(),
  text: z.string(),
  reasoning: z.string().optional(),
  finishReason: z.string(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  cached: z.boolean(),
  verdict: z.enum(['yes', 'no', 'unparseable']).nullable(),
  /** cycle/infer: the inferred question; cycle/compare: the inferred question it was compared with. */
  inferredQuestion: z.string().optional(),
});

/** A stage's result for a candidate: passed only when every vote said yes. id: `stage:<candidateId>:<stage>` */
export const StageEvent = z.object({
  ...base,
  type: z.literal('stage'),
  candidateId: z.string(),
  stage,
  passed: z.boolean(),
  yes: z.number().int().nonnegative(),
  votes: z.number().int().nonnegative(),
});

/**
 * A seed is finished: which candidates the method accepted. `no_valid`: no candidate passed the static filter.
 * id: `outcome:<seedId>`
 */
export const OutcomeEvent = z.object({
  ...base,
  type: z.literal('outcome'),
  seedId: z.string(),
  status: z.enum(['accepted', 'rejected', 'no_valid']),
  acceptedCandidateIds: z.array(z.string()),
});

/**
 * Whether a candidate's text matches the seed's gold (answer or tests), recorded for valid candidates of seeds that
 * carry gold. It measures the pipeline (see audit.ts) and never feeds a prompt or a decision. id: `truth:<candidateId>`
 */
export const TruthEvent = z.object({
  ...base,
  type: z.literal('truth'),
  seedId: z.string(),
  candidateId: z.string(),
  /** unchecked: the code was not run for want of a sandbox (id `truth-unchecked:<candidateId>`); a truth of
   * another outcome, recorded later where a sandbox exists, takes its place. */
  outcome: z.enum(['pass', 'fail', 'error', 'timeout', 'unchecked']),
  correct: z.boolean(),
  extracted: z.string().optional(),
  detail: z.string(),
  /** Coding: what the test run printed, cut to TRUTH_OUTPUT_LIMIT characters. */
  output: z.string().optional(),
  durationMs: z.number().nonnegative(),
});

/** The most characters of a check's output (and of its detail) a truth event keeps. */
export const TRUTH_OUTPUT_LIMIT = 4000;

/** A seed's processing failed after retries; it is retried on resume. id: unique. */
export const ErrorEvent = z.object({
  ...base,
  type: z.literal('error'),
  seedId: z.string().optional(),
  candidateId: z.string().optional(),
  kind: z.string(),
  message: z.string(),
  status: z.number().int().optional(),
});

/** A human's decision on a candidate; the latest per candidate wins, `clear` removes it. id: unique. */
export const OverrideEvent = z.object({
  ...base,
  type: z.literal('override'),
  candidateId: z.string(),
  action: z.enum(OVERRIDE_ACTIONS),
  note: z.string().optional(),
});

/** Requests and their tokens, without the cache's or the retries' counts. */
export const RequestCounts = z.object({
  requests: z.number().int().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
});
export type RequestCounts = z.infer<typeof RequestCounts>;

/** Model traffic of one purpose during one session of a run. Cached samples cost no request. */
export const UsageCounts = z.object({
  ...RequestCounts.shape,
  cachedSamples: z.number().int().nonnegative(),
  retries: z.number().int().nonnegative(),
  /**
   * The part of the counts above that a batch API answered (`svd batch`), billed at its discount; absent when none.
   * Kept apart so a run that mixes online and batch requests prices each at its own rate.
   */
  batch: RequestCounts.optional(),
});
export type UsageCounts = z.infer<typeof UsageCounts>;

/**
 * Run lifecycle: each start, stop and finish. A session's end (`finished`, `stopped`, `failed`) carries that
 * session's model usage per purpose and its wall time, so status can sum them over sessions. id: unique.
 */
export const RunStateEvent = z.object({
  ...base,
  type: z.literal('run'),
  state: z.enum(['started', 'finished', 'stopped', 'failed']),
  /** Why a session stopped, when not by the user: `budget`, its cost budget was reached (resumable with a larger one). */
  reason: z.enum(['budget']).optional(),
  message: z.string().optional(),
  usage: z.record(z.enum(PURPOSES), UsageCounts).optional(),
  wallMs: z.number().nonnegative().optional(),
});

/**
 * A session's model usage so far, written every few seconds while it runs (the counts are the session's totals, not
 * a delta), so requests move while the run is live and a session killed before its end still counts. Its end event
 * (`finished`, `stopped`, `failed`) carries the same totals and takes its place. id: unique.
 */
export const UsageEvent = z.object({
  ...base,
  type: z.literal('usage'),
  usage: z.record(z.enum(PURPOSES), UsageCounts),
  wallMs: z.number().nonnegative(),
});

export const RunEvent = z.discriminatedUnion('type', [
  SeedEvent,
  CandidateEvent,
  VoteEvent,
  StageEvent,
  OutcomeEvent,
  TruthEvent,
  ErrorEvent,
  OverrideEvent,
  RunStateEvent,
  UsageEvent,
]);

export type SeedEvent = z.infer<typeof SeedEvent>;
export type CandidateEvent = z.infer<typeof CandidateEvent>;
export type VoteEvent = z.infer<typeof VoteEvent>;
export type StageEvent = z.infer<typeof StageEvent>;
export type OutcomeEvent = z.infer<typeof OutcomeEvent>;
export type TruthEvent = z.infer<typeof TruthEvent>;
export type ErrorEvent = z.infer<typeof ErrorEvent>;
export type OverrideEvent = z.infer<typeof OverrideEvent>;
export type RunStateEvent = z.infer<typeof RunStateEvent>;
export type UsageEvent = z.infer<typeof UsageEvent>;
export type RunEvent = z.infer<typeof RunEvent>;

/** An event as a caller builds it; the store stamps `at`. */
export type NewRunEvent = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'at'> & { at?: string } : never) : never;

export const candidateIdOf = (seedId: string, index: number): string => `${seedId}#${index}`;

export const eventIds = {
  seed: (seedId: string) => `seed:${seedId}`,
  candidate: (candidateId: string) => `cand:${candidateId}`,
  vote: (candidateId: string, stage: string, step: string, index: number) =>
    `vote:${candidateId}:${stage}:${step}:${index}`,
  stage: (candidateId: string, stage: string) => `stage:${candidateId}:${stage}`,
  outcome: (seedId: string) => `outcome:${seedId}`,
  truth: (candidateId: string) => `truth:${candidateId}`,
  uncheckedTruth: (candidateId: string) => `truth-unchecked:${candidateId}`,
};
