// What the panel host keeps for one review: the run folded into protocol seeds, answers to `requestPage`, and the
// `events` message after the record grew. Pure, so the host stays a thin adapter and tests drive the same code.
import type { RunEvent } from '../core/events';
import { foldRun, type RunView } from '../core/runview';
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
  type RunSummary,
} from './review';
import { changedSeedIds, filterSeeds, pendingVotesOf, runSummary, toReviewSeed } from './reviewSeeds';

export interface ReviewFeedOptions {
  /** False where the host will not record overrides. */
  canOverride?: boolean;
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
    this.seeds = this.view.seeds.map((seed) => toReviewSeed(seed, { pendingVotes }));
    this.seedIndex = new Map(this.seeds.map((seed, index) => [seed.id, index]));
    this.candidates = new Set(this.seeds.flatMap((seed) => seed.candidates.map((candidate) => candidate.id)));
    this.summary = runSummary(this.runId, this.view, this.seeds, this.options);
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
    const runChanged = newEvents.some((event) => event.type === 'run');
    this.load(events, totalSeeds);
    if (changed.size === 0 && !runChanged) return undefined;
    const seeds = [...changed].flatMap((id) => {
      const seed = this.seed(id);
      return seed ? [seed] : [];
    });
    return {
      type: 'events',
      seeds,
      run: this.summary,
      total: this.matching(this.lastFilter).seeds.length,
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

  private matching(filter: ReviewFilter): { seeds: ReviewSeed[]; candidates: number } {
    const key = filterKey(filter);
    if (this.filtered?.key !== key) {
      const seeds = filterSeeds(this.seeds, filter);
      this.filtered = { key, seeds, candidates: seeds.reduce((sum, seed) => sum + seed.candidates.length, 0) };
    }
    return this.filtered;
  }
}
