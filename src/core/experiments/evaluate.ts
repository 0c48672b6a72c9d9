// Evaluation on a labeled seed file: pass@1 of one or more models (before and after training), and optionally the
// test-time baseline (UQ-TTC): n candidates and the method's own cascade at inference, answering with the first
// candidate that passes. The baseline is an ordinary pipeline run on the labeled seeds, kept beside the evaluations
// (never among the runs that become training data), so it reuses the cascade, the cache and resume as they are.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { staticFilter } from '../method/answer';
import { ResponseCache, defaultCacheDir } from '../record/cache';
import type { AnswerChecker } from '../base/checker';
import { parseRunConfig, type RunConfig } from '../base/config';
import { SvdError } from '../base/errors';
import { ModelCallError } from '../method/model';
import type { ModelPort } from '../method/endpoints';
import { modelClientFor, runPipeline, type Endpoint } from '../method/pipeline';
import { ServerTraits } from '../method/serverTraits';
import { PromptSet } from '../method/prompts';
import { readJsonFile } from '../record/jsonFile';
import { foldRun, type CandidateView, type RunView } from '../record/runview';
import { Sampler } from '../method/sampler';
import { readSeeds, scanSeeds, type SeedReadOptions } from '../method/seeds';
import { withoutCredentials } from '../base/redact';
import { writeFileAtomic } from '../record/atomicFile';
import { RunStore } from '../record/store';
import { DOMAINS, PURPOSES, type Domain, type Seed, type SeedProblem } from '../base/types';

const count = z.number().int().nonnegative();
const share = z.number().min(0).max(1).nullable();

/** pass@1 over a set of questions: the mean, over questions, of the share of their samples that are right. */
export const PassSchema = z.object({
  questions: count,
  samples: count,
  correct: count,
  /** null when there is no question. */
  passAt1: share,
});
export type Pass = z.infer<typeof PassSchema>;

export const PassByDomainSchema = z.object({
  overall: PassSchema,
  /** Only the domains the evaluated questions have. */
  perDomain: z.object({ math: PassSchema.optional(), science: PassSchema.optional(), coding: PassSchema.optional() }),
});
export type PassByDomain = z.infer<typeof PassByDomainSchema>;

const SAMPLE_OUTCOMES = ['pass', 'fail', 'error', 'timeout', 'invalid'] as const;

export const EvalQuestionSchema = z.object({
  seedId: z.string(),
  domain: z.enum(DOMAINS),
  /** Per sample: the checker's outcome, or `invalid` when the static filter found no final answer. */
  outcomes: z.array(z.enum(SAMPLE_OUTCOMES)),
  correct: count,
  /** Why the question is left out of pass@1: its samples could not be drawn, or the gold cannot check this domain. */
  skipped: z.enum(['error', 'unchecked']).optional(),
  ttc: z
    .object({
      /** The answer given: the first candidate that passed, else the first valid one; none when no candidate was valid. */
      candidateId: z.string().optional(),
      verified: z.boolean(),
      correct: z.boolean(),
      skipped: z.enum(['error', 'unchecked']).optional(),
    })
    .optional(),
});
export type EvalQuestion = z.infer<typeof EvalQuestionSchema>;

export const TtcResultSchema = z.object({
  candidates: z.number().int().positive(),
  votes: z.number().int().positive(),
  runId: z.string(),
  runDir: z.string(),
  passAt1: PassByDomainSchema,
  /** Questions answered by a candidate that passed the cascade. */
  verified: count,
  /** Questions answered by the fallback (no candidate passed): the first valid candidate, or none. */
  unverified: count,
  unverifiedShare: share,
  /** Unverified questions without any valid candidate: answered with nothing, counted wrong. */
  noAnswer: count,
  /** Requests sent to the model over the baseline's run (cache misses only). */
  requests: count,
  requestsPerQuestion: z.number().nonnegative(),
  /** Model samples the baseline used per question, drawn or cached: its cost at inference (about n + 4vn). */
  samplesPerQuestion: z.number().nonnegative(),
});
export type TtcResult = z.infer<typeof TtcResultSchema>;

export const EvalModelResultSchema = z.object({
  model: z.string(),
  baseURL: z.string().optional(),
  passAt1: PassByDomainSchema,
  /** Requests sent to the model for the pass@1 samples (the response cache serves repeated evaluations). */
  requests: count,
  cachedSamples: count,
  promptTokens: count,
  completionTokens: count,
  /** Questions left out because their samples could not be drawn after retries. */
  errors: count,
  /** Questions left out because the checker has nothing to check them against in their domain. */
  unchecked: count,
  ttc: TtcResultSchema.optional(),
  questions: z.array(EvalQuestionSchema),
});
export type EvalModelResult = z.infer<typeof EvalModelResultSchema>;

/** `result.json` of an evaluation. */
export const EvalResultSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  dir: z.string(),
  createdAt: z.string(),
  seedFile: z.object({ path: z.string(), fingerprint: z.string() }),
  /** K: samples per question for pass@1. */
  samples: z.number().int().positive(),
  limit: z.number().int().positive().optional(),
  /** Labeled questions evaluated. */
  questions: count,
  /** Rows without gold, skipped. */
  skippedNoGold: count,
  models: z.array(EvalModelResultSchema).min(1),
});
export type EvalResult = z.infer<typeof EvalResultSchema>;

export const EVAL_RESULT = 'result.json';

export interface EvalProgress {
  model: string;
  phase: 'sample' | 'ttc';
  done: number;
  total: number;
}

export interface EvalOptions {
  seedsFile: string;
  seedOptions?: Omit<SeedReadOptions, 'file'>;
  /** The runs folder: evaluations are kept beside it, in `<runsDir>/../evals`, and share its response cache. */
  runsDir: string;
  cacheDir?: string;
  evalsDir?: string;
  /** Default: a timestamp. */
  evalId?: string;
  /** One or more models, evaluated one after the other on the same questions. */
  models: readonly Endpoint[];
  /** K, samples per question (default 1). */
  samples?: number;
  /** Only the first N labeled questions. */
  limit?: number;
  /** Also the test-time baseline with `config.candidates` and `config.votes`. */
  ttc?: boolean;
  /** Generation sampling, concurrency, timeouts, and the baseline's n and v. */
  config: RunConfig;
  checker: AnswerChecker;
  signal?: AbortSignal;
  probe?: boolean;
  onProblem?: (problem: SeedProblem) => void;
  onNotice?: (message: string) => void;
  onProgress?: (progress: EvalProgress) => void;
}

export function defaultEvalsDir(runsDir: string): string {
  return path.join(path.dirname(path.resolve(runsDir)), 'evals');
}

export async function runEvaluation(options: EvalOptions): Promise<EvalResult> {
  const samples = options.samples ?? 1;
  if (!Number.isInteger(samples) || samples < 1 || samples > 1024) {
    throw new SvdError('bad_config', `--samples: expected a whole number from 1 to 1024, got ${samples}`);
  }
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit >= 1)) {
    throw new SvdError('bad_config', `--limit: expected a whole number from 1, got ${options.limit}`);
  }
  if (options.models.length === 0) throw new SvdError('bad_config', '--model: give at least one model to evaluate');
  const prompts = await PromptSet.load({ overrideDir: options.config.promptsDir });
  const seedOptions: SeedReadOptions = { ...options.seedOptions, file: options.seedsFile };
  const scan = await scanSeeds(seedOptions);
  for (const problem of scan.problems) options.onProblem?.(problem);
  const questions: Seed[] = [];
  let skippedNoGold = 0;
  for await (const record of readSeeds(seedOptions)) {
    if (record.kind !== 'seed') continue;
    if (record.seed.gold === undefined) skippedNoGold++;
    else if (options.limit === undefined || questions.length < options.limit) questions.push(record.seed);
  }
  if (questions.length === 0) {
    throw new SvdError('bad_seed_file', `${options.seedsFile}: no row carries gold (an answer or tests), so there is nothing to evaluate against`);
  }

  const evalsDir = path.resolve(options.evalsDir ?? defaultEvalsDir(options.runsDir));
  const id = options.evalId ?? newEvalId(evalsDir);
  const dir = path.join(evalsDir, id);
  const cacheDir = options.cacheDir ?? defaultCacheDir(options.runsDir);
  const context: ModelContext = { options, prompts, questions, samples, cacheDir, evalsDir, traits: new ServerTraits() };
  const models: EvalModelResult[] = [];
  for (const endpoint of options.models) models.push(await evaluateModel(context, endpoint));

  const result: EvalResult = {
    version: 1,
    id,
    dir,
    createdAt: new Date().toISOString(),
    seedFile: { path: path.resolve(options.seedsFile), fingerprint: scan.fingerprint },
    samples,
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    questions: questions.length,
    skippedNoGold,
    models,
  };
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, EVAL_RESULT), `${JSON.stringify(EvalResultSchema.parse(result), null, 2)}\n`);
  return result;
}

/** Reads an evaluation's `result.json`, checked against the schema. */
export function readEvaluation(dir: string): EvalResult {
  return readJsonFile(path.join(dir, EVAL_RESULT), EvalResultSchema, 'evaluation result');
}

interface ModelContext {
  options: EvalOptions;
  prompts: PromptSet;
  questions: readonly Seed[];
  samples: number;
  cacheDir: string;
  evalsDir: string;
  /** What the servers refused, learnt once for the sampling and the baseline alike. */
  traits: ServerTraits;
}

async function evaluateModel(context: ModelContext, endpoint: Endpoint): Promise<EvalModelResult> {
  const { options } = context;
  const { config } = options;
  const client = modelClientFor(endpoint, config, { onNotice: options.onNotice, traits: context.traits });
  if (options.probe !== false) await client.probe(options.signal);
  const questions = await sampleQuestions(context, endpoint, client);
  const usage = client.usage().generate;
  const counted = questions.filter((q) => q.skipped === undefined);
  const result: EvalModelResult = {
    model: endpoint.model,
    ...(endpoint.engine === 'server' ? { baseURL: withoutCredentials(endpoint.baseURL) } : {}),
    passAt1: passByDomain(counted.map((q) => ({ domain: q.domain, samples: q.outcomes.length, correct: q.correct }))),
    requests: usage.requests,
    cachedSamples: questions.cached,
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    errors: questions.filter((q) => q.skipped === 'error').length,
    unchecked: questions.filter((q) => q.skipped === 'unchecked').length,
    questions: [...questions],
  };
  if (options.ttc) result.ttc = await testTimeBaseline(context, endpoint, result.questions);
  return result;
}

/** K samples of each question with the pipeline's generation prompt, each checked against the gold. */
async function sampleQuestions(
  context: ModelContext,
  endpoint: Endpoint,
  client: ModelPort,
): Promise<EvalQuestion[] & { cached: number }> {
  const { options, prompts, questions, samples } = context;
  // A failure that ends the evaluation stops the other questions' requests too.
  const controller = new AbortController();
  const signal = controller.signal;
  const external = options.signal;
  const onAbort = () => controller.abort();
  if (external?.aborted) controller.abort();
  external?.addEventListener('abort', onAbort, { once: true });
  const cache = ResponseCache.open(context.cacheDir);
  const sampler = new Sampler(client, cache, endpoint.model);
  const results: EvalQuestion[] = new Array(questions.length);
  let next = 0;
  let done = 0;
  let fatal: unknown;
  const work = async () => {
    while (next < questions.length) {
      if (signal.aborted) return;
      const index = next++;
      try {
        results[index] = await sampleQuestion(questions[index]!);
      } catch (error) {
        fatal ??= error;
        controller.abort();
        return;
      }
      done++;
      options.onProgress?.({ model: endpoint.model, phase: 'sample', done, total: questions.length });
    }
  };
  const sampleQuestion = async (seed: Seed): Promise<EvalQuestion> => {
    const base = { seedId: seed.id, domain: seed.domain };
    const messages = prompts.render(seed.domain, 'generate', { question: seed.question });
    const request = { purpose: 'generate' as const, messages, ...options.config.generation };
    const ids = Array.from({ length: samples }, (_, k) => `eval:${seed.id}:${k}`);
    let drawn;
    try {
      drawn = await sampler.samples(request, ids, undefined, signal);
    } catch (error) {
      if (error instanceof ModelCallError && !error.fatal) {
        options.onNotice?.(`${endpoint.model}: question ${seed.id} left out: ${error.message}`);
        return { ...base, outcomes: [], correct: 0, skipped: 'error' };
      }
      throw error;
    }
    const checks = await Promise.all(
      drawn.map(async ({ sample }): Promise<EvalQuestion['outcomes'][number] | undefined> => {
        // A sample without a final answer (cut off, thinking unclosed, nothing boxed) is wrong whatever it says.
        if (!staticFilter(seed.domain, sample).valid) return 'invalid';
        const check = await options.checker.check(seed.domain, sample.text, seed.gold!, { question: seed.question, signal });
        // Code not run (no sandbox here) says nothing of the sample: the question is left out as unchecked.
        return check?.outcome === 'unchecked' ? undefined : check?.outcome;
      }),
    );
    if (checks.some((outcome) => outcome === undefined)) return { ...base, outcomes: [], correct: 0, skipped: 'unchecked' };
    const outcomes = checks as EvalQuestion['outcomes'];
    return { ...base, outcomes, correct: outcomes.filter((outcome) => outcome === 'pass').length };
  };
  try {
    const workers = Math.max(2, Math.ceil(options.config.concurrency * 1.5));
    await Promise.all(Array.from({ length: Math.min(workers, questions.length) }, work));
  } finally {
    external?.removeEventListener('abort', onAbort);
    cache.close();
  }
  if (external?.aborted) throw new SvdError('aborted', 'the evaluation was stopped; run it again (samples already drawn come from the cache)');
  if (fatal !== undefined) throw fatal;
  return Object.assign(results, { cached: sampler.cachedSamples().generate });
}

/** UQ-TTC: the method's pipeline on the labeled questions, first-valid; its answer per question is read back. */
async function testTimeBaseline(context: ModelContext, endpoint: Endpoint, questions: EvalQuestion[]): Promise<TtcResult> {
  const { options } = context;
  const config = parseRunConfig({ ...options.config, selection: 'first_valid', audit: 'auto' }, 'test-time baseline');
  const run = await runPipeline({
    seedsFile: options.seedsFile,
    seedOptions: options.seedOptions,
    // Not the runs folder: the baseline's accepted answers are evaluation questions, never training data. One
    // folder per model, so that each model's baseline resumes its own run.
    runsDir: path.join(context.evalsDir, 'ttc', folderName(endpoint.model)),
    cacheDir: context.cacheDir,
    config,
    endpoint,
    signal: options.signal,
    checker: options.checker,
    subset: { labeledOnly: true, ...(options.limit !== undefined ? { limit: options.limit } : {}) },
    probe: false,
    onNotice: options.onNotice,
    traits: context.traits,
    onProgress: (p) => options.onProgress?.({ model: endpoint.model, phase: 'ttc', done: p.seedsDone, total: p.seedsTotal }),
  });
  if (run.state === 'stopped') throw new SvdError('aborted', 'the evaluation was stopped; run it again to resume the test-time baseline');
  const view = readView(run.dir);
  const bySeed = new Map(view.seeds.map((seed) => [seed.seed.seedId, seed]));
  let verified = 0;
  let unverified = 0;
  let noAnswer = 0;
  const counted: { domain: Domain; samples: number; correct: number }[] = [];
  for (const question of questions) {
    const seed = bySeed.get(question.seedId);
    if (!seed?.outcome) {
      question.ttc = { verified: false, correct: false, skipped: 'error' };
      continue;
    }
    const acceptedId = seed.outcome.acceptedCandidateIds[0];
    const answer: CandidateView | undefined =
      acceptedId !== undefined
        ? seed.candidates.find((c) => c.candidate.candidateId === acceptedId)
        : seed.candidates.find((c) => c.candidate.valid);
    const isVerified = acceptedId !== undefined;
    if (answer && !answer.truth) {
      question.ttc = { candidateId: answer.candidate.candidateId, verified: isVerified, correct: false, skipped: 'unchecked' };
      continue;
    }
    const correct = answer?.truth?.correct ?? false;
    question.ttc = { ...(answer ? { candidateId: answer.candidate.candidateId } : {}), verified: isVerified, correct };
    if (isVerified) verified++;
    else {
      unverified++;
      if (!answer) noAnswer++;
    }
    counted.push({ domain: question.domain, samples: 1, correct: correct ? 1 : 0 });
  }
  const requests = PURPOSES.reduce((sum, purpose) => sum + view.usage[purpose].requests, 0);
  const seeds = view.funnel.seeds;
  return {
    candidates: config.candidates,
    votes: config.votes,
    runId: run.runId,
    runDir: run.dir,
    passAt1: passByDomain(counted),
    verified,
    unverified,
    unverifiedShare: counted.length > 0 ? unverified / counted.length : null,
    noAnswer,
    requests,
    requestsPerQuestion: seeds > 0 ? requests / seeds : 0,
    samplesPerQuestion: seeds > 0 ? samplesOf(view) / seeds : 0,
  };
}

function passByDomain(questions: readonly { domain: Domain; samples: number; correct: number }[]): PassByDomain {
  const perDomain: PassByDomain['perDomain'] = {};
  for (const domain of DOMAINS) {
    const of = questions.filter((q) => q.domain === domain);
    if (of.length > 0) perDomain[domain] = pass(of);
  }
  return { overall: pass(questions), perDomain };
}

function pass(questions: readonly { samples: number; correct: number }[]): Pass {
  const withSamples = questions.filter((q) => q.samples > 0);
  const mean = withSamples.reduce((sum, q) => sum + q.correct / q.samples, 0);
  return {
    questions: withSamples.length,
    samples: withSamples.reduce((sum, q) => sum + q.samples, 0),
    correct: withSamples.reduce((sum, q) => sum + q.correct, 0),
    passAt1: withSamples.length > 0 ? mean / withSamples.length : null,
  };
}

function samplesOf(view: RunView): number {
  let samples = 0;
  for (const seed of view.seeds) {
    for (const candidate of seed.candidates) {
      samples++;
      for (const stage of Object.values(candidate.stages)) samples += stage.voteEvents.filter((vote) => vote.finishReason !== 'none').length;
    }
  }
  return samples;
}

function readView(dir: string): RunView {
  const store = RunStore.open(dir, { readOnly: true });
  try {
    return foldRun(store.events(), store.manifest.seedFile.rows);
  } finally {
    store.close();
  }
}

/** A model name as one folder name: `Qwen/Qwen3-4B` -> `Qwen-Qwen3-4B`. */
function folderName(model: string): string {
  return model.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[.-]+/, '') || 'model';
}

/** `eval-20250102-030405`, with a suffix when an evaluation of that second exists. */
function newEvalId(evalsDir: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  let id = `eval-${stamp}`;
  for (let i = 2; existsSync(path.join(evalsDir, id)); i++) id = `eval-${stamp}-${i}`;
  return id;
}
