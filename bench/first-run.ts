// How long the README's first run takes on this machine: tokens/s of a model shaped like the default one
// (Qwen3-0.6B, Q8_0, random weights: its text is gibberish, its speed is the real model's) through the embedded
// engine, then the longest the example's job can take at that pace, from the lengths its max tokens allow.
// Run: node --import tsx bench/first-run.ts [--threads N] [--gpu auto|off|...] [--model FILE] [--config FILE]
//      [--assume PROMPT_TOK_S,GENERATE_TOK_S]   (no measurement: the job's bound at speeds measured elsewhere)
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { parseRunConfig, type RunConfig } from '../src/core/base/config';
import { PromptSet } from '../src/core/method/prompts';
import { readSeeds } from '../src/core/method/seeds';
import type { Seed } from '../src/core/base/types';
import { startEngine, type EmbeddedEngine } from '../src/engine/host';
import { describeBackend, GpuChoiceSchema } from '../src/engine/protocol';
import { QWEN3_0_6B_SHAPE, writeShapedGguf } from '../test/fixtures/tiny-gguf';

const ROOT = resolve(__dirname, '..');
const { values } = parseArgs({
  options: {
    threads: { type: 'string' },
    gpu: { type: 'string' },
    model: { type: 'string' },
    config: { type: 'string' },
    seeds: { type: 'string' },
    assume: { type: 'string' },
  },
});
const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
const gpu = GpuChoiceSchema.parse(values.gpu ?? 'off');
const configFile = resolve(values.config ?? join(ROOT, 'examples/first-run.json'));
const seedsFile = resolve(values.seeds ?? join(ROOT, 'examples/seeds.jsonl'));

/** Generated tokens per measurement; long enough that the prompt's share is small. */
const GENERATE_TOKENS = 128;
/** The method's prompts are English prose and code: about four characters a token for Qwen's tokenizer. */
const CHARS_PER_TOKEN = 4;
/** A prompt of some hundred tokens (the random model's test vocabulary takes about a token a character). */
const LONG_PROMPT = Array.from({ length: 12 }, (_, i) => `Step ${i}: check that the value ${i * 7} is used correctly.`).join(' ');

const fixed = (value: number, digits = 1): string => value.toFixed(digits);

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - start) / 1000 };
}

function start(modelPath: string, parallel: number): Promise<EmbeddedEngine> {
  return startEngine({
    modelPath,
    threads,
    parallel,
    contextSize: 4096,
    gpu,
    entry: resolve(ROOT, 'src', 'engine', 'server.ts'),
    execArgv: ['--import', 'tsx'],
    startTimeoutMs: 300_000,
  });
}

interface Rates {
  backend: string;
  promptTokS: number;
  generateTokS: number;
  /** Generated tokens/s over all sequences at `parallel` = 2. */
  parallel2TokS: number;
}

async function measure(modelPath: string): Promise<Rates> {
  const engine = await start(modelPath, 1);
  let promptTokS: number;
  let generateTokS: number;
  const backend = describeBackend(engine.backend);
  try {
    const client = new OpenAI({ baseURL: engine.baseURL, apiKey: engine.apiKey, maxRetries: 0, timeout: 600_000 });
    const ask = (content: string, maxTokens: number) =>
      client.chat.completions.create({ model: engine.model, messages: [{ role: 'user', content }], max_tokens: maxTokens, temperature: 0.8 });
    await ask('warm up', 4);
    // Prompt processing: a judge-sized prompt and one token; two different prompts, so no cached prefix helps.
    let promptTokens = 0;
    let promptSeconds = 0;
    for (const variant of ['A', 'B']) {
      const { value, seconds } = await timed(() => ask(`${variant}: ${LONG_PROMPT}`, 1));
      promptTokens += value.usage?.prompt_tokens ?? 0;
      promptSeconds += seconds;
    }
    promptTokS = promptTokens / promptSeconds;
    console.log(`prompt: ${promptTokens} tokens in ${fixed(promptSeconds, 2)} s`);
    // Generation: short prompts, GENERATE_TOKENS each; the prompt's time is taken out at the measured rate.
    let generated = 0;
    let generateSeconds = 0;
    for (const prompt of ['Explain why the sky is blue.', 'Write a short poem about the sea.']) {
      const { value, seconds } = await timed(() => ask(prompt, GENERATE_TOKENS));
      generated += value.usage?.completion_tokens ?? 0;
      generateSeconds += seconds - (value.usage?.prompt_tokens ?? 0) / promptTokS;
    }
    generateTokS = generated / generateSeconds;
    console.log(`generate (1 sequence): ${generated} tokens in ${fixed(generateSeconds, 2)} s`);
  } finally {
    await engine.stop();
  }

  const pair = await start(modelPath, 2);
  let parallel2TokS: number;
  try {
    const client = new OpenAI({ baseURL: pair.baseURL, apiKey: pair.apiKey, maxRetries: 0, timeout: 600_000 });
    const ask = (content: string) =>
      client.chat.completions.create({ model: pair.model, messages: [{ role: 'user', content }], max_tokens: GENERATE_TOKENS, temperature: 0.8 });
    await ask('warm up');
    const { value, seconds } = await timed(() => Promise.all([ask('Explain why the sky is blue.'), ask('Write a short poem about the sea.')]));
    const tokens = value.reduce((sum, r) => sum + (r.usage?.completion_tokens ?? 0), 0);
    const prompts = value.reduce((sum, r) => sum + (r.usage?.prompt_tokens ?? 0), 0);
    parallel2TokS = tokens / (seconds - prompts / promptTokS);
    console.log(`generate (2 sequences at once): ${tokens} tokens in ${fixed(seconds, 2)} s`);
  } finally {
    await pair.stop();
  }
  return { backend, promptTokS, generateTokS, parallel2TokS };
}

/**
 * The most a run can ask of the model: every candidate valid and judged through all three stages (first_valid stops
 * at an accepted one; this counts none accepted), every response as long as max tokens allow, and each judge's
 * prompt carrying an answer of the candidate's full length. Prompts counted in characters / CHARS_PER_TOKEN.
 */
async function worstCase(config: RunConfig, seeds: Seed[]): Promise<{ promptTokens: number; generatedTokens: number; calls: number }> {
  const prompts = await PromptSet.load({ overrideDir: config.promptsDir });
  const tokens = (messages: { content: string }[]) => Math.ceil(messages.reduce((sum, m) => sum + m.content.length, 0) / CHARS_PER_TOKEN);
  const n = config.candidates;
  const v = config.votes;
  const answer = 'x'.repeat(config.generation.maxTokens * CHARS_PER_TOKEN);
  let promptTokens = 0;
  let generatedTokens = 0;
  let calls = 0;
  for (const seed of seeds) {
    const question = seed.question;
    promptTokens += n * tokens(prompts.render(seed.domain, 'generate', { question }));
    generatedTokens += n * config.generation.maxTokens;
    // Per candidate, v votes of each step: the cycle's inference and comparison, factuality, correctness.
    const judged =
      tokens(prompts.render(seed.domain, 'cycle_infer', { answer })) +
      tokens(prompts.render(seed.domain, 'cycle_compare', { question, inferred_question: question })) +
      tokens(prompts.render(seed.domain, 'factuality', { question, answer })) +
      tokens(prompts.render(seed.domain, 'correctness', { question, answer }));
    promptTokens += n * v * judged;
    generatedTokens += n * v * 4 * config.judge.maxTokens;
    calls += n + n * v * 4;
  }
  return { promptTokens, generatedTokens, calls };
}

/** `--assume 188,22`: speeds measured elsewhere (another machine, a GPU), taken as they are. */
function assumed(text: string): Rates {
  const [prompt, generate] = text.split(',').map(Number);
  if (!(prompt! > 0 && generate! > 0)) throw new Error(`--assume: expected PROMPT_TOK_S,GENERATE_TOK_S, got "${text}"`);
  return { backend: 'assumed speeds', promptTokS: prompt!, generateTokS: generate!, parallel2TokS: generate! };
}

async function measured(dir: string): Promise<Rates> {
  const modelPath = values.model ?? join(dir, 'qwen3-0.6b-shaped-q8_0.gguf');
  if (!existsSync(modelPath)) {
    const { seconds } = await timed(async () => writeShapedGguf(modelPath, QWEN3_0_6B_SHAPE, { weights: 'q8_0' }));
    console.log(`wrote a Qwen3-0.6B-shaped Q8_0 GGUF (random weights) in ${fixed(seconds)} s`);
  }
  console.log(`machine: ${availableParallelism()} cores, load average ${fixed(loadavg()[0] ?? 0, 2)}; threads=${threads}; gpu=${gpu}`);
  const rates = await measure(modelPath);
  console.log(
    `qwen3-0.6b-shaped q8_0 on ${rates.backend}: prompt_tok_s=${fixed(rates.promptTokS)} generate_tok_s=${fixed(rates.generateTokS)} ` +
      `generate_tok_s_parallel2=${fixed(rates.parallel2TokS)}; load average after ${fixed(loadavg()[0] ?? 0, 2)}`,
  );
  return rates;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'svd-first-run-'));
  try {
    const rates = values.assume === undefined ? await measured(dir) : assumed(values.assume);

    const config = parseRunConfig(JSON.parse(readFileSync(configFile, 'utf8')), configFile);
    const seeds: Seed[] = [];
    for await (const record of readSeeds({ file: seedsFile })) if (record.kind === 'seed') seeds.push(record.seed);
    const worst = await worstCase(config, seeds);
    const minutes = (generateRate: number) => (worst.promptTokens / rates.promptTokS + worst.generatedTokens / generateRate) / 60;
    console.log(
      `job: ${seeds.length} seeds, n=${config.candidates} v=${config.votes}, max tokens ${config.generation.maxTokens} / ` +
        `judge ${config.judge.maxTokens}: at most ${worst.calls} calls, ${worst.promptTokens} prompt and ` +
        `${worst.generatedTokens} generated tokens`,
    );
    console.log(
      `first_run_worst_minutes=${fixed(minutes(rates.generateTokS))} (parallel 1) ` +
        `first_run_worst_minutes_parallel2=${fixed(minutes(rates.parallel2TokS))}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
