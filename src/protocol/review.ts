// The review panel's message catalogue: every message the panel host and the review webview exchange, as zod
// schemas both sides validate with. Pure: no node and no vscode imports, so the webview bundles it as is.
//
// Order of a session: the webview posts `ready` (then, at once, a `requestPage` for what it will show); the host
// answers `ready` with `init` and every `requestPage` with a `page`. While a run is live the host posts `events`.
// An `override` is answered by an `overrideResult` (and, as the record changed, by `events`). When the run has a
// training job the host posts `training` after `init` and whenever the job moves; `train` asks the host to start one.
import * as z from 'zod';
import { DOMAINS, PURPOSES, STAGES } from '../core/types';
import { MAX_HREF_LENGTH, isOpenableHref } from './links';

export { MAX_HREF_LENGTH, isOpenableHref };

/** Bumped when a message changes shape; the webview shows an error instead of misreading a newer host. */
export const REVIEW_PROTOCOL = 1;

/** The most seeds one page may carry: pages stay small messages even when seeds carry long texts. */
export const MAX_PAGE_SEEDS = 500;
export const MAX_NOTE_LENGTH = 10_000;
export const MAX_SEARCH_LENGTH = 500;

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
  action: z.enum(['accept', 'reject']),
  note: z.string().optional(),
  at: z.string(),
});
export type ReviewOverride = z.infer<typeof ReviewOverride>;

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
});
export type ReviewCandidate = z.infer<typeof ReviewCandidate>;

export const SEED_STATUSES = ['accepted', 'rejected', 'no_valid', 'pending'] as const;

/** A seed question and its candidates. Gold answers never reach the webview. */
export const ReviewSeed = z.object({
  id: z.string().min(1),
  line: z.number().int(),
  domain,
  question: z.string(),
  status: z.enum(SEED_STATUSES),
  /** By index; a filtered page may carry only the candidates that match. */
  candidates: z.array(ReviewCandidate),
  /** Candidates the seed has in the run, matched or not. */
  candidateCount: count,
  errors: count,
  lastError: z.string().optional(),
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

export const ReviewFilter = z.object({
  show: z.enum(SHOW).default('all'),
  domain: z.enum([...DOMAINS, 'all']).default('all'),
  /** Only candidates with at least one vote the judge's reply could not be read from. */
  unparseable: z.boolean().default(false),
  /** Only candidates carrying a human decision. */
  overridden: z.boolean().default(false),
  /** Case-insensitive text in the question, the answer, the thinking, a judge's reply or a note. */
  text: z.string().max(MAX_SEARCH_LENGTH).default(''),
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
  return JSON.stringify([filter.show, filter.domain, filter.unparseable, filter.overridden, filter.text.trim().toLowerCase()]);
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

export const RunSummary = z.object({
  runId: z.string(),
  state: z.enum(['running', 'finished', 'stopped', 'failed', 'new']),
  lastMessage: z.string().optional(),
  funnel: ReviewFunnel,
  usage: z.record(purpose, ReviewUsage),
  domains: z.array(ReviewDomainStats),
  /** Seeds known to the run (the seed file's rows when known). */
  totalSeeds: count,
  wallMs: z.number().nonnegative(),
  /** False where the host will not record overrides (e.g. a run folder it may not write). */
  canOverride: z.boolean().default(true),
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
  /** Seeds matching the filter of the latest `requestPage`, now; with the key of that filter. */
  total: count.optional(),
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

export const HostMessage = z.discriminatedUnion('type', [InitMessage, PageMessage, EventsMessage, OverrideResultMessage, TrainingMessage]);
export type InitMessage = z.infer<typeof InitMessage>;
export type TrainingMessage = z.infer<typeof TrainingMessage>;
export type PageMessage = z.infer<typeof PageMessage>;
export type EventsMessage = z.infer<typeof EventsMessage>;
export type OverrideResultMessage = z.infer<typeof OverrideResultMessage>;
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

export const OVERRIDE_ACTIONS = ['accept', 'reject', 'clear'] as const;
export type OverrideAction = (typeof OVERRIDE_ACTIONS)[number];

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

export const WebviewMessage = z.discriminatedUnion('type', [
  ReadyMessage,
  RequestPageMessage,
  OverrideMessage,
  ExportMessage,
  TrainMessage,
  OpenLinkMessage,
]);
export type ReadyMessage = z.infer<typeof ReadyMessage>;
export type RequestPageMessage = z.infer<typeof RequestPageMessage>;
export type OverrideMessage = z.infer<typeof OverrideMessage>;
export type ExportMessage = z.infer<typeof ExportMessage>;
export type TrainMessage = z.infer<typeof TrainMessage>;
export type OpenLinkMessage = z.infer<typeof OpenLinkMessage>;
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
