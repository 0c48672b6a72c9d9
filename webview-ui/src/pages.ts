// The seeds the list shows: the filter, the pages of seeds the host sent for it (one slot per matching seed, empty
// until its page arrives), which pages are on their way, and live updates folded into the slots. No DOM: the host
// is reached through the `PageRequests` it is given.
import { filterKey, ReviewFilter, type EventsMessage, type PageMessage, type ReviewCandidate, type ReviewSeed } from '../../src/protocol/review';
import { candidateFilterActive, matchesCandidate, seedStatus } from '../../src/protocol/reviewSeeds';

/** Seeds per page request: small messages, however long the texts. */
export const PAGE_SIZE = 30;
/** Pages fetched ahead of the viewport, in seeds, each way. */
const PREFETCH_SEEDS = 10;

export interface PageRequests {
  /** Posts a `requestPage`; @returns its request id. */
  send(offset: number, filter: ReviewFilter): number;
  /** The answer to this request is no longer wanted. */
  cancel(requestId: number): void;
}

/**
 * A seed's status as its candidates now show it, where the list holds all of them (a filtered seed waits for the
 * host's answer): the same rule as the host's (core's seedStatus).
 */
function statusAfter(seed: ReviewSeed, candidates: readonly ReviewCandidate[]): Pick<ReviewSeed, 'status' | 'statusByMethod'> {
  const byMethod = seed.statusByMethod ?? seed.status;
  if (candidates.length !== seed.candidateCount) return { status: seed.status, statusByMethod: seed.statusByMethod };
  const status = seedStatus(byMethod, candidates.some((c) => c.accepted));
  return { status, statusByMethod: status === byMethod ? undefined : byMethod };
}

export class SeedPages {
  private filterValue: ReviewFilter;
  /** `filterKey` of the filter asked for last, and of the one whose pages the slots hold. */
  private requestedKey: string;
  private appliedKeyValue: string | undefined;
  private slots: (ReviewSeed | undefined)[] = [];
  /** The generation each slot was filled in; a slot of an older one is fetched again when in view. */
  private slotGeneration: number[] = [];
  private generation = 0;
  private totalValue: number | undefined;
  private totalCandidatesValue: number | undefined;
  private readonly seedSlot = new Map<string, number>();
  /** Page offset -> the request on its way for it. */
  private readonly inflight = new Map<number, number>();

  constructor(
    filter: ReviewFilter,
    private readonly requests: PageRequests,
  ) {
    this.filterValue = filter;
    this.requestedKey = filterKey(filter);
  }

  get filter(): ReviewFilter {
    return this.filterValue;
  }

  get appliedKey(): string | undefined {
    return this.appliedKeyValue;
  }

  /** One slot per seed matching the applied filter; undefined until its page is here. */
  get seeds(): readonly (ReviewSeed | undefined)[] {
    return this.slots;
  }

  /** A new filter was asked for and its first page has not come yet. */
  get switching(): boolean {
    return this.appliedKeyValue !== this.requestedKey;
  }

  /** Nothing to show for the filter asked for yet. */
  get loading(): boolean {
    return this.switching || this.totalValue === undefined;
  }

  /** Seeds and candidates matching the filter, once the host said. */
  get total(): number | undefined {
    return this.appliedKeyValue === undefined ? undefined : this.totalValue;
  }

  get totalCandidates(): number | undefined {
    return this.appliedKeyValue === undefined ? undefined : this.totalCandidatesValue;
  }

  /** Asks for the page at `offset` unless it is on its way. */
  request(offset: number): void {
    if (this.inflight.has(offset)) return;
    this.inflight.set(offset, this.requests.send(offset, this.filterValue));
  }

  /** The page holding `slot`. */
  requestSlot(slot: number): void {
    this.request(Math.floor(slot / PAGE_SIZE) * PAGE_SIZE);
  }

  /** Asks for the pages of the slots in view (and a few around) that are empty or stale. */
  requestMissing(firstSlot: number, lastSlot: number): void {
    const from = Math.max(0, firstSlot - PREFETCH_SEEDS);
    const to = Math.min(this.slots.length - 1, lastSlot + PREFETCH_SEEDS);
    for (let page = Math.floor(from / PAGE_SIZE) * PAGE_SIZE; page <= to; page += PAGE_SIZE) {
      const end = Math.min(to, page + PAGE_SIZE - 1);
      for (let slot = Math.max(from, page); slot <= end; slot++) {
        if (this.slots[slot] === undefined || this.slotGeneration[slot] !== this.generation) {
          this.request(page);
          break;
        }
      }
    }
  }

  /** A request's deadline passed: it may be asked for again. @returns the page's offset, if it was one of ours. */
  expire(requestId: number): number | undefined {
    for (const [offset, id] of this.inflight) {
      if (id !== requestId) continue;
      this.inflight.delete(offset);
      return offset;
    }
    return undefined;
  }

  /**
   * A page from the host. @returns 'stale' for a page of another filter, 'switched' when it is the first page of a
   * new filter (the list shows the new filter from now on, from its top), else 'placed'.
   */
  receive(message: PageMessage): 'stale' | 'switched' | 'placed' {
    if (message.filterKey !== this.requestedKey) return 'stale';
    if (this.inflight.get(message.offset) === message.requestId) this.inflight.delete(message.offset);
    let switched = false;
    if (this.appliedKeyValue !== this.requestedKey) {
      // The first page for a new filter: the list switches now, not when the filter was typed.
      this.appliedKeyValue = this.requestedKey;
      this.slots = [];
      this.slotGeneration = [];
      this.seedSlot.clear();
      switched = true;
    }
    this.resize(message.total);
    this.totalCandidatesValue = message.totalCandidates;
    message.seeds.forEach((seed, i) => this.place(message.offset + i, seed));
    return switched ? 'switched' : 'placed';
  }

  /** Live events: seeds re-sent whole replace those loaded, narrowed to the filter; a new total shifts the list. */
  update(message: EventsMessage): void {
    const current = message.filterKey === this.appliedKeyValue;
    if (message.total !== undefined && current && message.total !== this.totalValue) {
      // Seeds came or went: what is loaded may sit one place off, so visible pages are fetched again.
      this.resize(message.total);
      this.generation += 1;
    }
    // Candidates grow without seeds coming: the count beside the filter follows the run, not the last page.
    if (message.totalCandidates !== undefined && current) this.totalCandidatesValue = message.totalCandidates;
    for (const seed of message.seeds) this.replace(seed);
  }

  /** A seed re-sent whole (after an override, say), where it is loaded. */
  replace(seed: ReviewSeed): void {
    const slot = this.seedSlot.get(seed.id);
    if (slot !== undefined) this.slots[slot] = this.narrow(seed, this.slots[slot]);
  }

  /**
   * A change of the filter. @returns 'same' when nothing changed, 'kept' when the pages still fit (only the case or
   * the spaces of the search text changed), 'requested' when the first page of the new filter was asked for.
   */
  setFilter(patch: Partial<ReviewFilter>): 'same' | 'kept' | 'requested' {
    const next = ReviewFilter.parse({ ...this.filterValue, ...patch });
    // Off is no key at all: the filter an older panel sends.
    if (next.judgesWrong === undefined) delete next.judgesWrong;
    if (filterKey(next) === filterKey(this.filterValue) && next.text === this.filterValue.text) return 'same';
    this.filterValue = next;
    const key = filterKey(next);
    if (key === this.requestedKey) return 'kept';
    this.requestedKey = key;
    for (const requestId of this.inflight.values()) this.requests.cancel(requestId);
    this.inflight.clear();
    this.request(0);
    return 'requested';
  }

  findSeedOf(candidateId: string): ReviewSeed | undefined {
    const slot = this.slotOfCandidate(candidateId);
    return slot === undefined ? undefined : this.slots[slot];
  }

  findCandidate(candidateId: string): ReviewCandidate | undefined {
    return this.findSeedOf(candidateId)?.candidates.find((c) => c.id === candidateId);
  }

  /** Changes a loaded candidate in place (an override shown before the host confirms it, or put back). */
  patchCandidate(candidateId: string, patch: (c: ReviewCandidate) => Partial<ReviewCandidate>): void {
    const slot = this.slotOfCandidate(candidateId);
    const seed = slot === undefined ? undefined : this.slots[slot];
    if (!seed || slot === undefined) return;
    const candidates = seed.candidates.map((c) => {
      if (c.id !== candidateId) return c;
      const next: ReviewCandidate = { ...c, ...patch(c) };
      if (next.override === undefined) delete next.override;
      return next;
    });
    this.slots[slot] = { ...seed, candidates, ...statusAfter(seed, candidates) };
  }

  private slotOfCandidate(candidateId: string): number | undefined {
    const hash = candidateId.lastIndexOf('#');
    return hash > 0 ? this.seedSlot.get(candidateId.slice(0, hash)) : undefined;
  }

  /** A seed re-sent whole, narrowed to what the list shows: the candidates it showed stay, new matches join. */
  private narrow(seed: ReviewSeed, shown: ReviewSeed | undefined): ReviewSeed {
    const filter = this.filterValue;
    const narrowing = candidateFilterActive(filter) || filter.text.trim() !== '';
    if (!narrowing) return seed;
    const ids = new Set(shown?.candidates.map((c) => c.id) ?? []);
    const candidates = seed.candidates.filter((c) => ids.has(c.id) || matchesCandidate(seed, c, filter));
    return { ...seed, candidates };
  }

  private resize(total: number): void {
    this.totalValue = total;
    if (this.slots.length > total) {
      for (const seed of this.slots.slice(total)) if (seed) this.seedSlot.delete(seed.id);
    }
    this.slots.length = total;
    this.slotGeneration.length = total;
  }

  private place(slot: number, seed: ReviewSeed): void {
    if (slot >= this.slots.length) return;
    const old = this.slots[slot];
    if (old && old.id !== seed.id && this.seedSlot.get(old.id) === slot) this.seedSlot.delete(old.id);
    const before = this.seedSlot.get(seed.id);
    if (before !== undefined && before !== slot) this.slots[before] = undefined;
    this.slots[slot] = seed;
    this.slotGeneration[slot] = this.generation;
    this.seedSlot.set(seed.id, slot);
  }
}
