// What the panel host keeps for one review: the run folded into protocol seeds, answers to `requestPage`, and the
// `events` message after the record grew, and tests run on a coding candidate from the panel. Pure, so the host stays
// a thin adapter and tests drive the same code.
// The host's side only: core/audit takes zod whole, which the webview's bundle must not.
import { auditRun } from '../core/record/audit';
import { eventIds, type NewRunEvent, type RunEvent } from '../core/record/events';
import { foldRun, seedIdOfCandidate, type CandidateView, type RunView, type SeedView } from '../core/record/runview';
import type { Domain, Gold } from '../core/base/types';
import {
  DEFAULT_FILTER,
  filterKey,
  MAX_PAGE_SEEDS,
  REVIEW_PROTOCOL,
  type EventsMessage,
  type InitMessage,
  type PageMessage,
  type RequestPageMessage,
  type ReviewFilter,
  type ReviewSeed,
  type ReviewTruth,
  type ReviewScreening,
  type RunSummary,
} from './review';
import { capText, changedSeedIds, filterSeeds, pendingVotesOf, reviewTruth, runSummary, toReviewSeed, type RunPrice } from './reviewSeeds';

export interface ReviewFeedOptions {
  /** False where the host will not record overrides. */
  canOverride?: boolean;
  /** The seed file's rows the run skipped, from its manifest. */
  skippedRows?: number;
  /** The run's seed screening: why each marked seed was marked, and the summary. */
  screening?: { marks: ReadonlyMap<string, string>; summary: ReviewScreening };
  /** The run's model and its price, for the cost in the summary. */
  price?: RunPrice;
}

export class ReviewFeed {
  private view: RunView = foldRun([]);
  private seeds: ReviewSeed[] = [];
  private seedIndex = new Map<string, number>();
  private candidates = new Set<string>();
  private summary!: RunSummary;
  private lastFilter: ReviewFilter = DEFAULT_FILTER;
  private filtered: { key: string; seeds: ReviewSeed[]; candidates: number } | undefined;

  constructor(
    readonly runId: string,
    private readonly options: ReviewFeedOptions = {},
  ) {
    this.summary = runSummary(runId, this.view, [], options);
  }

  /** Folds the whole record; call again with the whole record after it grew (or use `update`). */
  load(events: readonly RunEvent[], totalSeeds?: number): void {
    this.view = foldRun(events, totalSeeds);
    const pendingVotes = pendingVotesOf(events);
    const screening = this.options.screening?.marks;
    this.seeds = this.view.seeds.map((seed) => toReviewSeed(seed, { pendingVotes, ...(screening ? { screening } : {}) }));
    this.seedIndex = new Map(this.seeds.map((seed, index) => [seed.id, index]));
    this.candidates = new Set(this.seeds.flatMap((seed) => seed.candidates.map((candidate) => candidate.id)));
    this.summary = runSummary(this.runId, this.view, this.seeds, { ...this.options, pendingVotes });
    const audit = auditRun(this.view);
    if (audit) this.summary.audit = audit;
    if (this.options.screening) this.summary.screening = this.options.screening.summary;
    this.filtered = undefined;
  }

  init(): InitMessage {
    return { type: 'init', protocol: REVIEW_PROTOCOL, run: this.summary };
  }

  page(request: RequestPageMessage): PageMessage {
    this.lastFilter = request.filter;
    const matching = this.matching(request.filter);
    const limit = Math.min(request.limit, MAX_PAGE_SEEDS);
    return {
      type: 'page',
      requestId: request.requestId,
      filterKey: filterKey(request.filter),
      offset: request.offset,
      total: matching.seeds.length,
      totalCandidates: matching.candidates,
      seeds: matching.seeds.slice(request.offset, request.offset + limit),
    };
  }

  /**
   * After `newEvents` were appended to the record (`events` is the whole record, new ones included): refolds and
   * returns the live update to post, or undefined when nothing a reviewer sees changed.
   */
  update(events: readonly RunEvent[], newEvents: readonly RunEvent[], totalSeeds?: number): EventsMessage | undefined {
    const changed = changedSeedIds(newEvents);
    // Usage checkpoints move the summary's requests while the run is live.
    const runChanged = newEvents.some((event) => event.type === 'run' || event.type === 'usage');
    this.load(events, totalSeeds);
    if (changed.size === 0 && !runChanged) return undefined;
    const seeds = [...changed].flatMap((id) => {
      const seed = this.seed(id);
      return seed ? [seed] : [];
    });
    const matching = this.matching(this.lastFilter);
    return {
      type: 'events',
      seeds,
      run: this.summary,
      total: matching.seeds.length,
      totalCandidates: matching.candidates,
      filterKey: filterKey(this.lastFilter),
    };
  }

  seed(seedId: string): ReviewSeed | undefined {
    const index = this.seedIndex.get(seedId);
    return index === undefined ? undefined : this.seeds[index];
  }

  /** For `makeOverride`: whether the run has this candidate. */
  hasCandidate = (candidateId: string): boolean => this.candidates.has(candidateId);

  get runView(): RunView {
    return this.view;
  }

  /** The run's candidate and its seed, as folded. */
  candidateView(candidateId: string): { seed: SeedView; candidate: CandidateView } | undefined {
    const seedId = seedIdOfCandidate(candidateId);
    const index = seedId === undefined ? undefined : this.seedIndex.get(seedId);
    const seed = index === undefined ? undefined : this.view.seeds[index];
    const candidate = seed?.candidates.find((c) => c.candidate.candidateId === candidateId);
    return seed && candidate ? { seed, candidate } : undefined;
  }

  private matching(filter: ReviewFilter): { seeds: ReviewSeed[]; candidates: number } {
    const key = filterKey(filter);
    if (this.filtered?.key !== key) {
      const seeds = filterSeeds(this.seeds, filter);
      this.filtered = { key, seeds, candidates: seeds.reduce((sum, seed) => sum + seed.candidates.length, 0) };
    }
    return this.filtered;
  }
}

// ---------------------------------------------------------------- tests run from the panel

/** What a check says; the shape of core/check's CheckResult, which the host's checker returns. */
export interface CheckResultLike {
  outcome: ReviewTruth['outcome'];
  correct: boolean;
  extracted?: string;
  detail: string;
  output?: string;
  durationMs: number;
}

/** The host's answer checker (`createAnswerChecker()`), as far as tests run from the panel use it. */
export interface TestChecker {
  check(domain: Domain, text: string, gold: Gold, options?: { question?: string; signal?: AbortSignal }): Promise<CheckResultLike | undefined>;
}

export type NewTruthEvent = Extract<NewRunEvent, { type: 'truth' }>;

export interface ReviewTestRunsDeps {
  checker: TestChecker;
  /**
   * Records the result as the candidate's truth; called only while the run has none for it. Returns whether it was
   * written: the host writes nothing while a pipeline is writing the run (that pipeline audits on its own).
   */
  record(event: NewTruthEvent): boolean;
}

export type TestRunOutcome = { ok: true; truth: ReviewTruth; recorded: boolean } | { ok: false; error: string };

/**
 * Runs a coding candidate's program with its seed's tests, for the panel's "Run tests". Clicks on a candidate whose
 * tests are running share that run. A candidate the run has no truth for gets the result recorded (see `record`),
 * so the audit counts it; otherwise the result is only shown.
 */
export class ReviewTestRuns {
  private readonly inflight = new Map<string, Promise<TestRunOutcome>>();
  private readonly controller = new AbortController();

  constructor(
    private readonly feed: Pick<ReviewFeed, 'candidateView'>,
    private readonly deps: ReviewTestRunsDeps,
  ) {}

  run(candidateId: string): Promise<TestRunOutcome> {
    let run = this.inflight.get(candidateId);
    if (!run) {
      run = this.check(candidateId).finally(() => this.inflight.delete(candidateId));
      this.inflight.set(candidateId, run);
    }
    return run;
  }

  /** Candidates whose tests are running. */
  get running(): number {
    return this.inflight.size;
  }

  /** Stops what is running: their answers say so. The host closes the checker itself. */
  dispose(): void {
    this.controller.abort();
  }

  private async check(candidateId: string): Promise<TestRunOutcome> {
    const found = this.feed.candidateView(candidateId);
    if (!found) return { ok: false, error: `Candidate ${candidateId} is not in this run.` };
    const { seed, candidate } = found;
    const gold = seed.seed.gold;
    const runnable = (gold?.tests !== undefined && gold.tests.trim() !== '') || (gold?.testCases?.cases.length ?? 0) > 0;
    if (seed.seed.domain !== 'coding' || !runnable) {
      return { ok: false, error: `Seed ${seed.seed.seedId} has no tests to run (only coding seeds with tests in the seed file do).` };
    }
    if (!candidate.candidate.valid) {
      return { ok: false, error: `Candidate ${candidateId} has no program to run (${candidate.candidate.invalidReason ?? 'invalid'}).` };
    }
    const signal = this.controller.signal;
    let result: CheckResultLike | undefined;
    try {
      result = await this.deps.checker.check('coding', candidate.candidate.text, seed.seed.gold ?? {}, { question: seed.seed.question, signal });
    } catch (error) {
      return { ok: false, error: signal.aborted ? 'The tests were stopped: the panel closed.' : `The tests could not run: ${messageOf(error)}` };
    }
    if (!result) return { ok: false, error: `Seed ${seed.seed.seedId} has no tests to run.` };
    if (signal.aborted) return { ok: false, error: 'The tests were stopped: the panel closed.' };
    const event: NewTruthEvent = {
      id: eventIds.truth(candidateId),
      type: 'truth',
      seedId: seed.seed.seedId,
      candidateId,
      outcome: result.outcome,
      correct: result.correct,
      ...(result.extracted !== undefined ? { extracted: result.extracted } : {}),
      detail: capText(result.detail),
      ...(result.output !== undefined ? { output: capText(result.output) } : {}),
      durationMs: Math.max(0, result.durationMs),
    };
    // The record may have got a truth while the tests ran: the feed holds the record as last folded.
    let recorded = false;
    try {
      // "Not checked" (no sandbox here) is shown, never recorded: the run's own audit may yet check it elsewhere.
      recorded = result.outcome !== 'unchecked' && this.feed.candidateView(candidateId)?.candidate.truth === undefined && this.deps.record(event);
    } catch {
      // Not recorded is what the answer says; the host logs why.
    }
    const { id: _id, type: _type, seedId: _seedId, candidateId: _candidateId, ...truth } = event;
    return { ok: true, truth: reviewTruth(truth), recorded };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
