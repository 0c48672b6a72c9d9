// What the HTTP hop costs: generated tokens/s through the embedded engine (openai client -> child process ->
// llama.cpp) against node-llama-cpp called in this process on the same GGUF, then requests/s at 1, 2 and 4
// parallel sequences. Run: node --import tsx bench/embedded.ts [--threads N] [--rounds N]
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { startEngine, type EmbeddedEngine } from '../src/engine/host';
import { writeTinyGguf } from '../test/fixtures/tiny-gguf';

const { values } = parseArgs({
  options: { threads: { type: 'string' }, rounds: { type: 'string' } },
});
const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
const rounds = values.rounds === undefined ? 2 : Number(values.rounds);
if (!Number.isInteger(threads) || threads < 1 || !Number.isInteger(rounds) || rounds < 1) {
  throw new Error('--threads and --rounds take positive integers');
}

const TOKENS_PER_PROMPT = 200;
const CONTEXT_SIZE = 1024;
const SEED = 42;
const PROMPTS = [
  'Explain why the sky is blue.',
  'Write a short poem about the sea.',
  'List three prime numbers and say why they are prime.',
  'Describe a cat to someone who has never seen one.',
];
const BATCH_REQUESTS = 24;
const BATCH_MAX_TOKENS = 16;

const dir = mkdtempSync(join(tmpdir(), 'svd-bench-'));
const modelPath = join(dir, 'tiny.gguf');
writeTinyGguf(modelPath, { seed: 1 });

interface Tally {
  tokens: number;
  seconds: number;
}

async function inProcess(): Promise<Tally> {
  const { getLlama, LlamaChat, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: CONTEXT_SIZE, sequences: 1, threads });
  const chat = new LlamaChat({ contextSequence: context.getSequence() });
  // Tokens counted as the engine counts them: those returned.
  let tokens = 0;
  const generate = (prompt: string) =>
    chat.generateResponse(
      [
        { type: 'user', text: prompt },
        { type: 'model', response: [] },
      ],
      {
        maxTokens: TOKENS_PER_PROMPT,
        temperature: 0,
        seed: SEED,
        onResponseChunk: (chunk) => {
          tokens += chunk.tokens.length;
        },
      },
    );
  try {
    await generate('warm up');
    tokens = 0;
    const start = performance.now();
    for (const prompt of PROMPTS) await generate(prompt);
    return { tokens, seconds: (performance.now() - start) / 1000 };
  } finally {
    await llama.dispose();
  }
}

function start(parallel: number): Promise<EmbeddedEngine> {
  return startEngine({
    modelPath,
    threads,
    parallel,
    contextSize: CONTEXT_SIZE,
    entry: resolve(__dirname, '..', 'src', 'engine', 'server.ts'),
    execArgv: ['--import', 'tsx'],
  });
}

function clientFor(engine: EmbeddedEngine): OpenAI {
  return new OpenAI({ baseURL: engine.baseURL, apiKey: engine.apiKey, maxRetries: 0 });
}

async function overHttp(): Promise<Tally> {
  const engine = await start(1);
  try {
    const client = clientFor(engine);
    const generate = (prompt: string) =>
      client.chat.completions.create({
        model: engine.model,
        messages: [{ role: 'user', content: prompt }],
        max_tokens: TOKENS_PER_PROMPT,
        temperature: 0,
        seed: SEED,
      });
    await generate('warm up');
    let tokens = 0;
    const begin = performance.now();
    for (const prompt of PROMPTS) tokens += (await generate(prompt)).usage?.completion_tokens ?? 0;
    return { tokens, seconds: (performance.now() - begin) / 1000 };
  } finally {
    await engine.stop();
  }
}

async function requestsPerSecond(parallel: number): Promise<number> {
  const engine = await start(parallel);
  try {
    const client = clientFor(engine);
    const ask = (i: number) =>
      client.chat.completions.create({
        model: engine.model,
        messages: [{ role: 'user', content: `Say something about the number ${i}.` }],
        max_tokens: BATCH_MAX_TOKENS,
        temperature: 0.7,
        seed: i,
      });
    await ask(-1);
    const begin = performance.now();
    // All at once: the engine's pool runs `parallel` of them and queues the rest.
    await Promise.all(Array.from({ length: BATCH_REQUESTS }, (_, i) => ask(i)));
    return BATCH_REQUESTS / ((performance.now() - begin) / 1000);
  } finally {
    await engine.stop();
  }
}

const fixed = (value: number, digits = 1): string => value.toFixed(digits);

async function main(): Promise<void> {
  console.log(
    `model: tiny random GGUF (llama, 64 embd, 2 layers, 450 tokens); threads=${threads}; ` +
      `${PROMPTS.length} prompts x ${TOKENS_PER_PROMPT} tokens, temperature 0, seed ${SEED}; ` +
      `rounds=${rounds}; load average ${fixed(loadavg()[0] ?? 0, 2)} on ${availableParallelism()} cores`,
  );
  // Alternating rounds spread background load evenly over both sides.
  const local: Tally = { tokens: 0, seconds: 0 };
  const http: Tally = { tokens: 0, seconds: 0 };
  for (let round = 0; round < rounds; round++) {
    const a = await inProcess();
    const b = await overHttp();
    local.tokens += a.tokens;
    local.seconds += a.seconds;
    http.tokens += b.tokens;
    http.seconds += b.seconds;
    console.log(
      `round ${round + 1}: inprocess ${a.tokens} tokens in ${fixed(a.seconds, 2)} s, ` +
        `http ${b.tokens} tokens in ${fixed(b.seconds, 2)} s`,
    );
  }
  const inprocessTokS = local.tokens / local.seconds;
  const httpTokS = http.tokens / http.seconds;

  const rates: string[] = [];
  for (const parallel of [1, 2, 4]) {
    rates.push(`parallel=${parallel} ${fixed(await requestsPerSecond(parallel))}`);
  }
  console.log(`requests/s (${BATCH_REQUESTS} chat requests, max_tokens ${BATCH_MAX_TOKENS}): ${rates.join('  ')}`);
  const ratio = httpTokS / inprocessTokS;
  console.log(
    `embedded: http_tok_s=${fixed(httpTokS)} inprocess_tok_s=${fixed(inprocessTokS)} ratio=${fixed(ratio, 3)}`,
  );
}

main()
  .finally(() => rmSync(dir, { recursive: true, force: true }))
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
