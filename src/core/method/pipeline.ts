// The method, end to end: seeds -> generate -> static filter -> cascade -> select, every result appended to the run
// store as it happens. Every step first looks for its own event in the store, so running a run again resumes it:
// nothing finished is asked again, nothing is written twice.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import { staticFilter } from './answer';
import { ResponseCache } from '../record/cache';
import type { AnswerChecker } from '../base/checker';
import type { RunConfig } from '../base/config';
import { SvdError, advisedError, describeError, isSvdError } from '../base/errors';
import {
  candidateIdOf,
  eventIds,
  type CandidateEvent,
  type SeedEvent,
  type UsageCounts,
} from '../record/events';
import { ModelCallError, type ModelClientOptions } from './model';
import type { EndpointStatus, ModelPort } from './endpoints';
import { endpointsClientFor } from './endpointsClient';
import type { EndpointSpec } from './endpointsFile';
import { EndpointsSnapshot } from './endpointsSnapshot';
import type { PromptSet } from './prompts';
import { CascadeVotes, sampleFields } from './cascadeVotes';
import { SampleDeferred, Sampler, type SampleSource } from './sampler';
import { readSeeds, type SeedReadOptions } from './seeds';
import { redactText } from '../base/redact';
import { RunStore } from '../record/store';
import { foldRunStreaming } from '../record/streamFold';
import { PURPOSES, STAGES, type Purpose, type Seed, type SeedProblem } from '../base/types';
import { RunAudit } from './runAudit';
import { UsageCheckpoints } from './usageCheckpoints';
import { checkSameRun, inSubset, type SeedSubset } from './runIdentity';
import { finishedRun, planRun, screeningCounts, targetOf, type RunPlan, type RunResult, type RunStartInfo } from './runPlan';
import type { ScreeningRequest } from './screening';
import { BudgetReached, runSpending, type RunBudget, type RunCostOptions, type RunSpend } from './budget';

export interface Endpoint {
  baseURL: string;
  model: string;
  apiKey?: string;
  engine: 'server' | 'embedded';
  /** Several servers sharing the run (baseURL is then the first's): see endpoints.ts. */
  replicas?: EndpointSpec[];
}

export interface Progress {
  seedsTotal: number;
  seedsDone: number;
  accepted: number;
  candidates: number;
  requests: number;
  requestsPerSecond: number;
  elapsedMs: number;
  /** Estimated time to finish, from this session's pace; undefined until a seed finished. */
  etaMs?: number;
  /** USD spent over all the run's sessions; undefined when the model has no price. */
  costUsd?: number;
  /** Each server's requests, errors and state, when the run has several. */
  endpoints?: EndpointStatus[];
}

export interface RunOptions {
  seedsFile: string;
  seedOptions?: Omit<SeedReadOptions, 'file'>;
  runsDir: string;
  /** Defaults to `<runsDir>/../cache`. */
  cacheDir?: string;
  /** Defaults to a name derived from the seed file and the method's parameters, so the same command resumes. */
  runId?: string;
  config: RunConfig;
  endpoint: Endpoint;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  onProblem?: (problem: SeedProblem) => void;
  onNotice?: (message: string) => void;
  /** Called once the run's folder is known, before any model call. */
  onStart?: (info: RunStartInfo) => void;
  /** For tests and embedders: a ready client (else one is built from `endpoint` and `config`); a batch's answers. */
  client?: RunClient;
  /** What servers have shown they cannot do, shared with the command's other runs (a sweep's cells). */
  traits?: ModelClientOptions['traits'];
  /** Probe the server before starting (unknown model, bad key, unreachable fail fast). Default true. */
  probe?: boolean;
  /**
   * Checks valid candidates against their seed's gold for the audit (when `config.audit` is auto). Without one no
   * truth is recorded. The checks run beside the model calls, never before them, and never change a decision.
   */
  checker?: AnswerChecker;
  /** Only part of the seed file; part of the run's identity, like the seed file itself. */
  subset?: SeedSubset;
  /** Made by planRun before the endpoint was up (the seed file is then read once); else made here. */
  plan?: RunPlan;
  /** Seeds screened first (evaluation files, duplicates); part of the run's identity. */
  screening?: ScreeningRequest;
  /** The model's price and the run's cost budget (budget.ts); no part of the run's identity. */
  cost?: RunCostOptions;
  /**
   * Fold the run's summary (the audit's figures included) into the result before the store closes: streamed through
   * the store the run wrote with, so a caller need not open the record again and build a second index of it.
   */
  summarize?: boolean;
}


/** What the pipeline needs of a model client. */
export type RunClient = SampleSource & Omit<ModelPort, 'complete'>;

export async function runPipeline(options: RunOptions): Promise<RunResult> {
  const { config, endpoint } = options;
  const target = targetOf(endpoint);
  // A plan made for another model (the embedded engine named its model otherwise) is made again, quietly: its
  // problems were reported already.
  const given = options.plan;
  const plan =
    given && given.manifest.model.model === target.model
      ? given
      : await planRun({ ...options, target, onProblem: given ? undefined : options.onProblem, onNotice: given ? undefined : options.onNotice });
  if (plan.finished) return finishedRun(plan, options);
  const { runId, dir, manifest, prompts, seedOptions, seedsTotal, subset } = plan;

  // Before the run's folder exists: a client that cannot be built (a bad URL, credentials and a key) leaves nothing.
  const client = options.client ?? modelClientFor(endpoint, config, { onNotice: options.onNotice, traits: options.traits });
  const resumed = existsSync(path.join(dir, 'run.json'));
  const store = resumed ? RunStore.open(dir) : RunStore.create(dir, manifest);
  try {
    if (resumed) checkSameRun(store.manifest, manifest);
    if (store.droppedTail) options.onNotice?.(`${dir}: dropped an incomplete last record left by an interrupted run`);
    store.lock();
  } catch (error) {
    store.close();
    throw error;
  }

  const cache = ResponseCache.open(options.cacheDir ?? path.join(options.runsDir, '..', 'cache'));
  options.onStart?.({ runId, dir, resumed, seedsTotal, skippedRows: plan.skippedRows, fileRows: plan.fileRows, alreadyFinished: false, ...screeningCounts(store.manifest) });
  const spending = runSpending(options.cost, plan.found?.view.usage, () => client.usage());
  const run = new PipelineRun(store, cache, client, prompts, config, endpoint.model, seedsTotal, subset, options, new Set(store.manifest.screening?.dropped), spending);
  const started = Date.now();
  const ended = (state: RunResult['state'], stopReason?: 'budget'): RunResult => ({
    ...run.result(runId, dir, state, resumed, plan.skippedRows),
    ...(stopReason ? { stopReason } : {}),
  });
  store.append({ id: `run:${started}:started`, type: 'run', state: 'started' });
  const snapshot = client.endpoints ? new EndpointsSnapshot(dir, () => client.endpoints!()) : undefined;
  snapshot?.start();
  try {
    let result: RunResult;
    try {
      if (options.probe !== false) await client.probe(options.signal);
      await run.processAll(seedOptions);
      const failure = run.everySeedFailed(endpoint);
      if (failure) throw failure;
      const usage = run.usage();
      // Seeds waiting for answers given later (a batch's next wave) leave the session stopped, not finished.
      const state = run.deferred > 0 ? 'stopped' : 'finished';
      store.append({ id: `run:${Date.now()}:${state}`, type: 'run', state, usage, wallMs: Date.now() - started });
      result = ended(state);
    } catch (error) {
      const usage = run.usage();
      const wallMs = Date.now() - started;
      if (isSvdError(error, 'aborted')) {
        store.append({ id: `run:${Date.now()}:stopped`, type: 'run', state: 'stopped', usage, wallMs });
        result = ended('stopped');
      } else if (error instanceof BudgetReached) {
        store.append({ id: `run:${Date.now()}:stopped`, type: 'run', state: 'stopped', reason: 'budget', message: error.recordText, usage, wallMs });
        result = ended('stopped', 'budget');
      } else {
        store.append({ id: `run:${Date.now()}:failed`, type: 'run', state: 'failed', message: redactText(describeError(error)), usage, wallMs });
        throw error;
      }
    }
    // After the session's end is recorded, so a summary that cannot be read never marks a finished session failed.
    if (options.summarize) {
      // Nothing is looked up or written any more: the cache's and the record's indexes are let go before the fold
      // streams the record (overrides written meanwhile are picked up first, as a reader opening the run would).
      cache.close();
      store.streamOnly();
      result.summary = foldRunStreaming(store, seedsTotal, { audit: true });
    }
    return result;
  } finally {
    snapshot?.stop();
    if (!options.client) client.close?.();
    store.close();
    cache.close();
  }
}

/** The model client for an endpoint (a pool for several), with the run's concurrency, timeout, retries and batching. */
export function modelClientFor(endpoint: Endpoint, config: RunConfig, extra: Pick<ModelClientOptions, 'onNotice' | 'traits'> = {}): ModelPort {
  return endpointsClientFor(endpoint, config, extra);
}

class PipelineRun {
  private readonly sampler: Sampler;
  private readonly votes: CascadeVotes;
  private readonly controller = new AbortController();
  private seedsDone = 0;
  private accepted = 0;
  private candidates = 0;
  private readonly startedAt = Date.now();
  private doneThisSession = 0;
  /** Seeds this session took up (not finished before), and those of them that ended in an error. */
  private attempted = 0;
  private failed = 0;
  private lastFailure: ModelCallError | undefined;
  /** Seeds left waiting for answers given later (see SampleDeferred). */
  deferred = 0;
  private progressTimer: NodeJS.Timeout | undefined;
  private readonly audit: RunAudit;
  private readonly checkpoints: UsageCheckpoints;

  constructor(
    private readonly store: RunStore,
    cache: ResponseCache,
    private readonly client: RunClient,
    private readonly prompts: PromptSet,
    private readonly config: RunConfig,
    model: string,
    private readonly seedsTotal: number,
    private readonly subset: SeedSubset | undefined,
    private readonly options: RunOptions,
    private readonly dropped: ReadonlySet<string>,
    private readonly spending: { spend?: RunSpend; budget?: RunBudget } = {},
  ) {
    this.sampler = new Sampler(client, cache, model, config.maxResponseBytes, spending.budget);
    this.votes = new CascadeVotes(store, this.sampler, prompts, config, this.controller.signal);
    this.audit = new RunAudit(store, config, options.checker, options.onNotice);
    this.checkpoints = new UsageCheckpoints(store, () => this.usage(), this.startedAt);
    // Every request in flight listens on this signal; thousands at once are expected, not a leak.
    setMaxListeners(0, this.controller.signal);
  }

  usage(): Record<Purpose, UsageCounts> {
    const usage = this.client.usage();
    const cached = this.sampler.cachedSamples();
    return Object.fromEntries(
      PURPOSES.map((purpose) => [purpose, { ...usage[purpose], cachedSamples: cached[purpose] }]),
    ) as Record<Purpose, UsageCounts>;
  }

  /**
   * When every seed this session took up ended in an error, the model answered nothing usable: the run failed, with
   * the engine's code for the embedded engine and the server's otherwise. Their records stay for a later run.
   */
  everySeedFailed(endpoint: Endpoint): SvdError | undefined {
    if (this.attempted === 0 || this.failed < this.attempted || !this.lastFailure) return undefined;
    const seeds = this.attempted === 1 ? 'the only seed' : `all ${this.attempted} seeds`;
    const code = endpoint.engine === 'embedded' ? 'engine' : 'unreachable';
    const statement = `${seeds} ended in an error, the last: ${this.lastFailure.message}. Their finished steps are kept:`;
    const advice = { cli: 'run the same command again to retry them.', editor: 'resume the run to retry them (SVD: Resume Run).' };
    return advisedError(code, statement, advice, { cause: this.lastFailure });
  }

  result(runId: string, dir: string, state: RunResult['state'], resumed: boolean, skippedRows: number): RunResult {
    const { seedsTotal, seedsDone, accepted } = this;
    return { runId, dir, state, seedsTotal, seedsDone, accepted, resumed, usage: this.usage(), skippedRows, alreadyFinished: false };
  }

  async processAll(seedOptions: SeedReadOptions): Promise<void> {
    const external = this.options.signal;
    const onAbort = () => {
      this.controller.abort();
      this.audit.cancel();
    };
    if (external?.aborted) throw new SvdError('aborted', 'the run was stopped before it started');
    external?.addEventListener('abort', onAbort, { once: true });
    this.progressTimer = setInterval(() => this.reportProgress(), 500);
    this.progressTimer.unref();
    this.checkpoints.start();
    try {
      const seeds = readSeeds(seedOptions);
      const limit = this.subset?.limit ?? Number.POSITIVE_INFINITY;
      let taken = 0;
      // Enough seeds in flight to keep every request slot busy: a seed waits on one request most of the time.
      const workers = Math.max(2, Math.ceil(this.config.concurrency * 1.5));
      let fatal: unknown;
      const work = async () => {
        for (;;) {
          if (this.controller.signal.aborted || this.spending.budget?.ledger.reached) return;
          const next = await seeds.next();
          if (next.done) return;
          if (next.value.kind !== 'seed' || !inSubset(next.value.seed, this.subset) || this.dropped.has(next.value.seed.id)) continue;
          if (taken >= limit) return;
          taken++;
          try {
            await this.processSeed(next.value.seed);
          } catch (error) {
            if (error instanceof BudgetReached) return; // the seed stays pending; requests in flight finish (budget.ts)
            if (fatal === undefined) fatal = error;
            this.controller.abort();
            return;
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: workers }, work));
      } finally {
        await seeds.return(undefined);
      }
      const budgetReached = await this.spending.budget?.closed();
      if (fatal === undefined && !this.controller.signal.aborted) await this.audit.settle();
      if (fatal !== undefined) throw fatal;
      if (external?.aborted) throw new SvdError('aborted', 'the run was stopped; run it again to resume');
      if (budgetReached) throw budgetReached;
    } finally {
      // Stopped or failed: checks still running are cancelled and asked again when the run resumes.
      this.audit.cancel();
      await this.audit.settle();
      external?.removeEventListener('abort', onAbort);
      clearInterval(this.progressTimer);
      this.checkpoints.stop();
      this.reportProgress();
    }
  }

  private reportProgress(): void {
    if (!this.options.onProgress) return;
    const elapsedMs = Date.now() - this.startedAt;
    const requests = PURPOSES.reduce((sum, purpose) => sum + this.client.usage()[purpose].requests, 0);
    const remaining = this.seedsTotal - this.seedsDone;
    const pace = this.doneThisSession > 0 ? elapsedMs / this.doneThisSession : undefined;
    this.options.onProgress({
      seedsTotal: this.seedsTotal,
      seedsDone: this.seedsDone,
      accepted: this.accepted,
      candidates: this.candidates,
      requests,
      requestsPerSecond: elapsedMs > 0 ? (requests * 1000) / elapsedMs : 0,
      elapsedMs,
      etaMs: pace === undefined ? undefined : Math.max(0, remaining * pace),
      costUsd: this.spending.spend?.spentUsd(),
      ...(this.client.endpoints ? { endpoints: this.client.endpoints() } : {}),
    });
  }

  private async processSeed(seed: Seed): Promise<void> {
    const outcomeId = eventIds.outcome(seed.id);
    const done = this.store.get(outcomeId);
    if (done?.type === 'outcome') {
      this.seedsDone++;
      this.accepted += done.acceptedCandidateIds.length;
      this.audit.recorded(seed);
      return;
    }
    this.attempted++;
    try {
      const seedEvent = this.recordSeed(seed);
      const candidates = await this.generate(seedEvent);
      // Not awaited: the cascade's requests go out while the answers are checked.
      this.audit.start(seed, candidates);
      const valid = candidates.filter((candidate) => candidate.valid);
      let acceptedIds: string[] = [];
      if (this.config.selection === 'first_valid') {
        // Verified in generation order; the first that passes is the seed's answer and the rest are not verified.
        for (const candidate of valid) {
          if (await this.verify(seedEvent, candidate)) {
            acceptedIds = [candidate.candidateId];
            break;
          }
        }
      } else {
        const passed = await Promise.all(valid.map((candidate) => this.verify(seedEvent, candidate)));
        acceptedIds = valid.filter((_, i) => passed[i]).map((candidate) => candidate.candidateId);
      }
      const status = valid.length === 0 ? 'no_valid' : acceptedIds.length > 0 ? 'accepted' : 'rejected';
      this.store.append({ id: outcomeId, type: 'outcome', seedId: seed.id, status, acceptedCandidateIds: acceptedIds });
      this.seedsDone++;
      this.doneThisSession++;
      this.accepted += acceptedIds.length;
    } catch (error) {
      if (error instanceof SampleDeferred) {
        this.deferred++;
        return;
      }
      if (error instanceof ModelCallError && !error.fatal) {
        this.failed++;
        this.lastFailure = error;
        // The seed stays pending: its finished steps are kept and a later run picks it up where it stopped.
        this.store.append({
          id: `error:${seed.id}:${Date.now()}:${Math.random().toString(36).slice(2, 8)}`,
          type: 'error',
          seedId: seed.id,
          kind: error.kind,
          message: error.message,
          status: error.status,
        });
        return;
      }
      throw error;
    }
  }

  private recordSeed(seed: Seed): SeedEvent {
    const id = eventIds.seed(seed.id);
    const existing = this.store.get(id);
    if (existing?.type === 'seed') return existing;
    const event = this.store.append({
      id,
      type: 'seed',
      seedId: seed.id,
      line: seed.line,
      domain: seed.domain,
      question: seed.question,
      prompt: this.prompts.render(seed.domain, 'generate', { question: seed.question }),
      gold: seed.gold,
    });
    if (event?.type !== 'seed') throw new SvdError('internal', `could not record seed ${seed.id}`);
    return event;
  }

  private async generate(seed: SeedEvent): Promise<CandidateEvent[]> {
    const { generation } = this.config;
    const request = { purpose: 'generate' as const, messages: seed.prompt, ...generation };
    const ids = Array.from({ length: this.config.candidates }, (_, index) => eventIds.candidate(candidateIdOf(seed.seedId, index)));
    const results = await this.sampler.samples(request, ids, this.store, this.controller.signal);
    return results.map((result, index) => {
      if (result.existing) return result.existing as CandidateEvent;
      const filter = staticFilter(seed.domain, result.sample);
      const event = this.store.append({
        id: ids[index]!,
        type: 'candidate',
        seedId: seed.seedId,
        candidateId: candidateIdOf(seed.seedId, index),
        index,
        ...sampleFields(result),
        valid: filter.valid,
        invalidReason: filter.valid ? undefined : filter.reason,
        finalAnswer: filter.valid ? filter.finalAnswer : undefined,
      });
      this.candidates++;
      return event as CandidateEvent;
    });
  }

  /** The cascade with early exit: true only when every vote of every stage said yes. */
  private async verify(seed: SeedEvent, candidate: CandidateEvent): Promise<boolean> {
    for (const stage of STAGES) {
      const stageId = eventIds.stage(candidate.candidateId, stage);
      const recorded = this.store.get(stageId);
      let passed: boolean;
      if (recorded?.type === 'stage') {
        passed = recorded.passed;
      } else {
        const votes = stage === 'cycle' ? await this.votes.cycleVotes(seed, candidate) : await this.votes.judgeVotes(seed, candidate, stage);
        const yes = votes.filter((vote) => vote.verdict === 'yes').length;
        passed = yes === votes.length;
        this.store.append({ id: stageId, type: 'stage', candidateId: candidate.candidateId, stage, passed, yes, votes: votes.length });
      }
      if (!passed) return false;
    }
    return true;
  }
}

