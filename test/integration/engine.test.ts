// The embedded engine end to end: real llama.cpp inference on a tiny random-weight GGUF, in a child process,
// spoken to through the `openai` client the way core talks to any server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { z } from 'zod';
import { isSvdError } from '../../src/core/base/errors';
import { startEngine, type EmbeddedEngine, type EngineExit, type EngineOptions } from '../../src/engine/host';
import { HealthSchema, describeBackend, parseEngineSettings, type Health } from '../../src/engine/protocol';
import { writeCorruptGguf, writeTinyGguf } from '../fixtures/tiny-gguf';
import { pidAlive } from '../fixtures/processes';

const ROOT = resolve(__dirname, '../..');
const SERVER_ENTRY = join(ROOT, 'src', 'engine', 'server.ts');
const HOST_MODULE = join(ROOT, 'src', 'engine', 'host.ts');

const dir = mkdtempSync(join(tmpdir(), 'svd-engine-'));
const modelPath = join(dir, 'tiny.gguf');

/** Source entry under tsx. One thread: this 2-core machine is shared with other test runs, and an oversubscribed
 * llama.cpp thread pool slows down a hundredfold; the default thread count has its own test below. */
function engineOptions(overrides: Partial<EngineOptions> = {}): EngineOptions {
  return {
    modelPath,
    entry: SERVER_ENTRY,
    execArgv: ['--import', 'tsx'],
    threads: 1,
    startTimeoutMs: 30_000,
    ...overrides,
  };
}

async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function rawFetch(engine: EmbeddedEngine, path: string, token?: string): Promise<Response> {
  const origin = engine.baseURL.replace(/\/v1$/, '');
  return fetch(`${origin}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
}

async function healthOf(engine: EmbeddedEngine): Promise<Health> {
  const response = await rawFetch(engine, '/health', engine.apiKey);
  assert.equal(response.status, 200);
  return HealthSchema.parse(await response.json());
}

before(() => writeTinyGguf(modelPath, { seed: 1 }));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('engine settings', () => {
  test('threads default to the real core count, never the library default', () => {
    const settings = parseEngineSettings(['--model', 'm.gguf'], {});
    assert.equal(settings.threads, availableParallelism());
    assert.equal(settings.port, 0);
  });

  test('argv flags override the environment, and bad values are refused', () => {
    const settings = parseEngineSettings(['--model', 'a.gguf', '--parallel', '3'], {
      SVD_ENGINE_MODEL: 'b.gguf',
      SVD_ENGINE_PARALLEL: '2',
      SVD_ENGINE_THREADS: '5',
    });
    assert.equal(settings.modelPath, 'a.gguf');
    assert.equal(settings.parallel, 3);
    assert.equal(settings.threads, 5);
    assert.throws(() => parseEngineSettings(['--model', 'a.gguf', '--threads', '0'], {}));
    assert.throws(() => parseEngineSettings([], {}));
  });
});

describe('embedded engine over HTTP', () => {
  let engine: EmbeddedEngine;
  let client: OpenAI;
  const exits: EngineExit[] = [];

  before(async () => {
    engine = await startEngine(engineOptions({ parallel: 2, contextSize: 2048 }));
    engine.onExit((info) => exits.push(info));
    client = new OpenAI({ baseURL: engine.baseURL, apiKey: engine.apiKey, maxRetries: 0, timeout: 30_000 });
  });
  after(() => engine.stop());

  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
    { role: 'system', content: 'Answer briefly.' },
    { role: 'user', content: 'What is 2 + 2?' },
  ];

  test('lists the model under the file name', async () => {
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ['tiny'],
    );
    assert.equal(engine.model, 'tiny');
    assert.match(engine.baseURL, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    assert.equal(await engine.health(), true);
  });

  test('answers a chat completion with real usage counts, deterministically at temperature 0', async () => {
    const ask = () => client.chat.completions.create({ model: 'tiny', messages, temperature: 0, max_tokens: 16 });
    const first = await ask();
    assert.equal(first.choices.length, 1);
    const choice = first.choices[0];
    assert.ok(choice);
    assert.equal(choice.message.role, 'assistant');
    assert.ok((choice.message.content ?? '').length > 0);
    assert.ok(choice.finish_reason === 'stop' || choice.finish_reason === 'length');
    const usage = first.usage;
    assert.ok(usage);
    assert.ok(usage.prompt_tokens > 10, `prompt_tokens ${usage.prompt_tokens}`);
    assert.ok(usage.completion_tokens >= 1 && usage.completion_tokens <= 16);
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);

    const again = await ask();
    assert.equal(again.choices[0]?.message.content, choice.message.content);

    const longer = await client.chat.completions.create({
      model: 'tiny',
      messages: [...messages, { role: 'assistant', content: '4' }, { role: 'user', content: 'And 3 + 3?' }],
      temperature: 0,
      max_tokens: 1,
    });
    assert.ok((longer.usage?.prompt_tokens ?? 0) > usage.prompt_tokens, 'a longer chat counts more prompt tokens');
  });

  test('n=3 gives three choices, sampled separately', async () => {
    const response = await client.chat.completions.create({
      model: 'tiny',
      messages,
      temperature: 1,
      seed: 7,
      n: 3,
      max_tokens: 12,
    });
    assert.deepEqual(
      response.choices.map((c) => c.index),
      [0, 1, 2],
    );
    const texts = new Set(response.choices.map((c) => c.message.content));
    assert.ok(texts.size >= 2, `choices should differ: ${[...texts].join(' | ')}`);
    const counted = response.choices.length;
    assert.ok((response.usage?.completion_tokens ?? 0) >= counted);
  });

  test('max_tokens ends with finish_reason length; stop cuts the same text before the stop string', async () => {
    const full = await client.chat.completions.create({ model: 'tiny', messages, temperature: 0, max_tokens: 40 });
    const text = full.choices[0]?.message.content ?? '';
    assert.equal(full.choices[0]?.finish_reason, 'length');
    assert.equal(full.usage?.completion_tokens, 40);

    const stop = text.slice(12, 15);
    const cut = text.indexOf(stop);
    assert.ok(cut > 0, `stop string ${JSON.stringify(stop)} should occur after the start of ${JSON.stringify(text)}`);
    const stopped = await client.chat.completions.create({
      model: 'tiny',
      messages,
      temperature: 0,
      max_tokens: 40,
      stop: [stop],
    });
    assert.equal(stopped.choices[0]?.finish_reason, 'stop');
    assert.equal(stopped.choices[0]?.message.content, text.slice(0, cut));
  });

  test('json_schema output parses and validates', async () => {
    const Verdict = z
      .object({ verdict: z.enum(['yes', 'no']), confidence: z.enum(['low', 'medium', 'high']) })
      .strict();
    const response = await client.chat.completions.create({
      model: 'tiny',
      messages,
      temperature: 0.8,
      seed: 3,
      n: 2,
      max_tokens: 60,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'verdict',
          schema: {
            type: 'object',
            properties: {
              verdict: { type: 'string', enum: ['yes', 'no'] },
              confidence: { type: 'string', enum: ['low', 'medium', 'high'] },
            },
            required: ['verdict', 'confidence'],
            additionalProperties: false,
          },
        },
      },
    });
    assert.equal(response.choices.length, 2);
    let characters = 0;
    for (const choice of response.choices) {
      assert.equal(choice.finish_reason, 'stop');
      Verdict.parse(JSON.parse(choice.message.content ?? ''));
      characters += (choice.message.content ?? '').length;
    }
    // Every token of this vocabulary is one or two characters: usage counts the returned tokens, not decode steps.
    const tokens = response.usage?.completion_tokens ?? 0;
    assert.ok(tokens >= characters / 2 && tokens <= characters, `${tokens} tokens for ${characters} characters`);
  });

  test('output that breaks the schema beyond what the grammar enforces is refused, not passed on', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'tiny',
        messages,
        temperature: 0,
        max_tokens: 30,
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'score',
            schema: {
              type: 'object',
              properties: { score: { type: 'integer', minimum: 1000, maximum: 1000 } },
              required: ['score'],
            },
          },
        },
      }),
      (error: unknown) =>
        error instanceof OpenAI.APIError && error.status === 500 && error.code === 'invalid_structured_output',
    );
  });

  test('streams the same text as a plain request, with usage at the end', async () => {
    const plain = await client.chat.completions.create({ model: 'tiny', messages, temperature: 0, max_tokens: 20 });
    const stream = await client.chat.completions.create({
      model: 'tiny',
      messages,
      temperature: 0,
      max_tokens: 20,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let completionTokens = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
    }
    assert.equal(text, plain.choices[0]?.message.content);
    assert.equal(finish, 'length');
    assert.equal(completionTokens, 20);
  });

  test('rejects bad bodies and unknown models with OpenAI-shaped errors', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'tiny', messages: [] }),
      (error: unknown) => error instanceof OpenAI.BadRequestError,
    );
    await assert.rejects(
      client.chat.completions.create({ model: 'other', messages }),
      (error: unknown) => error instanceof OpenAI.NotFoundError,
    );
  });

  test('cancelled requests free their sequences, queued or running, and the server stays usable', async () => {
    const long = new AbortController();
    const longRequest = client.chat.completions.create(
      { model: 'tiny', messages, temperature: 0, max_tokens: 5000, n: 2 },
      { signal: long.signal },
    );
    await waitFor('both sequences busy', async () => (await healthOf(engine)).sequences.busy === 2);

    const queued = new AbortController();
    const queuedRequest = client.chat.completions.create(
      { model: 'tiny', messages, temperature: 0, max_tokens: 5 },
      { signal: queued.signal },
    );
    await waitFor('a queued request', async () => (await healthOf(engine)).sequences.queued === 1);
    queued.abort();
    await assert.rejects(queuedRequest, OpenAI.APIUserAbortError);
    await waitFor('the queue to empty', async () => (await healthOf(engine)).sequences.queued === 0);
    assert.equal((await healthOf(engine)).sequences.busy, 2, 'the long request is still generating');

    long.abort();
    await assert.rejects(longRequest, OpenAI.APIUserAbortError);
    await waitFor('all sequences free', async () => (await healthOf(engine)).sequences.busy === 0);

    const after = await client.chat.completions.create({ model: 'tiny', messages, temperature: 0, max_tokens: 4 });
    assert.equal(after.usage?.completion_tokens, 4);
  });

  test('every route needs the bearer token', async () => {
    assert.equal((await rawFetch(engine, '/v1/models')).status, 401);
    assert.equal((await rawFetch(engine, '/health')).status, 401);
    assert.equal((await rawFetch(engine, '/v1/models', 'not-the-token')).status, 401);
    const wrong = new OpenAI({ baseURL: engine.baseURL, apiKey: 'x'.repeat(32), maxRetries: 0 });
    await assert.rejects(
      wrong.chat.completions.create({ model: 'tiny', messages }),
      (error: unknown) => error instanceof OpenAI.AuthenticationError && error.status === 401,
    );
    await assert.rejects(wrong.models.list(), OpenAI.AuthenticationError);
  });

  test('stop() ends the process and reports an expected exit', async () => {
    assert.ok(pidAlive(engine.pid));
    await engine.stop();
    assert.equal(pidAlive(engine.pid), false);
    assert.equal(exits.length, 1);
    assert.equal(exits[0]?.expected, true);
    assert.equal(await engine.health(), false);
    await engine.stop(); // idempotent
  });
});

describe('embedded engine lifecycle', () => {
  test('a truncated GGUF fails the start with a clear engine error naming the file', async () => {
    const bad = join(dir, 'truncated.gguf');
    writeCorruptGguf(bad, 'truncated');
    await assert.rejects(startEngine(engineOptions({ modelPath: bad })), (error: unknown) => {
      assert.ok(isSvdError(error, 'engine'), String(error));
      assert.ok(error.message.includes(bad), error.message);
      return true;
    });
  });

  test('a GGUF that aborts llama.cpp kills only the child; the parent gets an engine error', async () => {
    const bad = join(dir, 'no-byte-tokens.gguf');
    writeCorruptGguf(bad, 'no_byte_tokens');
    await assert.rejects(startEngine(engineOptions({ modelPath: bad })), (error: unknown) => {
      assert.ok(isSvdError(error, 'engine'), String(error));
      assert.ok(error.message.includes(bad), error.message);
      assert.match(error.message, /SIGABRT|code 134/);
      return true;
    });
  });

  test('a GPU asked for where none is: the engine runs on the CPU and its ready line and health say so', { skip: existsSync('/proc/driver/nvidia') }, async () => {
    // Trying the CUDA build first (node-llama-cpp tests it in a process of its own) takes a while on a busy machine.
    const engine = await startEngine(engineOptions({ contextSize: 256, gpu: 'cuda', startTimeoutMs: 120_000 }));
    try {
      assert.equal(engine.backend.gpu, null);
      assert.match(engine.backend.fallback ?? '', /CUDA/);
      assert.equal(describeBackend(engine.backend), 'CPU, 1 thread');
      assert.deepEqual((await healthOf(engine)).backend, engine.backend);
    } finally {
      await engine.stop();
    }
  });

  test('a missing model file is refused before any process starts', async () => {
    await assert.rejects(startEngine(engineOptions({ modelPath: join(dir, 'absent.gguf') })), (error: unknown) =>
      isSvdError(error, 'engine'),
    );
  });

  test('uses every core by default, and a crash reaches onExit as unexpected', async () => {
    const engine = await startEngine(
      engineOptions({ threads: undefined, contextSize: 256, modelName: 'tiny-default' }),
    );
    try {
      assert.equal(engine.model, 'tiny-default');
      assert.equal((await healthOf(engine)).threads, availableParallelism());
      const exited = new Promise<EngineExit>((r) => engine.onExit(r));
      process.kill(engine.pid, 'SIGKILL');
      const info = await exited;
      assert.equal(info.expected, false);
      assert.equal(info.signal, 'SIGKILL');
      assert.equal(await engine.health(), false);
    } finally {
      await engine.stop();
    }
  });

  test('the child exits when its parent is killed', async () => {
    const script = join(dir, 'parent.ts');
    writeFileSync(
      script,
      [
        `import { startEngine } from ${JSON.stringify(HOST_MODULE)};`,
        `startEngine(${JSON.stringify(engineOptions({ contextSize: 256 }))}).then((engine) => {`,
        `  process.stdout.write(JSON.stringify({ pid: engine.pid }) + '\\n');`,
        `  setInterval(() => undefined, 60_000);`,
        `});`,
      ].join('\n'),
    );
    const parent = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const line = await new Promise<string>((resolveLine, rejectLine) => {
        createInterface({ input: parent.stdout }).once('line', resolveLine);
        parent.once('exit', (code) => rejectLine(new Error(`parent exited early (${code})`)));
      });
      const { pid } = z.object({ pid: z.number().int() }).parse(JSON.parse(line));
      assert.ok(pidAlive(pid));
      parent.kill('SIGKILL');
      await waitFor('the orphaned engine to exit', () => !pidAlive(pid), 5_000);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
