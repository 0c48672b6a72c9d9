// The panel host's bookkeeping over the run's on-disk index (core/record/reviewIndex): the summary and the filters
// come from the seeds' compact rows; a page reads its seeds' events from disk and folds them as the whole-run feed
// does (`toReviewSeed`, `filterSeeds`), so what the panel shows is the same. A text search cannot be answered from
// rows: the index finds the seeds whose lines hold the text, and those are folded and searched exactly.
// Pure: the index is reached through `ReviewSource`; the host's side only (audit).
import type { RunEvent } from '../core/record/events';
import { foldRun, seedIdOfCandidate, type CandidateView, type SeedView } from '../core/record/runview';
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
import { filterSeeds, pendingVotesOf, toReviewSeed } from './reviewSeeds';
import { rowCandidateIds, rowDomain, RowMatcher, summaryOfRows, type SeedRow } from './reviewRows';
import type { ReviewFeedOptions } from './reviewFeed';

/** The index as the feed reads it (core/record/reviewIndex's ReviewIndex<SeedRow>). */
export interface ReviewSource {
  seeds(): readonly { readonly id: string; readonly row: SeedRow }[];
  seed(seedId: string): { readonly id: string; readonly row: SeedRow } | undefined;
  seedEvents(seedId: string): RunEvent[];
  runEvents(): readonly RunEvent[];
  readonly errors: number;
  /** Seeds whose lines may hold `text` (lower case), a superset; undefined when it cannot tell (all may). */
  seedsWithText(text: string): Set<string> | undefined;
}

export interface IndexFeedOptions extends ReviewFeedOptions {
  /** Seeds in the seed file. */
  totalSeeds?: number;
}

/** Seeds folded whole, kept for the pages around the one shown. */
const FOLDED_KEPT = 2_000;
/** Seeds the panel was sent, remembered so that a live update re-sends those it may show. */
const SENT_KEPT = 5_000;

interface Matching {
  key: string;
  /** Positions in the source's seed order. */
  seeds: number[];
  candidates: number;
}

export class ReviewIndexFeed {
  private summaryValue: RunSummary | undefined;
  private filtered: Matching | undefined;
  private lastFilter: ReviewFilter = DEFAULT_FILTER;
  private readonly folded = new Map<string, { view: SeedView; seed: ReviewSeed }>();
  private readonly sent = new Set<string>();
  private readonly textSeeds = new Map<string, Set<string> | undefined>();

  constructor(
    readonly runId: string,
    private readonly source: ReviewSource,
    private readonly options: IndexFeedOptions = {},
  ) {}

  init(): InitMessage {
    return { type: 'init', protocol: REVIEW_PROTOCOL, run: this.summary() };
  }

  summary(): RunSummary {
    if (!this.summaryValue) {
      const summary = summaryOfRows(
        this.runId,
        this.source.seeds().map((seed) => seed.row),
        this.source.runEvents(),
        this.source.errors,
        this.options,
      );
      if (this.options.screening) summary.screening = this.options.screening.summary;
      this.summaryValue = summary;
    }
    return this.summaryValue;
  }

  page(request: RequestPageMessage): PageMessage {
    this.lastFilter = request.filter;
    const matching = this.matching(request.filter);
    const limit = Math.min(request.limit, MAX_PAGE_SEEDS);
    const all = this.source.seeds();
    const seeds = matching.seeds.slice(request.offset, request.offset + limit).flatMap((position) => {
      const seed = this.reviewSeed(all[position]!.id);
      if (!seed) return [];
      this.remember(seed.id);
      return filterSeeds([seed], request.filter);
    });
    return {
      type: 'page',
      requestId: request.requestId,
      filterKey: filterKey(request.filter),
      offset: request.offset,
      total: matching.seeds.length,
      totalCandidates: matching.candidates,
      seeds,
    };
  }

  /**
   * After the index read what the record grew by: the live update to post, or undefined when nothing a reviewer
   * sees changed. Seeds are re-sent only where the panel may hold them.
   */
  update(changes: { seeds: ReadonlySet<string>; run: boolean; reset: boolean }): EventsMessage | undefined {
    if (changes.seeds.size === 0 && !changes.run && !changes.reset) return undefined;
    this.summaryValue = undefined;
    this.filtered = undefined;
    this.textSeeds.clear();
    if (changes.reset) this.folded.clear();
    for (const id of changes.seeds) this.folded.delete(id);
    const seeds = [...changes.seeds].filter((id) => this.sent.has(id)).flatMap((id) => {
      const seed = this.reviewSeed(id);
      return seed ? [seed] : [];
    });
    const matching = this.matching(this.lastFilter);
    return { type: 'events', seeds, run: this.summary(), total: matching.seeds.length, totalCandidates: matching.candidates, filterKey: filterKey(this.lastFilter) };
  }

  /** The seed as the panel shows it, folded from its events on disk. */
  seed(seedId: string): ReviewSeed | undefined {
    return this.reviewSeed(seedId);
  }

  /** For `makeOverride`: whether the run has this candidate. */
  hasCandidate = (candidateId: string): boolean => {
    const seedId = seedIdOfCandidate(candidateId);
    const seed = seedId === undefined ? undefined : this.source.seed(seedId);
    return seed !== undefined && rowCandidateIds(seed.id, seed.row).includes(candidateId);
  };

  /** The run's candidate and its seed, as folded. */
  candidateView(candidateId: string): { seed: SeedView; candidate: CandidateView } | undefined {
    const seedId = seedIdOfCandidate(candidateId);
    if (seedId === undefined || !this.reviewSeed(seedId)) return undefined;
    const view = this.folded.get(seedId)!.view;
    const candidate = view.candidates.find((c) => c.candidate.candidateId === candidateId);
    return candidate ? { seed: view, candidate } : undefined;
  }

  private reviewSeed(seedId: string): ReviewSeed | undefined {
    const kept = this.folded.get(seedId);
    if (kept) {
      // Most recently used last.
      this.folded.delete(seedId);
      this.folded.set(seedId, kept);
      return kept.seed;
    }
    if (!this.source.seed(seedId)) return undefined;
    const events = this.source.seedEvents(seedId);
    const view = foldRun(events).seeds[0];
    if (!view) return undefined;
    const screening = this.options.screening?.marks;
    const seed = toReviewSeed(view, { pendingVotes: pendingVotesOf(events), ...(screening ? { screening } : {}) });
    this.folded.set(seedId, { view, seed });
    if (this.folded.size > FOLDED_KEPT) this.folded.delete(this.folded.keys().next().value!);
    return seed;
  }

  private remember(seedId: string): void {
    this.sent.delete(seedId);
    this.sent.add(seedId);
    if (this.sent.size > SENT_KEPT) this.sent.delete(this.sent.values().next().value!);
  }

  private matching(filter: ReviewFilter): Matching {
    const key = filterKey(filter);
    if (this.filtered?.key === key) return this.filtered;
    const all = this.source.seeds();
    const text = filter.text.trim().toLowerCase();
    const candidateCriteria = filter.show !== 'all' || filter.unparseable || filter.overridden || filter.judgesWrong !== undefined;
    const matcher = new RowMatcher(filter);
    const seeds: number[] = [];
    let candidates = 0;
    const maybe = text === '' ? undefined : this.seedsWithText(text);
    for (let position = 0; position < all.length; position++) {
      const { id, row } = all[position]!;
      if (filter.domain !== 'all' && rowDomain(row) !== filter.domain) continue;
      if (text !== '') {
        // Searched exactly, on the seed folded whole, where its lines may hold the text.
        if (maybe && !maybe.has(id)) continue;
        const seed = this.reviewSeed(id);
        const shown = seed ? filterSeeds([seed], filter)[0] : undefined;
        if (shown) {
          seeds.push(position);
          candidates += shown.candidates.length;
        }
        continue;
      }
      if (row.c.length === 0) {
        if (!candidateCriteria) seeds.push(position);
        continue;
      }
      let shown = 0;
      for (const flags of row.c) if (!candidateCriteria || matcher.matches(flags, row.s)) shown += 1;
      if (shown > 0) {
        seeds.push(position);
        candidates += shown;
      }
    }
    this.filtered = { key, seeds, candidates };
    return this.filtered;
  }

  private seedsWithText(text: string): Set<string> | undefined {
    if (!this.textSeeds.has(text)) this.textSeeds.set(text, this.source.seedsWithText(text));
    return this.textSeeds.get(text);
  }
}
