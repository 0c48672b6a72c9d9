// The review panel's message catalogue: every message the panel host and the review webview exchange, as zod
// schemas both sides validate with. Pure: no node and no vscode imports, so the webview bundles it as is.
//
// Order of a session: the webview posts `ready` (then, at once, a `requestPage` for what it will show); the host
// answers `ready` with `init` and every `requestPage` with a `page`. While a run is live the host posts `events`.
// An `override` is answered by an `overrideResult` (and, as the record changed, by `events`). When the run has a
// training job the host posts `training` after `init` and whenever the job moves; `train` asks the host to start one.
// `runTests` (a coding candidate against its seed's tests) is answered by a `testResult` (and by `events` when the
// host recorded the result in the run).
import * as z from 'zod';
import { DOMAINS, OVERRIDE_ACTIONS, OVERRIDE_DECISIONS, PURPOSES, STAGES } from '../core/base/types';
import { MAX_HREF_LENGTH, isOpenableHref } from './links';
import { ReviewCost } from './reviewCost';

export { MAX_HREF_LENGTH, isOpenableHref };
/** The cascade's stages and the model's request purposes, in order: the webview imports only the protocol. */
export { PURPOSES, STAGES };

/** Bumped when a message changes shape; the webview shows an error instead of misreading a newer host. */
export const REVIEW_PROTOCOL = 1;

/** The most seeds one page may carry: pages stay small messages even when seeds carry long texts. */
export const MAX_PAGE_SEEDS = 500;
export const MAX_NOTE_LENGTH = 10_000;
export const MAX_SEARCH_LENGTH = 500;
/** The most characters of a seed's gold (answer, tests) and of a check's detail or output the panel is sent. */
export const MAX_GOLD_TEXT = 4_000;

const domain = z.enum(DOMAINS);
const stage = z.enum(STAGES);
const purpose = z.enum(PURPOSES);
const count = z.number().int().nonnegative();

// ---------------------------------------------------------------- data

/** One judge sample. Cycle votes come in pairs: `infer` (verdict null) then `compare` of the same index. */
export const ReviewVote = z.object({
  step: z.enum(['infer', 'compare', 'judge']),
  index: count,
  verdict: z.enum(['yes', 'no', 'unparseable']).nullable(),
  /** The judge's reply as returned (what the verdict was read from). */
  text: z.string(),
  /** Reasoning the server returned in a separate field, if any. */
  thinking: z.string().optional(),
  /** cycle: the question inferred from the answer alone. */
  inferredQuestion: z.string().optional(),
});
export type ReviewVote = z.infer<typeof ReviewVote>;

/**
 * `running`: votes recorded, no result yet. `not_reached`: the candidate is invalid, an earlier stage failed, or it
 * was never verified (first-valid selection stops at the first accepted candidate).
 */
export const STAGE_STATES = ['passed', 'failed', 'running', 'not_reached'] as const;
export type StageState = (typeof STAGE_STATES)[number];

export const ReviewStage = z.object({
  stage,
  state: z.enum(STAGE_STATES),
  /** Yes votes and votes counted, from the stage's result (running: from the votes so far). */
  yes: count,
  total: count,
  votes: z.array(ReviewVote),
});
export type ReviewStage = z.infer<typeof ReviewStage>;

export const ReviewOverride = z.object({
  action: z.enum(OVERRIDE_DECISIONS),
  note: z.string().optional(),
  at: z.string(),
});
export type ReviewOverride = z.infer<typeof ReviewOverride>;

export const CHECK_OUTCOMES = ['pass', 'fail', 'error', 'timeout', 'unchecked'] as const;

/**
 * A candidate checked against its seed's gold (the run's audit, or tests run from the panel). It measures the
 * judges; it never decided anything. Texts are the user's data and the program's output: shown as text, never HTML.
 */
export const ReviewTruth = z.object({
  outcome: z.enum(CHECK_OUTCOMES),
  /** outcome === 'pass'. */
  correct: z.boolean(),
  /** What was compared (math: the last \boxed{}; multiple choice: the letter). */
  extracted: z.string().optional(),
  detail: z.string(),
  /** Coding: what the test run printed, cut to MAX_GOLD_TEXT characters. */
  output: z.string().optional(),
  durationMs: z.number().nonnegative().optional(),
});
export type ReviewTruth = z.infer<typeof ReviewTruth>;

/** A seed's gold, for display beside the question; each text cut to MAX_GOLD_TEXT characters. */
export const ReviewGold = z.object({
  answer: z.string().optional(),
  /** Coding: the tests the candidate's program is run with. */
  tests: z.string().optional(),
  entryPoint: z.string().optional(),
});
export type ReviewGold = z.infer<typeof ReviewGold>;

/**
 * Why a valid candidate that no stage rejected was not verified (or not all of it): `first_valid`, the method
 * accepted an earlier candidate of its seed and verifies no more (`acceptedIndex`); `seed_error`, its seed's
 * processing ended in an error (retried when the run resumes); `unfinished`, its seed is not finished (the run has not
 * got here yet, or stopped first: the run's state says which); `seed_finished`, its seed was finished without it.
 */
export const UNVERIFIED_REASONS = ['first_valid', 'seed_error', 'unfinished', 'seed_finished'] as const;
export const ReviewUnverified = z.object({
  reason: z.enum(UNVERIFIED_REASONS),
  acceptedIndex: count.optional(),
});
export type ReviewUnverified = z.infer<typeof ReviewUnverified>;

export const ReviewCandidate = z.object({
  /** `<seedId>#<index>`. */
  id: z.string().min(1),
  index: count,
  /** The answer: the text after the last </think> (all of it when there is no think block). */
  text: z.string(),
  /** The thinking trace: the separate reasoning field and/or what stood inside <think>...</think>. */
  thinking: z.string(),
  finishReason: z.string(),
  valid: z.boolean(),
  invalidReason: z.string().optional(),
  /** Always the three stages, in cascade order. */
  stages: z.array(ReviewStage).length(STAGES.length),
  acceptedByMethod: z.boolean(),
  override: ReviewOverride.optional(),
  /** After the human override, if any. */
  accepted: z.boolean(),
  unparseableVotes: count,
  /** Whether the candidate is right by the seed's gold, when the run checked it. */
  truth: ReviewTruth.optional(),
  /** Why stages are not reached, when neither the static filter nor a stage stopped it. */
  unverified: ReviewUnverified.optional(),
});
export type ReviewCandidate = z.infer<typeof ReviewCandidate>;

export const SEED_STATUSES = ['accepted', 'rejected', 'no_valid', 'pending'] as const;

/** A seed question and its candidates. */
export const ReviewSeed = z.object({
  id: z.string().min(1),
  line: z.number().int(),
  domain,
  question: z.string(),
  /** The seed file's gold answer or tests, when it has them: shown beside the question (as text, never HTML). */
  gold: ReviewGold.optional(),
  /** After the reviewers' decisions (see core/record/runview's seedStatus). */
  status: z.enum(SEED_STATUSES),
  /** The method's status, only where the decisions by hand changed it. */
  statusByMethod: z.enum(SEED_STATUSES).optional(),
  /** By index; a filtered page may carry only the candidates that match. */
  candidates: z.array(ReviewCandidate),
  /** Candidates the seed has in the run, matched or not. */
  candidateCount: count,
  errors: count,
  lastError: z.string().optional(),
  /** Why the seed screening before the run marked this seed (it matches an evaluation item, or repeats a seed). */
  screening: z.string().max(500).optional(),
});
export type ReviewSeed = z.infer<typeof ReviewSeed>;

/** What a list shows. The host filters: it holds the whole run, the webview only the pages it asked for. */
export const SHOW = [
  'all',
  'accepted',
  'rejected',
  'rejected_cycle',
  'rejected_factuality',
  'rejected_correctness',
  'invalid',
  'unverified',
] as const;
export type Show = (typeof SHOW)[number];

/**
 * Where the gold says the judges were wrong: a false accept is accepted by the method but wrong; a false reject is
 * right but was judged and not accepted. Decisions are the method's, as the audit counts them, not a reviewer's.
 */
export const JUDGES_WRONG = ['either', 'false_accept', 'false_reject'] as const;
export type JudgesWrong = (typeof JUDGES_WRONG)[number];

export const ReviewFilter = z.object({
  show: z.enum(SHOW).default('all'),
  domain: z.enum([...DOMAINS, 'all']).default('all'),
  /** Only candidates with at least one vote the judge's reply could not be read from. */
  unparseable: z.boolean().default(false),
  /** Only candidates carrying a human decision. */
  overridden: z.boolean().default(false),
  /** Case-insensitive text in the question, the answer, the thinking, a judge's reply or a note. */
  text: z.string().max(MAX_SEARCH_LENGTH).default(''),
  /** Only candidates the judges got wrong by the gold. Absent (not a default) so that filters of older panels and
   * their stored UI state read as they did. */
  judgesWrong: z.enum(JUDGES_WRONG).optional(),
});
export type ReviewFilter = z.infer<typeof ReviewFilter>;
export const DEFAULT_FILTER: ReviewFilter = Object.freeze({
  show: 'all',
  domain: 'all',
  unparseable: false,
  overridden: false,
  text: '',
});

/** A stable key for a filter: pages for another filter are stale. */
export function filterKey(filter: ReviewFilter): string {
  const key: unknown[] = [filter.show, filter.domain, filter.unparseable, filter.overridden, filter.text.trim().toLowerCase()];
  if (filter.judgesWrong !== undefined) key.push(filter.judgesWrong);
  return JSON.stringify(key);
}

export const ReviewFunnel = z.object({
  seeds: count,
  seedsDone: count,
  candidates: count,
  valid: count,
  verified: count,
  passedCycle: count,
  passedFactuality: count,
  passedCorrectness: count,
  accepted: count,
  acceptedFinal: count,
  overridden: count,
  unparseableVotes: count,
  invalidByReason: z.record(z.string(), count),
  errors: count,
  seedsPending: count,
});
export type ReviewFunnel = z.infer<typeof ReviewFunnel>;

/** Model traffic as the run's sessions recorded it (requests), and the samples the record holds (tokens). */
export const ReviewUsage = z.object({
  requests: count,
  retries: count,
  cachedSamples: count,
  samples: count,
  promptTokens: count,
  completionTokens: count,
});
export type ReviewUsage = z.infer<typeof ReviewUsage>;

export const ReviewDomainStats = z.object({
  domain,
  seeds: count,
  /** Seeds with an accepted candidate (after overrides). */
  seedsAccepted: count,
  candidates: count,
  valid: count,
  accepted: count,
});
export type ReviewDomainStats = z.infer<typeof ReviewDomainStats>;

const share = z.number().min(0).max(1).nullable();

/** core/audit's ConfusionSchema, restated here: the webview bundle takes zod only in the tree-shakable form. */
export const ReviewConfusion = z.object({
  judged: count,
  accepted: count,
  correct: count,
  acceptedCorrect: count,
  falseAccepts: count,
  falseRejects: count,
  precision: share,
  recall: share,
});

/** core/audit's AuditSchema: the judges measured against the gold, per stage and overall. */
export const ReviewAudit = z.object({
  checked: count,
  correct: count,
  outcomes: z.object({ pass: count, fail: count, error: count, timeout: count }),
  unchecked: count,
  unsandboxed: count,
  overall: ReviewConfusion,
  stages: z.object({ cycle: ReviewConfusion, factuality: ReviewConfusion, correctness: ReviewConfusion }),
});
export type ReviewAudit = z.infer<typeof ReviewAudit>;

/** The seed screening before the run: how many seeds it flagged, and the ones the run left out, with why. */
export const ReviewScreening = z.object({
  flagged: count,
  duplicates: count,
  dropped: z.array(z.object({ seed: z.string(), why: z.string().max(500) })).max(MAX_PAGE_SEEDS),
  droppedTotal: count,
});
export type ReviewScreening = z.infer<typeof ReviewScreening>;

export const RunSummary = z.object({
  runId: z.string(),
  state: z.enum(['running', 'finished', 'stopped', 'failed', 'new']),
  lastMessage: z.string().optional(),
  funnel: ReviewFunnel,
  usage: z.record(purpose, ReviewUsage),
  domains: z.array(ReviewDomainStats),
  /** Seeds known to the run (the seed file's rows when known). */
  totalSeeds: count,
  /** Rows of the seed file that are no usable seed and were skipped (when the run recorded them). */
  skippedRows: count.optional(),
  wallMs: z.number().nonnegative(),
  /** False where the host will not record overrides (e.g. a run folder it may not write). */
  canOverride: z.boolean().default(true),
  /** The judges measured against the gold, when the run checked candidates against it (see core/audit). */
  audit: ReviewAudit.optional(),
  screening: ReviewScreening.optional(),
  /** Absent where the host priced nothing; `total: null` where the model has no price. */
  cost: ReviewCost.optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;

// ---------------------------------------------------------------- host -> webview

export const InitMessage = z.object({
  type: z.literal('init'),
  protocol: z.number().int(),
  run: RunSummary,
});

export const PageMessage = z.object({
  type: z.literal('page'),
  /** The `requestPage` this answers. */
  requestId: z.number().int().nonnegative(),
  /** `filterKey` of the filter the page was cut with. */
  filterKey: z.string(),
  offset: count,
  /** Seeds that match the filter, in all pages. */
  total: count,
  /** Candidates those seeds show. */
  totalCandidates: count,
  seeds: z.array(ReviewSeed).max(MAX_PAGE_SEEDS),
});

export const EventsMessage = z.object({
  type: z.literal('events'),
  /** Seeds the new events touched, whole (unfiltered): the webview narrows them with its own filter. */
  seeds: z.array(ReviewSeed),
  run: RunSummary,
  /** Seeds matching the filter of the latest `requestPage`, now, and the candidates they show; with that filter's key. */
  total: count.optional(),
  totalCandidates: count.optional(),
  filterKey: z.string().optional(),
});

export const OverrideResultMessage = z.object({
  type: z.literal('overrideResult'),
  requestId: z.number().int().nonnegative(),
  candidateId: z.string(),
  ok: z.boolean(),
  /** Why the host did not record it (ok false), in words for the user. */
  error: z.string().optional(),
  /** The candidate's seed after the override, whole. */
  seed: ReviewSeed.optional(),
});

/** The most loss points one `training` message carries; the host thins longer series evenly. */
export const MAX_TRAINING_POINTS = 1_000;

export const TrainingPoint = z.object({
  step: z.number().int().nonnegative(),
  loss: z.number().finite().optional(),
  evalLoss: z.number().finite().optional(),
});
export type TrainingPoint = z.infer<typeof TrainingPoint>;

/** The run's latest training job, as the panel shows it. */
export const TrainingView = z.object({
  trainer: z.string().max(40),
  /** As the Runs view shows it: the record's status, or `interrupted`. */
  status: z.string().max(40),
  /** Still going: no second training can start. */
  active: z.boolean(),
  baseModel: z.string().max(2_000),
  /** One line in words: `running · step 40 · loss 0.83`, `succeeded → ft:...`. */
  summary: z.string().max(4_000),
  lastEvent: z.string().max(4_000).optional(),
  fineTunedModel: z.string().max(2_000).optional(),
  outputDir: z.string().max(4_000).optional(),
  totalSteps: z.number().int().positive().optional(),
  points: z.array(TrainingPoint).max(MAX_TRAINING_POINTS),
});
export type TrainingView = z.infer<typeof TrainingView>;

export const TrainingMessage = z.object({
  type: z.literal('training'),
  /** Null: the run has no training (any more). */
  training: TrainingView.nullable(),
});

/** The answer to `runTests`. */
export const TestResultMessage = z.object({
  type: z.literal('testResult'),
  requestId: z.number().int().nonnegative(),
  candidateId: z.string(),
  ok: z.boolean(),
  /** ok: what the tests said. */
  truth: ReviewTruth.optional(),
  /** ok: the result became the candidate's truth in the run (it had none, and no pipeline was writing the run). */
  recorded: z.boolean().optional(),
  /** Why no tests ran (ok false), in words for the user. */
  error: z.string().optional(),
});

export const HostMessage = z.discriminatedUnion('type', [
  InitMessage,
  PageMessage,
  EventsMessage,
  OverrideResultMessage,
  TrainingMessage,
  TestResultMessage,
]);
export type InitMessage = z.infer<typeof InitMessage>;
export type TrainingMessage = z.infer<typeof TrainingMessage>;
export type PageMessage = z.infer<typeof PageMessage>;
export type EventsMessage = z.infer<typeof EventsMessage>;
export type OverrideResultMessage = z.infer<typeof OverrideResultMessage>;
export type TestResultMessage = z.infer<typeof TestResultMessage>;
export type HostMessage = z.infer<typeof HostMessage>;

// ---------------------------------------------------------------- webview -> host

export const ReadyMessage = z.object({ type: z.literal('ready'), protocol: z.number().int() });

export const RequestPageMessage = z.object({
  type: z.literal('requestPage'),
  requestId: z.number().int().nonnegative(),
  offset: count,
  limit: z.number().int().min(1).max(MAX_PAGE_SEEDS),
  filter: ReviewFilter,
});

// The webview names the actions through this module, its one view of the protocol.
export { OVERRIDE_ACTIONS, type OverrideAction } from '../core/base/types';

/** A human's decision; the latest per candidate wins, `clear` removes it. Sending the same one twice changes nothing. */
export const OverrideMessage = z.object({
  type: z.literal('override'),
  requestId: z.number().int().nonnegative(),
  candidateId: z.string().min(1).max(1_000),
  action: z.enum(OVERRIDE_ACTIONS),
  note: z.string().max(MAX_NOTE_LENGTH).optional(),
});

export const ExportMessage = z.object({ type: z.literal('export') });

/** Start training on the run: the host runs the same command as the palette (it asks for the trainer). */
export const TrainMessage = z.object({ type: z.literal('train') });

/** A link the user activated in model text. The host must ask before opening it. */
export const OpenLinkMessage = z.object({
  type: z.literal('openLink'),
  href: z.string().max(MAX_HREF_LENGTH).refine(isOpenableHref, 'only http, https and mailto links'),
});

/** Run a coding candidate's program with its seed's tests, in the host's sandbox. */
export const RunTestsMessage = z.object({
  type: z.literal('runTests'),
  requestId: z.number().int().nonnegative(),
  candidateId: z.string().min(1).max(1_000),
});

export const WebviewMessage = z.discriminatedUnion('type', [
  ReadyMessage,
  RequestPageMessage,
  OverrideMessage,
  ExportMessage,
  TrainMessage,
  OpenLinkMessage,
  RunTestsMessage,
]);
export type ReadyMessage = z.infer<typeof ReadyMessage>;
export type RequestPageMessage = z.infer<typeof RequestPageMessage>;
export type OverrideMessage = z.infer<typeof OverrideMessage>;
export type ExportMessage = z.infer<typeof ExportMessage>;
export type TrainMessage = z.infer<typeof TrainMessage>;
export type OpenLinkMessage = z.infer<typeof OpenLinkMessage>;
export type RunTestsMessage = z.infer<typeof RunTestsMessage>;
export type WebviewMessage = z.infer<typeof WebviewMessage>;

/** The host's check of what a webview posted: a message, or undefined for anything else (log it, drop it). */
export function parseWebviewMessage(data: unknown): WebviewMessage | undefined {
  const parsed = WebviewMessage.safeParse(data);
  return parsed.success ? parsed.data : undefined;
}

/** The webview's check of what the host posted. */
export function parseHostMessage(data: unknown): HostMessage | undefined {
  const parsed = HostMessage.safeParse(data);
  return parsed.success ? parsed.data : undefined;
}
