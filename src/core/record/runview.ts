// A run's events folded into one view: what `svd status`, export and the review panel read.
// Pure and order-driven: the record is append-only, so "latest" means later in the stream.
import type {
  CandidateEvent,
  ErrorEvent,
  OutcomeEvent,
  OverrideEvent,
  RunEvent,
  RunStateEvent,
  SeedEvent,
  StageEvent,
  TruthEvent,
  UsageCounts,
  UsageEvent,
  VoteEvent,
} from './events';
import { PURPOSES, STAGES, type OverrideDecision, type Purpose, type Stage } from '../base/types';

export interface StageView {
  passed: boolean;
  yes: number;
  votes: number;
  voteEvents: VoteEvent[];
}

export interface OverrideView {
  action: OverrideDecision;
  note?: string;
  at: string;
}

/** A candidate checked against its seed's gold: for measuring the judges, never part of their decision. */
export type TruthView = Omit<TruthEvent, 'id' | 'at' | 'type' | 'seedId' | 'candidateId'>;

export interface CandidateView {
  candidate: CandidateEvent;
  /** Only stages with a recorded result; a stage still voting is absent. */
  stages: Partial<Record<Stage, StageView>>;
  acceptedByMethod: boolean;
  override?: OverrideView;
  /** After the human override, if any. */
  accepted: boolean;
  unparseableVotes: number;
  /** Whether the candidate is right by the seed's gold; only when the run audited it. */
  truth?: TruthView;
}

export interface SeedView {
  seed: SeedEvent;
  /** By candidate index. */
  candidates: CandidateView[];
  outcome?: OutcomeEvent;
  errors: ErrorEvent[];
}

export interface Funnel {
  seeds: number;
  seedsDone: number;
  candidates: number;
  valid: number;
  /** Candidates that reached the cycle stage (first-valid selection leaves the rest unverified). */
  verified: number;
  passedCycle: number;
  passedFactuality: number;
  passedCorrectness: number;
  /** By the method. */
  accepted: number;
  /** After overrides. */
  acceptedFinal: number;
  /** Candidates carrying a human decision (cleared ones excluded). */
  overridden: number;
  unparseableVotes: number;
  invalidByReason: Record<string, number>;
  errors: number;
  seedsPending: number;
}

export type RunViewState = 'running' | 'finished' | 'stopped' | 'failed' | 'new';

export interface RunView {
  /** In seed-file order (by line), so views and exports do not depend on processing order. */
  seeds: SeedView[];
  funnel: Funnel;
  usage: Record<Purpose, UsageCounts>;
  wallMs: number;
  state: RunViewState;
  lastMessage?: string;
  /** Why the last session stopped, when not by the user (`budget`: at its cost budget). */
  stopReason?: 'budget';
}

export function emptyUsage(): UsageCounts {
  return { requests: 0, promptTokens: 0, completionTokens: 0, cachedSamples: 0, retries: 0 };
}

export function addUsage(into: UsageCounts, add: UsageCounts): void {
  into.requests += add.requests;
  into.promptTokens += add.promptTokens;
  into.completionTokens += add.completionTokens;
  into.cachedSamples += add.cachedSamples;
  into.retries += add.retries;
  if (add.batch) {
    into.batch ??= { requests: 0, promptTokens: 0, completionTokens: 0 };
    into.batch.requests += add.batch.requests;
    into.batch.promptTokens += add.batch.promptTokens;
    into.batch.completionTokens += add.batch.completionTokens;
  }
}

export type SeedStatus = OutcomeEvent['status'] | 'pending';

/**
 * A seed's status after the reviewers' decisions: accepted while any of its candidates is (by the method or by hand,
 * as export takes them); a seed whose accepted answers were all rejected by hand is rejected; else the method's.
 * @param byMethod the seed's outcome, or pending while it has none.
 */
export function seedStatus(byMethod: SeedStatus, anyAccepted: boolean): SeedStatus {
  if (anyAccepted) return 'accepted';
  return byMethod === 'accepted' ? 'rejected' : byMethod;
}

/** The seed a candidate id belongs to: ids are `<seedId>#<index>`, and a seed id may itself contain `#`. */
export function seedIdOfCandidate(candidateId: string): string | undefined {
  const hash = candidateId.lastIndexOf('#');
  return hash > 0 ? candidateId.slice(0, hash) : undefined;
}

/** The seed an event belongs to, as the fold joins it. */
export function seedIdOfEvent(event: RunEvent): string | undefined {
  switch (event.type) {
    case 'seed':
    case 'candidate':
    case 'outcome':
    case 'truth':
      return event.seedId;
    case 'vote':
    case 'stage':
    case 'override':
      return seedIdOfCandidate(event.candidateId);
    case 'error':
      return event.seedId ?? (event.candidateId === undefined ? undefined : seedIdOfCandidate(event.candidateId));
    default:
      return undefined;
  }
}

/**
 * @param totalSeeds seeds in the seed file, when known: seeds not yet reached count as pending.
 */
export function foldRun(events: Iterable<RunEvent>, totalSeeds?: number): RunView {
  const seeds = new Map<string, { event: SeedEvent; order: number }>();
  const candidates = new Map<string, CandidateEvent>();
  const votes = new Map<string, VoteEvent>();
  const stageResults = new Map<string, StageEvent>();
  const outcomes = new Map<string, OutcomeEvent>();
  const overrides = new Map<string, OverrideEvent>();
  const truths = new Map<string, TruthEvent>();
  const errors: ErrorEvent[] = [];
  const sessions = new SessionTally();

  for (const event of events) {
    switch (event.type) {
      // Deterministic ids: a step written twice keeps its first record.
      case 'seed':
        if (!seeds.has(event.seedId)) seeds.set(event.seedId, { event, order: seeds.size });
        break;
      case 'candidate':
        if (!candidates.has(event.candidateId)) candidates.set(event.candidateId, event);
        break;
      case 'vote':
        if (!votes.has(event.id)) votes.set(event.id, event);
        break;
      case 'stage': {
        const key = `${event.candidateId}\u0000${event.stage}`;
        if (!stageResults.has(key)) stageResults.set(key, event);
        break;
      }
      case 'outcome':
        if (!outcomes.has(event.seedId)) outcomes.set(event.seedId, event);
        break;
      case 'truth':
        // The first truth counts, except that a real check takes the place of a "not checked" (no sandbox then).
        if (!truths.has(event.candidateId) || (truths.get(event.candidateId)!.outcome === 'unchecked' && event.outcome !== 'unchecked')) {
          truths.set(event.candidateId, event);
        }
        break;
      case 'error':
        errors.push(event);
        break;
      case 'override':
        overrides.set(event.candidateId, event);
        break;
      case 'run':
      case 'usage':
        sessions.add(event);
        break;
    }
  }
  const { usage, wallMs, state, lastMessage, stopReason } = sessions.result();

  const votesByCandidateStage = new Map<string, VoteEvent[]>();
  // Verification in progress: cycle votes recorded, no cycle result yet.
  const inCycle = new Set<string>();
  for (const vote of votes.values()) {
    if (vote.stage === 'cycle') inCycle.add(vote.candidateId);
    const key = `${vote.candidateId}\u0000${vote.stage}`;
    const list = votesByCandidateStage.get(key);
    if (list) list.push(vote);
    else votesByCandidateStage.set(key, [vote]);
  }

  const candidatesBySeed = new Map<string, CandidateView[]>();
  for (const candidate of candidates.values()) {
    const outcome = outcomes.get(candidate.seedId);
    const stages: Partial<Record<Stage, StageView>> = {};
    let unparseableVotes = 0;
    for (const stage of STAGES) {
      const key = `${candidate.candidateId}\u0000${stage}`;
      const stageVotes = (votesByCandidateStage.get(key) ?? []).sort(byStepThenIndex);
      unparseableVotes += stageVotes.filter((vote) => vote.verdict === 'unparseable').length;
      const result = stageResults.get(key);
      if (result) {
        stages[stage] = { passed: result.passed, yes: result.yes, votes: result.votes, voteEvents: stageVotes };
      }
    }
    const acceptedByMethod = outcome?.acceptedCandidateIds.includes(candidate.candidateId) ?? false;
    const override = overrideView(overrides.get(candidate.candidateId));
    const truth = truthView(truths.get(candidate.candidateId));
    const view: CandidateView = {
      candidate,
      stages,
      acceptedByMethod,
      ...(override ? { override } : {}),
      accepted: override ? override.action === 'accept' : acceptedByMethod,
      unparseableVotes,
      ...(truth ? { truth } : {}),
    };
    const list = candidatesBySeed.get(candidate.seedId);
    if (list) list.push(view);
    else candidatesBySeed.set(candidate.seedId, [view]);
  }

  const errorsBySeed = new Map<string, ErrorEvent[]>();
  for (const error of errors) {
    const seedId =
      error.seedId ??
      (error.candidateId === undefined
        ? undefined
        : (candidates.get(error.candidateId)?.seedId ?? seedIdOfCandidate(error.candidateId)));
    if (seedId === undefined) continue;
    const list = errorsBySeed.get(seedId);
    if (list) list.push(error);
    else errorsBySeed.set(seedId, [error]);
  }

  const seedViews: SeedView[] = [...seeds.values()]
    .sort((a, b) => a.event.line - b.event.line || a.order - b.order)
    .map(({ event }) => {
      const outcome = outcomes.get(event.seedId);
      return {
        seed: event,
        candidates: (candidatesBySeed.get(event.seedId) ?? []).sort((a, b) => a.candidate.index - b.candidate.index),
        ...(outcome ? { outcome } : {}),
        errors: errorsBySeed.get(event.seedId) ?? [],
      };
    });

  const view: RunView = {
    seeds: seedViews,
    funnel: funnelOf(seedViews, inCycle, errors.length, totalSeeds),
    usage,
    wallMs,
    state,
  };
  if (lastMessage !== undefined) view.lastMessage = lastMessage;
  if (stopReason !== undefined) view.stopReason = stopReason;
  return view;
}

/** The run's sessions, from its `run` and `usage` events in file order: usage and wall time summed, the last state. */
export class SessionTally {
  private readonly usage = Object.fromEntries(PURPOSES.map((purpose) => [purpose, emptyUsage()])) as Record<Purpose, UsageCounts>;
  private wallMs = 0;
  private lastRun: RunStateEvent | undefined;
  // The running session's latest usage checkpoint: counted unless its end event (same totals) follows.
  private checkpoint: UsageEvent | undefined;

  add(event: RunStateEvent | UsageEvent): void {
    if (event.type === 'usage') {
      this.checkpoint = event;
      return;
    }
    this.lastRun = event;
    // A session that starts ends the one before; if that one never wrote its end (killed), its last checkpoint
    // is what it used. An end event carries the session's totals, so its checkpoints are dropped.
    if (this.checkpoint && event.state === 'started') this.count(this.checkpoint.usage, this.checkpoint.wallMs);
    this.checkpoint = undefined;
    this.count(event.usage ?? {}, event.wallMs ?? 0);
  }

  /** Once every event is in; the tally is not used after. */
  result(): Pick<RunView, 'usage' | 'wallMs' | 'state' | 'lastMessage' | 'stopReason'> {
    if (this.checkpoint) this.count(this.checkpoint.usage, this.checkpoint.wallMs);
    this.checkpoint = undefined;
    const lastRun = this.lastRun;
    const state: RunViewState = lastRun === undefined ? 'new' : lastRun.state === 'started' ? 'running' : lastRun.state;
    return {
      usage: this.usage,
      wallMs: this.wallMs,
      state,
      ...(lastRun?.message !== undefined ? { lastMessage: lastRun.message } : {}),
      ...(lastRun?.reason !== undefined ? { stopReason: lastRun.reason } : {}),
    };
  }

  private count(from: Partial<Record<Purpose, UsageCounts>>, ms: number): void {
    for (const purpose of PURPOSES) {
      const counts = from[purpose];
      if (counts) addUsage(this.usage[purpose], counts);
    }
    this.wallMs += ms;
  }
}

function overrideView(event: OverrideEvent | undefined): OverrideView | undefined {
  if (!event || event.action === 'clear') return undefined;
  return { action: event.action, at: event.at, ...(event.note !== undefined ? { note: event.note } : {}) };
}

function truthView(event: TruthEvent | undefined): TruthView | undefined {
  if (!event) return undefined;
  const { id: _id, at: _at, type: _type, seedId: _seedId, candidateId: _candidateId, ...truth } = event;
  return truth;
}

const STEP_ORDER: Record<VoteEvent['step'], number> = { infer: 0, compare: 1, judge: 2 };

function byStepThenIndex(a: VoteEvent, b: VoteEvent): number {
  return a.index - b.index || STEP_ORDER[a.step] - STEP_ORDER[b.step];
}

function funnelOf(
  seeds: SeedView[],
  inCycle: ReadonlySet<string>,
  errorCount: number,
  totalSeeds: number | undefined,
): Funnel {
  const funnel: Funnel = {
    seeds: Math.max(totalSeeds ?? 0, seeds.length),
    seedsDone: 0,
    candidates: 0,
    valid: 0,
    verified: 0,
    passedCycle: 0,
    passedFactuality: 0,
    passedCorrectness: 0,
    accepted: 0,
    acceptedFinal: 0,
    overridden: 0,
    unparseableVotes: 0,
    invalidByReason: {},
    errors: errorCount,
    seedsPending: 0,
  };
  for (const seed of seeds) {
    if (seed.outcome) funnel.seedsDone += 1;
    for (const view of seed.candidates) {
      const { candidate, stages } = view;
      funnel.candidates += 1;
      if (candidate.valid) funnel.valid += 1;
      else {
        const reason = candidate.invalidReason ?? 'unknown';
        funnel.invalidByReason[reason] = (funnel.invalidByReason[reason] ?? 0) + 1;
      }
      if (stages.cycle !== undefined || inCycle.has(candidate.candidateId)) funnel.verified += 1;
      if (stages.cycle?.passed) funnel.passedCycle += 1;
      if (stages.factuality?.passed) funnel.passedFactuality += 1;
      if (stages.correctness?.passed) funnel.passedCorrectness += 1;
      if (view.acceptedByMethod) funnel.accepted += 1;
      if (view.accepted) funnel.acceptedFinal += 1;
      if (view.override) funnel.overridden += 1;
      funnel.unparseableVotes += view.unparseableVotes;
    }
  }
  // A seed whose errors were followed by an outcome is done, not pending.
  funnel.seedsPending = funnel.seeds - funnel.seedsDone;
  return funnel;
}

