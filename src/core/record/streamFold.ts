// A run folded seed by seed as its lines stream from disk, for `svd status` and `svd export` on runs too large to
// hold: only seeds without an outcome keep their events in memory. A seed's events are written close together, not
// always contiguously (seeds run concurrently), so each event joins its seed's buffer, and the buffer is folded
// (foldRun, the one fold every reader shares) when the seed's outcome arrives; seeds still without one are folded at
// the end. The audit's truths may follow a seed's outcome (they are checked beside the cascade, and a resumed run
// checks finished seeds): candidates that still wait for theirs keep a few flags until it comes.
import { AuditTally, auditFacts, type AuditFacts } from './audit';
import type { OverrideEvent, RunEvent, TruthEvent } from './events';
import { foldRun, seedIdOfCandidate, seedIdOfEvent, SessionTally, type Funnel, type RunView, type SeedView } from './runview';
import type { Audit } from './audit';

/** A run's record as two streams: the pipeline's events, then the reviewers' overrides (RunStore gives both). */
export interface RunSource {
  recordEvents(): Iterable<RunEvent>;
  overrideEvents(): Iterable<RunEvent>;
}

/** What status shows of a run: a RunView without its seeds. */
export type RunSummary = Omit<RunView, 'seeds'> & {
  /** Seeds with at least one candidate. */
  seedsStarted: number;
  audit?: Audit;
};

export interface SeedFoldOptions {
  /** Each seed's view, once: at its outcome, or at the end for seeds without one. `order`: first seen. */
  onSeed?: (seed: SeedView, order: number) => void;
  /** Tally the audit too (it may hold flags of candidates waiting for their truth). */
  audit?: boolean;
}

interface Buffer {
  events: RunEvent[];
  /** Order of the seed's first event, for the seed-file order ties foldRun breaks by first appearance. */
  order: number;
}

interface WaitingTruth {
  facts: AuditFacts;
  truth?: Pick<TruthEvent, 'outcome' | 'correct'>;
}


function emptyFunnel(): Funnel {
  return {
    seeds: 0, seedsDone: 0, candidates: 0, valid: 0, verified: 0, passedCycle: 0, passedFactuality: 0, passedCorrectness: 0,
    accepted: 0, acceptedFinal: 0, overridden: 0, unparseableVotes: 0, invalidByReason: {}, errors: 0, seedsPending: 0,
  };
}

const ADDED = ['seedsDone', 'candidates', 'valid', 'verified', 'passedCycle', 'passedFactuality', 'passedCorrectness', 'accepted', 'acceptedFinal', 'overridden', 'unparseableVotes'] as const;

/**
 * Streams `source` once and returns the run's summary; the same figures as `foldRun` over `store.events()`.
 * @param totalSeeds seeds in the seed file, when known: seeds not yet reached count as pending.
 */
export function foldRunStreaming(source: RunSource, totalSeeds?: number, options: SeedFoldOptions = {}): RunSummary {
  // Overrides first (a small file): latest per candidate wins, as in foldRun, and each seed's are known at its fold.
  const overridesBySeed = new Map<string, OverrideEvent[]>();
  const latest = new Map<string, OverrideEvent>();
  for (const event of source.overrideEvents()) if (event.type === 'override') latest.set(event.candidateId, event);
  for (const event of latest.values()) {
    const seedId = seedIdOfCandidate(event.candidateId);
    if (seedId === undefined) continue;
    const list = overridesBySeed.get(seedId);
    if (list) list.push(event);
    else overridesBySeed.set(seedId, [event]);
  }

  const funnel = emptyFunnel();
  const sessions = new SessionTally();
  const audit = options.audit ? new AuditTally() : undefined;
  const waiting = new Map<string, WaitingTruth>();
  const open = new Map<string, Buffer>();
  let seen = 0;
  let seedsStarted = 0;
  let seedCount = 0;
  let errors = 0;

  const fold = (buffer: Buffer) => {
    const seedId = seedIdOfEvent(buffer.events[0]!)!;
    const view = foldRun([...buffer.events, ...(overridesBySeed.get(seedId) ?? [])]);
    const seed = view.seeds[0];
    if (!seed) return;
    seedCount += 1;
    if (seed.candidates.length > 0) seedsStarted += 1;
    for (const key of ADDED) funnel[key] += view.funnel[key];
    for (const [reason, n] of Object.entries(view.funnel.invalidByReason)) {
      funnel.invalidByReason[reason] = (funnel.invalidByReason[reason] ?? 0) + n;
    }
    if (audit) {
      for (const candidate of seed.candidates) {
        const facts = auditFacts(seed, candidate);
        const truth = candidate.truth;
        // A valid candidate of a seed with gold may still get its truth (or a real one for "unchecked") later.
        if (seed.outcome && facts.valid && facts.gold && (!truth || truth.outcome === 'unchecked')) {
          waiting.set(candidate.candidate.candidateId, { facts, ...(truth ? { truth } : {}) });
        } else {
          audit.add(facts, truth);
        }
      }
    }
    options.onSeed?.(seed, buffer.order);
  };

  for (const event of source.recordEvents()) {
    if (event.type === 'run' || event.type === 'usage') {
      sessions.add(event);
      continue;
    }
    if (event.type === 'error') errors += 1;
    if (event.type === 'truth') {
      const wait = waiting.get(event.candidateId);
      if (wait) {
        // foldRun's rule: the first truth counts, except that a real check replaces a "not checked".
        if (!wait.truth || (wait.truth.outcome === 'unchecked' && event.outcome !== 'unchecked')) wait.truth = event;
        if (wait.truth.outcome !== 'unchecked') {
          audit?.add(wait.facts, wait.truth);
          waiting.delete(event.candidateId);
        }
        continue;
      }
    }
    const seedId = seedIdOfEvent(event);
    if (seedId === undefined) continue;
    let buffer = open.get(seedId);
    if (!buffer) {
      buffer = { events: [], order: seen++ };
      open.set(seedId, buffer);
    }
    buffer.events.push(event);
    if (event.type === 'outcome') {
      open.delete(seedId);
      fold(buffer);
    }
  }
  for (const buffer of open.values()) fold(buffer);
  open.clear();
  if (audit) for (const wait of waiting.values()) audit.add(wait.facts, wait.truth);

  funnel.seeds = Math.max(totalSeeds ?? 0, seedCount);
  funnel.errors = errors;
  funnel.seedsPending = funnel.seeds - funnel.seedsDone;
  const summary: RunSummary = { funnel, ...sessions.result(), seedsStarted };
  const figures = audit?.result();
  if (figures) summary.audit = figures;
  return summary;
}
