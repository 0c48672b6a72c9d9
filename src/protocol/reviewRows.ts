// A seed of the review as the on-disk index keeps it: a compact row (domain, status, a flag word per candidate, the
// seed's share of the funnel, usage and audit), made by the same fold and the same `toReviewSeed` the panel shows, so
// that filters and the run's summary over rows agree with the whole fold. Pure; the host's side only (audit).
import { auditRun, type Audit, type Confusion } from '../core/record/audit';
import type { RunEvent } from '../core/record/events';
import { foldRun, type Funnel, type RunView } from '../core/record/runview';
import { DOMAINS, PURPOSES, STAGES, type Domain } from '../core/base/types';
import type { ReviewCandidate, ReviewDomainStats, ReviewFilter, ReviewSeed, ReviewUsage, RunSummary, StageState } from './review';
import { matchesCandidate, pendingVotesOf, toReviewSeed, usageOf, type RunPrice } from './reviewSeeds';
import { reviewCostOf } from './reviewCost';

/** Bumped whenever a row's shape or meaning changes: indexes saved under another version are rebuilt. */
export const REVIEW_ROW_VERSION = 'review-row-1';

export interface SeedRow {
  /** Domain, as an index into DOMAINS. */
  d: number;
  /** Status after the overrides, as an index into SEED_STATUSES. */
  s: number;
  /** A flag word per candidate (see `candidateFlags`), by candidate index order. */
  c: number[];
  /** Candidate indexes, only where they are not 0, 1, 2, ... */
  i?: number[];
  /** The seed's share of the funnel and of the samples and tokens (FACTS), trailing zeros left out. */
  f: number[];
  /** Invalid candidates by reason. */
  v?: Record<string, number>;
  /** Audit tallies (AUDIT_FIELDS), when the seed has any. */
  a?: number[];
}

const SEED_STATUSES = ['pending', 'accepted', 'rejected', 'no_valid'] as const;
const FUNNEL_FACTS = ['seedsDone', 'candidates', 'valid', 'verified', 'passedCycle', 'passedFactuality', 'passedCorrectness', 'accepted', 'acceptedFinal', 'overridden', 'unparseableVotes'] as const;
const USAGE_FACTS = ['samples', 'promptTokens', 'completionTokens'] as const;
const STATES: readonly StageState[] = ['not_reached', 'running', 'passed', 'failed'];
const TRUTHS = [undefined, 'pass', 'fail', 'error', 'timeout', 'unchecked'] as const;
const OVERRIDES = [undefined, 'accept', 'reject'] as const;
/** checked, correct, 4 outcomes, unchecked, unsandboxed, then 4 tallies for overall and each stage. */
const AUDIT_FIELDS = 8 + 4 * (1 + STAGES.length);

// ---------------------------------------------------------------- a seed's row

/** The index's summarizer for the review: a seed's events to its row. */
export const reviewRowSummarizer = {
  version: REVIEW_ROW_VERSION,
  summarize(events: readonly RunEvent[]): SeedRow | undefined {
    const view = foldRun(events);
    const seedView = view.seeds[0];
    if (!seedView) return undefined;
    const pendingVotes = pendingVotesOf(events);
    const seed = toReviewSeed(seedView, { pendingVotes });
    const usage = usageOf(view, pendingVotes);
    const facts = [...FUNNEL_FACTS.map((name) => view.funnel[name]), ...PURPOSES.flatMap((purpose) => USAGE_FACTS.map((name) => usage[purpose][name]))];
    while (facts.length > 0 && facts.at(-1) === 0) facts.pop();
    const row: SeedRow = { d: DOMAINS.indexOf(seed.domain), s: SEED_STATUSES.indexOf(seed.status), c: seed.candidates.map(candidateFlags), f: facts };
    if (seed.candidates.some((candidate, i) => candidate.index !== i)) row.i = seed.candidates.map((candidate) => candidate.index);
    if (Object.keys(view.funnel.invalidByReason).length > 0) row.v = { ...view.funnel.invalidByReason };
    const audit = auditTallies(view);
    if (audit.some((n) => n !== 0)) row.a = audit;
    return row;
  },
  pack: (rows: readonly (SeedRow | undefined)[], strings: string[]) => packRows(rows, strings).numbers,
  packedStarts: packedRowStarts,
  unpackAt: unpackRowAt,
};

/**
 * Rows as one run of numbers, for a saved index that loads in a fraction of JSON's time. Per row: present (0/1),
 * domain, status, candidates n, n flag words, whether indexes follow, [n indexes], facts m, m facts, reasons k,
 * k (reason string index, count) pairs, whether audit tallies follow, [AUDIT_FIELDS tallies].
 */
export function packRows(rows: readonly (SeedRow | undefined)[], strings: string[] = []): { numbers: Float64Array; strings: string[] } {
  // Straight into a typed array that grows: 100,000 rows are millions of numbers.
  let out = new Float64Array(Math.max(64, rows.length * 48));
  let used = 0;
  const put = (...values: number[]) => {
    if (used + values.length > out.length) {
      const grown = new Float64Array(Math.max(out.length * 2, used + values.length));
      grown.set(out.subarray(0, used));
      out = grown;
    }
    for (const value of values) out[used++] = value;
  };
  // Reasons are named by their index in `strings`, which rows packed before may have begun.
  const stringIndex = new Map(strings.map((name, i) => [name, i]));
  for (const row of rows) {
    if (!row) {
      put(0);
      continue;
    }
    put(1, row.d, row.s, row.c.length);
    put(...row.c);
    put(row.i ? 1 : 0);
    if (row.i) put(...row.i);
    put(row.f.length);
    put(...row.f);
    const reasons = Object.entries(row.v ?? {});
    put(reasons.length);
    for (const [reason, n] of reasons) {
      let at = stringIndex.get(reason);
      if (at === undefined) {
        at = strings.length;
        strings.push(reason);
        stringIndex.set(reason, at);
      }
      put(at, n);
    }
    put(row.a ? 1 : 0);
    if (row.a) put(...row.a);
  }
  return { numbers: out.slice(0, used), strings };
}

/** Where each packed row starts, then where the last ends (`count + 1` offsets), found without unpacking a row. */
export function packedRowStarts(numbers: Float64Array<ArrayBufferLike>, count: number): Int32Array {
  const starts = new Int32Array(count + 1);
  let at = 0;
  for (let r = 0; r < count; r++) {
    starts[r] = at;
    at = numbers[at] === 0 ? at + 1 : packedRowEnd(numbers, at);
  }
  if (at !== numbers.length) throw new Error(`packed review rows: ${numbers.length - at} numbers left over`);
  starts[count] = at;
  return starts;
}

function packedRowEnd(numbers: Float64Array<ArrayBufferLike>, start: number): number {
  const n = numbers[start + 3]!;
  let at = start + 4 + n;
  if (numbers[at++] === 1) at += n;
  at += numbers[at]! + 1;
  at += numbers[at]! * 2 + 1;
  if (numbers[at++] === 1) at += AUDIT_FIELDS;
  if (!(at <= numbers.length)) throw new Error('packed review rows: a row runs past the end');
  return at;
}

/** The row packed at `start` (an offset from `packedRowStarts`); undefined where none was. */
export function unpackRowAt(packed: { numbers: Float64Array<ArrayBufferLike>; strings: readonly string[] }, start: number): SeedRow | undefined {
  const { numbers, strings } = packed;
  if (numbers[start] === 0) return undefined;
  let at = start + 1;
  const take = (n: number): number[] => {
    const out = new Array<number>(n);
    for (let k = 0; k < n; k++) out[k] = numbers[at + k]!;
    at += n;
    return out;
  };
  const d = numbers[at++]!;
  const s = numbers[at++]!;
  const n = numbers[at++]!;
  const row: SeedRow = { d, s, c: take(n), f: [] };
  if (numbers[at++] === 1) row.i = take(n);
  row.f = take(numbers[at++]!);
  const reasons = numbers[at++]!;
  if (reasons > 0) {
    row.v = {};
    for (let k = 0; k < reasons; k++) {
      const name = strings[numbers[at++]!]!;
      row.v[name] = numbers[at++]!;
    }
  }
  if (numbers[at++] === 1) row.a = take(AUDIT_FIELDS);
  return row;
}

export function unpackRows(packed: { numbers: Float64Array; strings: string[] }, count: number): (SeedRow | undefined)[] {
  return Array.from(packedRowStarts(packed.numbers, count).subarray(0, count), (at) => unpackRowAt(packed, at));
}

/**
 * What the filters read of a candidate, in one word: accepted, valid, accepted by the method, the override, each
 * stage's state, unreadable votes, the truth.
 */
export function candidateFlags(candidate: ReviewCandidate): number {
  let flags = (candidate.accepted ? 1 : 0) | (candidate.valid ? 2 : 0) | (candidate.acceptedByMethod ? 4 : 0);
  flags |= OVERRIDES.indexOf(candidate.override?.action) << 3;
  candidate.stages.forEach((stage, i) => (flags |= STATES.indexOf(stage.state) << (5 + 2 * i)));
  if (candidate.unparseableVotes > 0) flags |= 1 << 11;
  flags |= TRUTHS.indexOf(candidate.truth?.outcome) << 12;
  if (candidate.truth?.correct) flags |= 1 << 15;
  return flags;
}

export function rowDomain(row: SeedRow): Domain {
  return DOMAINS[row.d]!;
}

export function rowCandidateIds(seedId: string, row: SeedRow): string[] {
  return row.c.map((_, i) => `${seedId}#${row.i?.[i] ?? i}`);
}

/** The seed's audit tallies, whether or not `auditRun` would report them (a seed with gold and no truth yet counts). */
function auditTallies(view: RunView): number[] {
  const audit = auditRun(view);
  if (!audit) {
    const seed = view.seeds[0]!;
    const unchecked = seed.seed.gold ? seed.candidates.filter((candidate) => candidate.candidate.valid).length : 0;
    const out = new Array<number>(AUDIT_FIELDS).fill(0);
    out[6] = unchecked;
    return out;
  }
  const tally = (c: Confusion) => [c.judged, c.accepted, c.correct, c.acceptedCorrect];
  return [
    audit.checked,
    audit.correct,
    audit.outcomes.pass,
    audit.outcomes.fail,
    audit.outcomes.error,
    audit.outcomes.timeout,
    audit.unchecked,
    audit.unsandboxed,
    ...tally(audit.overall),
    ...STAGES.flatMap((stage) => tally(audit.stages[stage])),
  ];
}

// ---------------------------------------------------------------- filters over rows

/**
 * Whether a candidate, known by its flag word, passes the filter's criteria other than domain and text. Decided by the
 * panel's own `matchesCandidate` on a stand-in built from the flags, remembered per distinct word.
 */
export class RowMatcher {
  /** By flag word and seed status: 1 matches, 0 not, -1 not decided yet. */
  private readonly decided = new Int8Array(1 << 18).fill(-1);
  private readonly filter: ReviewFilter;

  constructor(filter: ReviewFilter) {
    this.filter = { ...filter, domain: 'all', text: '' };
  }

  matches(flags: number, seedStatus: number): boolean {
    const key = flags * 4 + seedStatus;
    let decided = this.decided[key]!;
    if (decided === -1) {
      decided = matchesCandidate(standInSeed(seedStatus), standInCandidate(flags), this.filter) ? 1 : 0;
      this.decided[key] = decided;
    }
    return decided === 1;
  }
}

function standInSeed(status: number): ReviewSeed {
  return { id: '', line: 0, domain: 'math', question: '', status: SEED_STATUSES[status]!, candidates: [], candidateCount: 0, errors: 0 };
}

function standInCandidate(flags: number): ReviewCandidate {
  const override = OVERRIDES[(flags >> 3) & 3];
  const truth = TRUTHS[(flags >> 12) & 7];
  return {
    id: '',
    index: 0,
    text: '',
    thinking: '',
    finishReason: '',
    valid: (flags & 2) !== 0,
    stages: STAGES.map((stage, i) => ({ stage, state: STATES[(flags >> (5 + 2 * i)) & 3]!, yes: 0, total: 0, votes: [] })),
    acceptedByMethod: (flags & 4) !== 0,
    accepted: (flags & 1) !== 0,
    unparseableVotes: (flags >> 11) & 1,
    ...(override ? { override: { action: override, at: '' } } : {}),
    ...(truth ? { truth: { outcome: truth, correct: (flags & (1 << 15)) !== 0, detail: '' } } : {}),
  };
}

// ---------------------------------------------------------------- the run's summary over rows

export interface SummaryOptions {
  canOverride?: boolean;
  skippedRows?: number;
  /** Seeds in the seed file. */
  totalSeeds?: number;
  /** The run's model and its price, for the cost in the summary. */
  price?: RunPrice;
}

/** What the run's summary adds up over its seeds' rows; rows are added as objects or read where they lie packed. */
export class RowTotals {
  readonly facts = new Array<number>(FUNNEL_FACTS.length + PURPOSES.length * USAGE_FACTS.length).fill(0);
  readonly audit = new Array<number>(AUDIT_FIELDS).fill(0);
  readonly invalidByReason: Record<string, number> = {};
  readonly domains = DOMAINS.map((domain): ReviewDomainStats => ({ domain, seeds: 0, seedsAccepted: 0, candidates: 0, valid: 0, accepted: 0 }));
  rows = 0;

  add(row: SeedRow): void {
    for (let i = 0; i < row.f.length; i++) this.facts[i]! += row.f[i]!;
    if (row.a) for (let i = 0; i < AUDIT_FIELDS; i++) this.audit[i]! += row.a[i]!;
    if (row.v) for (const [reason, n] of Object.entries(row.v)) this.invalidByReason[reason] = (this.invalidByReason[reason] ?? 0) + n;
    this.candidates(row.d, row.c, 0, row.c.length);
  }

  /** The row packed at `start` (see `packRows`), read in place. */
  addPacked(numbers: Float64Array<ArrayBufferLike>, strings: readonly string[], start: number): void {
    const n = numbers[start + 3]!;
    this.candidates(numbers[start + 1]!, numbers, start + 4, n);
    let at = start + 4 + n;
    if (numbers[at++] === 1) at += n;
    const m = numbers[at++]!;
    for (let i = 0; i < m; i++) this.facts[i]! += numbers[at + i]!;
    at += m;
    const reasons = numbers[at++]!;
    for (let k = 0; k < reasons; k++, at += 2) {
      const reason = strings[numbers[at]!]!;
      this.invalidByReason[reason] = (this.invalidByReason[reason] ?? 0) + numbers[at + 1]!;
    }
    if (numbers[at++] === 1) for (let i = 0; i < AUDIT_FIELDS; i++) this.audit[i]! += numbers[at + i]!;
  }

  private candidates(domain: number, flagWords: ArrayLike<number>, from: number, count: number): void {
    this.rows += 1;
    const stats = this.domains[domain]!;
    stats.seeds += 1;
    let accepted = 0;
    for (let k = from; k < from + count; k++) {
      const flags = flagWords[k]!;
      stats.candidates += 1;
      if (flags & 2) stats.valid += 1;
      if (flags & 1) accepted += 1;
    }
    stats.accepted += accepted;
    if (accepted > 0) stats.seedsAccepted += 1;
  }
}

/** The run's summary as `runSummary` makes it from the whole fold, from the rows and the run-level events. */
export function summaryOfRows(runId: string, rows: readonly SeedRow[], runEvents: readonly RunEvent[], errors: number, options: SummaryOptions = {}): RunSummary {
  const totals = new RowTotals();
  for (const row of rows) totals.add(row);
  return summaryOfTotals(runId, totals, runEvents, errors, options);
}

export function summaryOfTotals(runId: string, totals: RowTotals, runEvents: readonly RunEvent[], errors: number, options: SummaryOptions = {}): RunSummary {
  const runView = foldRun(runEvents, options.totalSeeds);
  const { facts, audit, invalidByReason, domains } = totals;
  const funnel = Object.fromEntries(FUNNEL_FACTS.map((name, i) => [name, facts[i]!])) as Omit<Funnel, 'seeds' | 'errors' | 'seedsPending' | 'invalidByReason'>;
  const seeds = Math.max(options.totalSeeds ?? 0, totals.rows);
  const usage = Object.fromEntries(
    PURPOSES.map((purpose, p): [string, ReviewUsage] => {
      const at = FUNNEL_FACTS.length + p * USAGE_FACTS.length;
      const counts = runView.usage[purpose];
      return [purpose, { requests: counts.requests, retries: counts.retries, cachedSamples: counts.cachedSamples, samples: facts[at]!, promptTokens: facts[at + 1]!, completionTokens: facts[at + 2]! }];
    }),
  ) as RunSummary['usage'];
  const summary: RunSummary = {
    runId,
    state: runView.state,
    funnel: { seeds, ...funnel, invalidByReason: { ...invalidByReason }, errors, seedsPending: seeds - funnel.seedsDone },
    usage,
    domains: domains.filter((stats) => stats.seeds > 0).map((stats) => ({ ...stats })),
    totalSeeds: seeds,
    wallMs: runView.wallMs,
    canOverride: options.canOverride ?? true,
  };
  if (runView.lastMessage !== undefined) summary.lastMessage = runView.lastMessage;
  if (options.skippedRows) summary.skippedRows = options.skippedRows;
  if (options.price) {
    const { model, match } = options.price;
    summary.cost = reviewCostOf(model, match, runView.usage, summary.funnel.accepted);
  }
  const merged = mergedAudit(audit);
  if (merged) summary.audit = merged;
  return summary;
}

function mergedAudit(a: readonly number[]): Audit | undefined {
  if (a[0] === 0 && a[7] === 0) return undefined;
  const confusion = (at: number): Confusion => {
    const [judged, accepted, correct, acceptedCorrect] = a.slice(at, at + 4) as [number, number, number, number];
    return {
      judged,
      accepted,
      correct,
      acceptedCorrect,
      falseAccepts: accepted - acceptedCorrect,
      falseRejects: correct - acceptedCorrect,
      precision: accepted > 0 ? acceptedCorrect / accepted : null,
      recall: correct > 0 ? acceptedCorrect / correct : null,
    };
  };
  return {
    checked: a[0]!,
    correct: a[1]!,
    outcomes: { pass: a[2]!, fail: a[3]!, error: a[4]!, timeout: a[5]! },
    unchecked: a[6]!,
    unsandboxed: a[7]!,
    overall: confusion(8),
    stages: { cycle: confusion(12), factuality: confusion(16), correctness: confusion(20) },
  };
}
