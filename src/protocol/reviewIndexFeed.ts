// The panel host's bookkeeping over the run's on-disk index (core/record/reviewIndex): the summary and the filters
// come from the seeds' compact rows, read into columns (reviewColumns) once per change of the run; a page reads its seeds' events from disk and folds them as the whole-run feed
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
import { rowCandidateIds, RowMatcher, summaryOfTotals } from './reviewRows';
import { rowColumns, type RowColumns, type RowSource } from './reviewColumns';
import type { ReviewFeedOptions } from './reviewFeed';
import { DOMAINS } from '../core/base/types';

/** The index as the feed reads it (core/record/reviewIndex's ReviewIndex<SeedRow>): seeds by place, in order. */
export interface ReviewSource extends RowSource {
  idAt(place: number): string;
  placeOf(seedId: string): number | undefined;
  seedEventsAt(place: number): RunEvent[];
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
/** Filters whose matching seeds are kept until the run changes: going back to one only cuts a page. */
const FILTERS_KEPT = 8;

interface Matching {
  key: string;
  /** Positions in the source's seed order. */
  seeds: number[];
  candidates: number;
}

export class ReviewIndexFeed {
  private summaryValue: RunSummary | undefined;
  private columnsValue: RowColumns | undefined;
  private readonly filtered = new Map<string, Matching>();
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
      const summary = summaryOfTotals(
        this.runId,
        this.columns().totals,
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
    const seeds = matching.seeds.slice(request.offset, request.offset + limit).flatMap((place) => {
      const seed = this.reviewSeedAt(place, this.source.idAt(place));
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
    this.columnsValue = undefined;
    this.filtered.clear();
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
    const place = seedId === undefined ? undefined : this.source.placeOf(seedId);
    return place !== undefined && rowCandidateIds(seedId!, this.source.rowAt(place)).includes(candidateId);
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
    if (kept) return this.reviewSeedAt(-1, seedId);
    const place = this.source.placeOf(seedId);
    return place === undefined ? undefined : this.reviewSeedAt(place, seedId);
  }

  /** The seed at `place` (-1: one folded already, kept), folded from its events on disk. */
  private reviewSeedAt(place: number, seedId: string): ReviewSeed | undefined {
    const kept = this.folded.get(seedId);
    if (kept) {
      // Most recently used last.
      this.folded.delete(seedId);
      this.folded.set(seedId, kept);
      return kept.seed;
    }
    if (place === -1) return undefined;
    const events = this.source.seedEventsAt(place);
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

  /** The rows as columns; read again, and the filters' seeds forgotten, when the index moved on since. */
  private columns(): RowColumns {
    if (this.columnsValue?.revision !== this.source.revision()) {
      this.columnsValue = rowColumns(this.source);
      this.filtered.clear();
    }
    return this.columnsValue;
  }

  private matching(filter: ReviewFilter): Matching {
    const key = filterKey(filter);
    const columns = this.columns();
    const kept = this.filtered.get(key);
    if (kept) {
      // Most recently used last.
      this.filtered.delete(key);
      this.filtered.set(key, kept);
      return kept;
    }
    const { count, domain, status, start, flags } = columns;
    const text = filter.text.trim().toLowerCase();
    const candidateCriteria = filter.show !== 'all' || filter.unparseable || filter.overridden || filter.judgesWrong !== undefined;
    const matcher = new RowMatcher(filter);
    const wantDomain = filter.domain === 'all' ? -1 : DOMAINS.indexOf(filter.domain);
    const seeds: number[] = [];
    let candidates = 0;
    const maybe = text === '' ? undefined : this.seedsWithText(text);
    for (let place = 0; place < count; place++) {
      if (wantDomain !== -1 && domain[place] !== wantDomain) continue;
      if (text !== '') {
        // Searched exactly, on the seed folded whole, where its lines may hold the text.
        const id = this.source.idAt(place);
        if (maybe && !maybe.has(id)) continue;
        const seed = this.reviewSeedAt(place, id);
        const shown = seed ? filterSeeds([seed], filter)[0] : undefined;
        if (shown) {
          seeds.push(place);
          candidates += shown.candidates.length;
        }
        continue;
      }
      const from = start[place]!;
      const to = start[place + 1]!;
      if (from === to) {
        if (!candidateCriteria) seeds.push(place);
        continue;
      }
      let shown = 0;
      if (!candidateCriteria) shown = to - from;
      else for (let k = from; k < to; k++) if (matcher.matches(flags[k]!, status[place]!)) shown += 1;
      if (shown > 0) {
        seeds.push(place);
        candidates += shown;
      }
    }
    const matching = { key, seeds, candidates };
    this.filtered.set(key, matching);
    if (this.filtered.size > FILTERS_KEPT) this.filtered.delete(this.filtered.keys().next().value!);
    return matching;
  }

  private seedsWithText(text: string): Set<string> | undefined {
    if (!this.textSeeds.has(text)) this.textSeeds.set(text, this.source.seedsWithText(text));
    return this.textSeeds.get(text);
  }
}
