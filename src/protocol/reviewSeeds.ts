// The run's fold in the review protocol's shape, and the review's filter. Pure: the host calls these on the whole run,
// the webview on the seeds a live update re-sent.
import type { RunEvent, VoteEvent } from '../core/record/events';
import { seedIdOfCandidate, seedStatus, type CandidateView, type RunView, type SeedView, type TruthView } from '../core/record/runview';
import { splitTrace } from '../core/method/trace';
import type { PriceMatch } from '../core/method/cost';
import { reviewCostOf } from './reviewCost';
import { DOMAINS, PURPOSES, STAGES, type GoldTestCases, type Purpose, type Stage } from '../core/base/types';
import {
  MAX_GOLD_TEXT,
  type JudgesWrong,
  type ReviewCandidate,
  type ReviewDomainStats,
  type ReviewFilter,
  type ReviewGold,
  type ReviewSeed,
  type ReviewTruth,
  type ReviewStage,
  type ReviewUnverified,
  type ReviewUsage,
  type ReviewVote,
  type RunSummary,
  type StageState,
} from './review';

/** The rule for a seed's status after the decisions by hand, for the webview's view of an override on its way. */
export { seedStatus };

/** Votes of stages that have no result yet, by candidate: what shows a stage as running. */
export type PendingVotes = ReadonlyMap<string, readonly VoteEvent[]>;

export interface ToReviewSeedOptions {
  pendingVotes?: PendingVotes;
  /** Why the seed screening marked a seed, by seed id. */
  screening?: ReadonlyMap<string, string>;
}

export function toReviewSeed(view: SeedView, options: ToReviewSeedOptions = {}): ReviewSeed {
  const lastError = view.errors.at(-1);
  const byMethod = view.outcome?.status ?? 'pending';
  const status = seedStatus(byMethod, view.candidates.some((candidate) => candidate.accepted));
  const unverified = unverifiedReason(view);
  const seed: ReviewSeed = {
    id: view.seed.seedId,
    line: view.seed.line,
    domain: view.seed.domain,
    question: view.seed.question,
    status,
    candidates: view.candidates.map((candidate) => toReviewCandidate(candidate, options.pendingVotes, unverified)),
    candidateCount: view.candidates.length,
    errors: view.errors.length,
  };
  if (status !== byMethod) seed.statusByMethod = byMethod;
  if (lastError) seed.lastError = lastError.message;
  const gold = reviewGold(view.seed.gold);
  if (gold) seed.gold = gold;
  const screened = options.screening?.get(seed.id);
  if (screened) seed.screening = screened.slice(0, 500);
  return seed;
}

/** A text cut to `limit` characters, saying so: what the panel is sent of the user's data and of program output. */
export function capText(text: string, limit = MAX_GOLD_TEXT): string {
  return text.length > limit ? `${text.slice(0, limit)}\n[cut: ${text.length.toLocaleString('en')} characters]` : text;
}

function reviewGold(gold: SeedView['seed']['gold']): ReviewGold | undefined {
  if (!gold) return undefined;
  const out: ReviewGold = {};
  if (gold.answer !== undefined && gold.answer.trim() !== '') out.answer = capText(gold.answer);
  if (gold.tests !== undefined && gold.tests.trim() !== '') out.tests = capText(gold.tests);
  else if (gold.testCases !== undefined && gold.testCases.cases.length > 0) out.tests = capText(testCasesText(gold.testCases));
  if (gold.entryPoint !== undefined && gold.entryPoint.trim() !== '') out.entryPoint = gold.entryPoint.slice(0, 200);
  else if (gold.testCases?.fnName !== undefined) out.entryPoint = gold.testCases.fnName.slice(0, 200);
  return out.answer === undefined && out.tests === undefined ? undefined : out;
}

/** Input/output cases as the panel shows them, beside the question (as text). */
export function testCasesText(testCases: GoldTestCases): string {
  const { cases, kind, omitted } = testCases;
  const count = cases.length === 1 ? '1 test case' : `${cases.length} test cases`;
  const head = `${count} (${kind === 'functional' ? 'functional: one JSON argument per line' : 'stdin'})${omitted ? `, ${omitted} more left out` : ''}`;
  const body = cases.map((testCase, index) => `# case ${index + 1}: input\n${testCase.input.replace(/\n$/, '')}\n# expected\n${testCase.output.replace(/\n$/, '')}`);
  return [head, ...body].join('\n');
}

/** A check's result in the protocol's shape, its texts cut. */
export function reviewTruth(truth: TruthView): ReviewTruth {
  const out: ReviewTruth = { outcome: truth.outcome, correct: truth.correct, detail: capText(truth.detail) };
  if (truth.extracted !== undefined) out.extracted = capText(truth.extracted, 500);
  if (truth.output !== undefined) out.output = capText(truth.output);
  if (truth.durationMs !== undefined) out.durationMs = truth.durationMs;
  return out;
}

/** Why a candidate of this seed that the cascade did not finish was left: by its index. */
function unverifiedReason(view: SeedView): (index: number) => ReviewUnverified {
  const firstAccepted = view.candidates.find((candidate) => candidate.acceptedByMethod)?.candidate.index;
  return (index) => {
    if (view.outcome) {
      return firstAccepted !== undefined && firstAccepted < index ? { reason: 'first_valid', acceptedIndex: firstAccepted } : { reason: 'seed_finished' };
    }
    return { reason: view.errors.length > 0 ? 'seed_error' : 'unfinished' };
  };
}

function toReviewCandidate(
  view: CandidateView,
  pendingVotes: PendingVotes | undefined,
  unverified: (index: number) => ReviewUnverified,
): ReviewCandidate {
  const { candidate } = view;
  const trace = splitTrace(candidate);
  const pending = pendingVotes?.get(candidate.candidateId) ?? [];
  const stages: ReviewStage[] = [];
  let blocked = !candidate.valid;
  for (const stage of STAGES) {
    const result = view.stages[stage];
    if (result) {
      stages.push({
        stage,
        state: result.passed ? 'passed' : 'failed',
        yes: result.yes,
        total: result.votes,
        votes: result.voteEvents.map(toReviewVote),
      });
      blocked ||= !result.passed;
      continue;
    }
    const votes = blocked ? [] : pending.filter((vote) => vote.stage === stage).sort(byIndexThenStep);
    const state: StageState = votes.length > 0 ? 'running' : 'not_reached';
    const counted = votes.filter((vote) => vote.verdict !== null);
    stages.push({
      stage,
      state,
      yes: counted.filter((vote) => vote.verdict === 'yes').length,
      total: counted.length,
      votes: votes.map(toReviewVote),
    });
    blocked = true;
  }
  const reviewCandidate: ReviewCandidate = {
    id: candidate.candidateId,
    index: candidate.index,
    text: trace.answer,
    thinking: trace.thinking,
    finishReason: candidate.finishReason,
    valid: candidate.valid,
    stages,
    acceptedByMethod: view.acceptedByMethod,
    accepted: view.accepted,
    unparseableVotes: view.unparseableVotes + pending.filter((vote) => vote.verdict === 'unparseable').length,
  };
  if (candidate.invalidReason !== undefined) reviewCandidate.invalidReason = candidate.invalidReason;
  if (view.override) reviewCandidate.override = { ...view.override };
  if (view.truth) reviewCandidate.truth = reviewTruth(view.truth);
  if (candidate.valid && stages.some((stage) => stage.state === 'not_reached') && !stages.some((stage) => stage.state === 'failed')) {
    reviewCandidate.unverified = unverified(candidate.index);
  }
  return reviewCandidate;
}

function toReviewVote(vote: VoteEvent): ReviewVote {
  const out: ReviewVote = { step: vote.step, index: vote.index, verdict: vote.verdict, text: vote.text };
  if (vote.reasoning) out.thinking = vote.reasoning;
  if (vote.inferredQuestion !== undefined) out.inferredQuestion = vote.inferredQuestion;
  return out;
}

const STEP_ORDER: Record<VoteEvent['step'], number> = { infer: 0, compare: 1, judge: 2 };
function byIndexThenStep(a: VoteEvent, b: VoteEvent): number {
  return a.index - b.index || STEP_ORDER[a.step] - STEP_ORDER[b.step];
}

/** Votes whose stage has no recorded result yet, by candidate, from the run record (the fold keeps only finished stages). */
export function pendingVotesOf(events: Iterable<RunEvent>): Map<string, VoteEvent[]> {
  const votes = new Map<string, VoteEvent>();
  const finished = new Set<string>();
  for (const event of events) {
    if (event.type === 'vote' && !votes.has(event.id)) votes.set(event.id, event);
    else if (event.type === 'stage') finished.add(`${event.candidateId}\u0000${event.stage}`);
  }
  const pending = new Map<string, VoteEvent[]>();
  for (const vote of votes.values()) {
    if (finished.has(`${vote.candidateId}\u0000${vote.stage}`)) continue;
    const list = pending.get(vote.candidateId);
    if (list) list.push(vote);
    else pending.set(vote.candidateId, [vote]);
  }
  return pending;
}

/** Seeds that a batch of new events touched: what a live update re-sends. */
export function changedSeedIds(events: Iterable<RunEvent>): Set<string> {
  const ids = new Set<string>();
  for (const event of events) {
    switch (event.type) {
      case 'seed':
      case 'candidate':
      case 'outcome':
      case 'truth':
        ids.add(event.seedId);
        break;
      case 'vote':
      case 'stage':
      case 'override': {
        const seedId = seedIdOfCandidate(event.candidateId);
        if (seedId !== undefined) ids.add(seedId);
        break;
      }
      case 'error': {
        const seedId = event.seedId ?? (event.candidateId === undefined ? undefined : seedIdOfCandidate(event.candidateId));
        if (seedId !== undefined) ids.add(seedId);
        break;
      }
      case 'run':
      case 'usage':
        break;
    }
  }
  return ids;
}

// ---------------------------------------------------------------- the filter

/** The stage that rejected a candidate, if one did. */
export function failedStage(candidate: ReviewCandidate): Stage | undefined {
  return candidate.stages.find((stage) => stage.state === 'failed')?.stage;
}

function matchesShow(candidate: ReviewCandidate, show: ReviewFilter['show']): boolean {
  switch (show) {
    case 'all':
      return true;
    case 'accepted':
      return candidate.accepted;
    case 'rejected':
      return !candidate.accepted && (candidate.override?.action === 'reject' || failedStage(candidate) !== undefined);
    case 'rejected_cycle':
      return failedStage(candidate) === 'cycle';
    case 'rejected_factuality':
      return failedStage(candidate) === 'factuality';
    case 'rejected_correctness':
      return failedStage(candidate) === 'correctness';
    case 'invalid':
      return !candidate.valid;
    case 'unverified':
      return (
        candidate.valid &&
        !candidate.accepted &&
        candidate.override === undefined &&
        candidate.stages.every((stage) => stage.state === 'not_reached' || stage.state === 'passed')
      );
  }
}

// Lower-cased search text, built once per candidate object (the host keeps its objects between requests).
const haystacks = new WeakMap<object, string>();

function haystack(key: object, build: () => string): string {
  let text = haystacks.get(key);
  if (text === undefined) {
    text = build().toLowerCase();
    haystacks.set(key, text);
  }
  return text;
}

function seedHaystack(seed: ReviewSeed): string {
  return haystack(seed, () => `${seed.id}\n${seed.question}`);
}

function candidateHaystack(candidate: ReviewCandidate): string {
  return haystack(candidate, () => {
    const parts = [candidate.id, candidate.text, candidate.thinking, candidate.invalidReason ?? '', candidate.override?.note ?? ''];
    for (const stage of candidate.stages) {
      for (const vote of stage.votes) parts.push(vote.text, vote.inferredQuestion ?? '', vote.thinking ?? '');
    }
    return parts.join('\n');
  });
}

/**
 * Where the gold says the judges were wrong about a candidate: `false_accept`, the method accepted a wrong answer;
 * `false_reject`, a right answer was judged and not accepted. As the audit counts them: the method's decision (not
 * a reviewer's), and only once the seed is finished.
 */
export function judgesWrongAbout(seed: ReviewSeed, candidate: ReviewCandidate): Exclude<JudgesWrong, 'either'> | undefined {
  const truth = candidate.truth;
  // "Not checked" (no sandbox) says nothing of the answer, so nothing of the judges either.
  if (!truth || !candidate.valid || truth.outcome === 'unchecked') return undefined;
  if (candidate.acceptedByMethod) return truth.correct ? undefined : 'false_accept';
  if (!truth.correct || seed.status === 'pending') return undefined;
  const cycle = candidate.stages[0]?.state;
  return cycle === 'passed' || cycle === 'failed' ? 'false_reject' : undefined;
}

function matchesJudgesWrong(seed: ReviewSeed, candidate: ReviewCandidate, wanted: JudgesWrong): boolean {
  const wrong = judgesWrongAbout(seed, candidate);
  return wrong !== undefined && (wanted === 'either' || wanted === wrong);
}

export function candidateFilterActive(filter: ReviewFilter): boolean {
  return filter.show !== 'all' || filter.unparseable || filter.overridden || filter.judgesWrong !== undefined;
}

export function matchesCandidate(seed: ReviewSeed, candidate: ReviewCandidate, filter: ReviewFilter): boolean {
  if (filter.domain !== 'all' && seed.domain !== filter.domain) return false;
  if (!matchesShow(candidate, filter.show)) return false;
  if (filter.unparseable && candidate.unparseableVotes === 0) return false;
  if (filter.overridden && candidate.override === undefined) return false;
  if (filter.judgesWrong !== undefined && !matchesJudgesWrong(seed, candidate, filter.judgesWrong)) return false;
  const text = filter.text.trim().toLowerCase();
  if (text === '') return true;
  return seedHaystack(seed).includes(text) || candidateHaystack(candidate).includes(text);
}

/**
 * The seeds a filter shows, in order, each with only its matching candidates. A seed without candidates (not
 * generated yet) shows only when no candidate criterion is set. Seeds left whole are returned as they are.
 */
export function filterSeeds(seeds: readonly ReviewSeed[], filter: ReviewFilter): ReviewSeed[] {
  const text = filter.text.trim().toLowerCase();
  if (!candidateFilterActive(filter) && filter.domain === 'all' && text === '') return [...seeds];
  const out: ReviewSeed[] = [];
  for (const seed of seeds) {
    if (filter.domain !== 'all' && seed.domain !== filter.domain) continue;
    if (seed.candidates.length === 0) {
      if (!candidateFilterActive(filter) && (text === '' || seedHaystack(seed).includes(text))) out.push(seed);
      continue;
    }
    const candidates = seed.candidates.filter((candidate) => matchesCandidate(seed, candidate, filter));
    if (candidates.length === seed.candidates.length) out.push(seed);
    else if (candidates.length > 0) out.push({ ...seed, candidates });
  }
  return out;
}

// ---------------------------------------------------------------- the run's summary

export function domainStats(seeds: readonly ReviewSeed[]): ReviewDomainStats[] {
  const stats = new Map<string, ReviewDomainStats>();
  for (const seed of seeds) {
    let entry = stats.get(seed.domain);
    if (!entry) {
      entry = { domain: seed.domain, seeds: 0, seedsAccepted: 0, candidates: 0, valid: 0, accepted: 0 };
      stats.set(seed.domain, entry);
    }
    entry.seeds += 1;
    let accepted = 0;
    for (const candidate of seed.candidates) {
      entry.candidates += 1;
      if (candidate.valid) entry.valid += 1;
      if (candidate.accepted) accepted += 1;
    }
    entry.accepted += accepted;
    if (accepted > 0) entry.seedsAccepted += 1;
  }
  return DOMAINS.flatMap((domain) => {
    const entry = stats.get(domain);
    return entry ? [entry] : [];
  });
}

/**
 * Requests as the sessions recorded them (a live session's from its latest checkpoint); samples and tokens from the
 * record itself, votes of stages still running included, so they move while a run is live.
 */
export function usageOf(view: RunView, pendingVotes?: PendingVotes): Record<Purpose, ReviewUsage> {
  const usage = Object.fromEntries(
    PURPOSES.map((purpose) => [
      purpose,
      {
        requests: view.usage[purpose].requests,
        retries: view.usage[purpose].retries,
        cachedSamples: view.usage[purpose].cachedSamples,
        samples: 0,
        promptTokens: 0,
        completionTokens: 0,
      },
    ]),
  ) as Record<Purpose, ReviewUsage>;
  for (const seed of view.seeds) {
    for (const candidate of seed.candidates) {
      const generate = usage.generate;
      generate.samples += 1;
      generate.promptTokens += candidate.candidate.promptTokens;
      generate.completionTokens += candidate.candidate.completionTokens;
      for (const stage of STAGES) {
        const into = usage[stage];
        for (const vote of candidate.stages[stage]?.voteEvents ?? []) {
          into.samples += 1;
          into.promptTokens += vote.promptTokens;
          into.completionTokens += vote.completionTokens;
        }
      }
      for (const vote of pendingVotes?.get(candidate.candidate.candidateId) ?? []) {
        const into = usage[vote.stage];
        into.samples += 1;
        into.promptTokens += vote.promptTokens;
        into.completionTokens += vote.completionTokens;
      }
    }
  }
  return usage;
}

/** The run's model and its price in the host's table (none: its cost is unknown). */
export interface RunPrice {
  model: string;
  match?: PriceMatch;
}

export function runSummary(
  runId: string,
  view: RunView,
  seeds: readonly ReviewSeed[],
  options: { canOverride?: boolean; pendingVotes?: PendingVotes; skippedRows?: number; price?: RunPrice } = {},
): RunSummary {
  const summary: RunSummary = {
    runId,
    state: view.state,
    funnel: { ...view.funnel, invalidByReason: { ...view.funnel.invalidByReason } },
    usage: usageOf(view, options.pendingVotes),
    domains: domainStats(seeds),
    totalSeeds: view.funnel.seeds,
    wallMs: view.wallMs,
    canOverride: options.canOverride ?? true,
  };
  if (view.lastMessage !== undefined) summary.lastMessage = view.lastMessage;
  if (options.skippedRows) summary.skippedRows = options.skippedRows;
  if (options.price) {
    const { model, match } = options.price;
    summary.cost = reviewCostOf(model, match, view.usage, view.funnel.accepted);
  }
  return summary;
}
