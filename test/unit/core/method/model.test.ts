import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { isSvdError } from '../../../../src/core/base/errors';
import { ModelCallError, ModelClient, type ModelClientOptions, type RetryInfo } from '../../../../src/core/method/model';
import { ServerTraits } from '../../../../src/core/method/serverTraits';
import type { Purpose, SampleRequest } from '../../../../src/core/base/types';
import { DEFAULT_MODEL, startScriptedServer, type ScriptedServer, type ScriptedServerOptions } from '../../../fixtures/scripted-server';

const request = (purpose: Purpose = 'generate', content = 'Say something useful.'): SampleRequest => ({
  purpose,
  messages: [{ role: 'user', content }],
  temperature: 0.8,
  topP: 0.95,
  maxTokens: 256,
});

function clientFor(url: string, options: Partial<ModelClientOptions> = {}): ModelClient {
  return new ModelClient({
    baseURL: url,
    model: DEFAULT_MODEL,
    concurrency: 8,
    timeoutMs: 5000,
    maxRetries: 3,
    batchSamples: true,
    retryBaseMs: 5,
    retryMaxMs: 20,
    ...options,
  });
}

async function withServer(options: ScriptedServerOptions, body: (server: ScriptedServer) => Promise<void>): Promise<void> {
  const server = await startScriptedServer(options);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

function isCallError(kind: ModelCallError['kind']) {
  return (error: unknown) => {
    assert.ok(error instanceof ModelCallError, `expected ModelCallError, got ${String(error)}`);
    assert.equal(error.kind, kind, error.message);
    return true;
  };
}

const isAborted = (error: unknown) => isSvdError(error, 'aborted');

/** A port nothing listens on: bound once, then released. */
async function deadUrl(): Promise<string> {
  const server = await startScriptedServer();
  const url = server.url;
  await server.close();
  return url;
}

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A fetch that answers every request with this JSON, for shapes the scripted server never sends. */
function fixedFetch(payload: unknown, status = 200): typeof fetch {
  return async () => new Response(JSON.stringify(payload), { status, headers: { 'content-type': 'application/json' } });
}

describe('ModelClient: samples', () => {
  let server: ScriptedServer;
  let counter = 0;
  before(async () => {
    server = await startScriptedServer({ handler: ({ choiceIndex }) => ({ content: `choice ${choiceIndex} #${counter++}` }) });
  });
  after(() => server.close());

  test('n samples come from one request when the server honours n', async () => {
    const start = server.requests.length;
    const samples = await clientFor(server.url).complete(request(), 4);
    assert.equal(samples.length, 4);
    assert.deepEqual(samples.map((s) => s.text.split(' #')[0]), ['choice 0', 'choice 1', 'choice 2', 'choice 3']);
    const seen = server.requests.slice(start);
    assert.deepEqual(seen.map((r) => r.n), [4]);
    assert.equal(seen[0]!.body?.n, 4);
    assert.equal(seen[0]!.body?.top_p, 0.95);
    assert.equal(seen[0]!.body?.max_tokens, 256);
  });

  test('one sample is asked without n', async () => {
    const start = server.requests.length;
    await clientFor(server.url).complete(request(), 1);
    assert.equal(server.requests[start]!.body?.n, undefined);
  });

  test('batchSamples off: n separate requests', async () => {
    const start = server.requests.length;
    const samples = await clientFor(server.url, { batchSamples: false }).complete(request(), 3);
    assert.equal(samples.length, 3);
    const seen = server.requests.slice(start);
    assert.deepEqual(seen.map((r) => r.body?.n), [undefined, undefined, undefined]);
    assert.equal(new Set(samples.map((s) => s.text)).size, 3);
  });

  test('finish_reason passes through, including length', async () => {
    server.inject({ kind: 'length' });
    const [sample] = await clientFor(server.url).complete(request(), 1);
    assert.equal(sample!.finishReason, 'length');
  });
});

test('a server that ignores n: the missing samples are asked one by one, concurrently', async () => {
  await withServer({ maxChoices: 1, latencyMs: 40 }, async (server) => {
    const client = clientFor(server.url);
    const samples = await client.complete(request(), 4);
    assert.equal(samples.length, 4);
    assert.deepEqual(server.requests.map((r) => r.n), [4, 1, 1, 1]);
    assert.equal(server.maxInFlight, 3, 'the missing three went out together');
    assert.equal(client.usage().generate.requests, 4);
  });
});

test('a server that returns some of n: only the missing ones are asked again', async () => {
  await withServer({ maxChoices: 2 }, async (server) => {
    const samples = await clientFor(server.url).complete(request(), 5);
    assert.equal(samples.length, 5);
    assert.deepEqual(server.requests.map((r) => r.n), [5, 1, 1, 1]);
  });
});

describe('ModelClient: faults', () => {
  let server: ScriptedServer;
  before(async () => {
    server = await startScriptedServer({ handler: () => ({ content: 'done' }) });
  });
  after(() => server.close());

  const run = async (options: Partial<ModelClientOptions> = {}, n = 2) => {
    const retries: RetryInfo[] = [];
    const client = clientFor(server.url, { onRetry: (info) => retries.push(info), ...options });
    const start = server.requests.length;
    const outcome = await client.complete(request('factuality'), n).then(
      (samples) => ({ samples, error: undefined }),
      (error: unknown) => ({ samples: undefined, error }),
    );
    return { ...outcome, retries, client, sent: server.requests.length - start };
  };

  test('429 with Retry-After waits as long as the server asked', async () => {
    server.inject({ kind: '429', retryAfterS: 0.3 });
    const started = Date.now();
    const { samples, retries, sent, client } = await run();
    const waited = Date.now() - started;
    assert.equal(samples?.length, 2);
    assert.equal(sent, 2);
    assert.ok(waited >= 290, `waited ${waited} ms`);
    assert.equal(retries.length, 1);
    assert.equal(retries[0]!.delayMs, 300);
    assert.equal(retries[0]!.purpose, 'factuality');
    assert.equal(retries[0]!.attempt, 1);
    assert.deepEqual(
      { requests: client.usage().factuality.requests, retries: client.usage().factuality.retries },
      { requests: 2, retries: 1 },
    );
  });

  for (const kind of ['500', '503', 'reset', 'invalid_json'] as const) {
    test(`${kind} then success`, async () => {
      server.inject({ kind });
      const { samples, sent, retries, error } = await run();
      assert.equal(error, undefined);
      assert.equal(samples?.length, 2);
      assert.equal(sent, 2);
      assert.equal(retries.length, 1);
      assert.ok(retries[0]!.delayMs <= 20, 'backoff stays within retryMaxMs');
    });
  }

  test('a persistent 500 fails as a server error after maxRetries + 1 requests', async () => {
    server.inject(...Array.from({ length: 4 }, () => ({ kind: '500' as const })));
    const { error, sent, client } = await run({ maxRetries: 3 });
    assert.ok(isCallError('server')(error));
    const e = error as ModelCallError;
    assert.equal(e.status, 500);
    assert.equal(e.retryable, true);
    assert.equal(e.fatal, false);
    assert.equal(sent, 4);
    assert.equal(client.usage().factuality.retries, 3);
  });

  test('400 is not retried', async () => {
    // One sample: a refused batch is asked again for one (see "a server that refuses n > 1").
    server.inject({ kind: '400' });
    const { error, sent, retries } = await run({}, 1);
    assert.ok(isCallError('bad_request')(error));
    assert.equal((error as ModelCallError).fatal, false);
    assert.equal((error as ModelCallError).retryable, false);
    assert.equal(sent, 1);
    assert.equal(retries.length, 0);
  });

  test('a slow answer times out, and the timeout is retried', async () => {
    server.inject({ kind: 'slow', ms: 1000 });
    const failed = await run({ timeoutMs: 100, maxRetries: 0 });
    assert.ok(isCallError('timeout')(failed.error));
    await waitFor(() => server.inFlight === 0);
    server.inject({ kind: 'slow', ms: 1000 });
    const started = Date.now();
    const retried = await run({ timeoutMs: 100, maxRetries: 1 });
    assert.equal(retried.samples?.length, 2);
    assert.equal(retried.sent, 2);
    assert.ok(Date.now() - started < 900);
  });

  test('a body that is not a chat completion is an invalid response, retried', async () => {
    let calls = 0;
    const fetchStub: typeof fetch = async (...args) => {
      calls += 1;
      return calls === 1 ? fixedFetch({ choices: [] })(...args) : fetch(...args);
    };
    const { samples, retries } = await run({ fetch: fetchStub });
    assert.equal(samples?.length, 2);
    assert.match(retries[0]!.reason, /unexpected shape/);
    const broken = await run({ fetch: fixedFetch({ hello: 'world' }), maxRetries: 1 });
    assert.ok(isCallError('invalid_response')(broken.error));
  });
});

test('404 for the model is unknown_model, fatal, and names the model', async () => {
  await withServer({ models: ['served'] }, async (server) => {
    const client = clientFor(server.url, { model: 'missing' });
    await assert.rejects(client.complete(request(), 1), (error: unknown) => {
      isCallError('unknown_model')(error);
      const e = error as ModelCallError;
      assert.equal(e.fatal, true);
      assert.equal(e.code, 'unknown_model');
      assert.match(e.message, /"missing"/);
      return true;
    });
    assert.equal(server.requests.length, 1);
  });
});

test('401 is auth, fatal, not retried, and says which variable holds the key', async () => {
  await withServer({ apiKey: 'right-key' }, async (server) => {
    const bad = clientFor(server.url, { apiKey: 'wrong-key' });
    await assert.rejects(bad.complete(request(), 1), (error: unknown) => {
      isCallError('auth')(error);
      const e = error as ModelCallError;
      assert.equal(e.fatal, true);
      assert.equal(e.status, 401);
      assert.ok(isSvdError(e, 'auth'));
      assert.match(e.message, /SVD_API_KEY/);
      assert.doesNotMatch(e.message, /wrong-key/, 'the key itself is never echoed');
      return true;
    });
    assert.equal(server.requests.length, 1);
    const good = clientFor(server.url, { apiKey: 'right-key' });
    assert.equal((await good.complete(request(), 1)).length, 1);
  });
});

test('a port nobody listens on is unreachable (fatal) after the retries', async () => {
  const url = await deadUrl();
  const retries: RetryInfo[] = [];
  const client = clientFor(url, { maxRetries: 2, onRetry: (info) => retries.push(info) });
  await assert.rejects(client.complete(request(), 1), (error: unknown) => {
    isCallError('unreachable')(error);
    assert.equal((error as ModelCallError).fatal, true);
    assert.ok(isSvdError(error, 'unreachable'));
    assert.ok((error as Error).message.includes(url));
    return true;
  });
  assert.equal(retries.length, 2);
  assert.equal(client.usage().generate.requests, 3);
});

describe('ModelClient: cancellation', () => {
  test('an abort cancels the request in flight; the server sees it abandoned', async () => {
    await withServer({ latencyMs: 2000 }, async (server) => {
      const client = clientFor(server.url);
      const controller = new AbortController();
      const pending = client.complete(request(), 2, controller.signal);
      await waitFor(() => server.inFlight === 1);
      const started = Date.now();
      controller.abort();
      await assert.rejects(pending, isAborted);
      assert.ok(Date.now() - started < 200);
      await waitFor(() => server.abandoned === 1);
      assert.equal(client.inFlight, 0);
    });
  });

  test('an abort rejects queued calls at once, and they never reach the server', async () => {
    await withServer({ latencyMs: 2000 }, async (server) => {
      const client = clientFor(server.url, { concurrency: 1 });
      const controller = new AbortController();
      const calls = Array.from({ length: 4 }, () => client.complete(request(), 1, controller.signal));
      await waitFor(() => server.inFlight === 1);
      const started = Date.now();
      controller.abort();
      const results = await Promise.allSettled(calls);
      assert.ok(Date.now() - started < 200);
      for (const result of results) assert.ok(result.status === 'rejected' && isAborted(result.reason));
      assert.equal(server.requests.length, 1);
    });
  });

  test('an abort ends a retry wait at once', async () => {
    await withServer({}, async (server) => {
      server.inject({ kind: '429', retryAfterS: 5 });
      const client = clientFor(server.url);
      const controller = new AbortController();
      const pending = client.complete(request(), 1, controller.signal);
      await waitFor(() => client.usage().generate.retries === 1);
      const started = Date.now();
      controller.abort();
      await assert.rejects(pending, isAborted);
      assert.ok(Date.now() - started < 200);
    });
  });

  test('an already aborted signal sends nothing', async () => {
    await withServer({}, async (server) => {
      await assert.rejects(clientFor(server.url).complete(request(), 1, AbortSignal.abort()), isAborted);
      assert.equal(server.requests.length, 0);
    });
  });

  test('a failed sibling stops the others of the same call', async () => {
    await withServer({ maxChoices: 1 }, async (server) => {
      server.inject({ kind: '400' });
      const client = clientFor(server.url, { batchSamples: false });
      await assert.rejects(client.complete(request(), 3), isCallError('bad_request'));
    });
  });
});

test('concurrency bounds the requests in flight', async () => {
  await withServer({ latencyMs: 25 }, async (server) => {
    const client = clientFor(server.url, { concurrency: 4 });
    let highest = 0;
    const watch = setInterval(() => (highest = Math.max(highest, client.inFlight)), 1);
    try {
      await Promise.all(Array.from({ length: 24 }, () => client.complete(request(), 1)));
    } finally {
      clearInterval(watch);
    }
    assert.equal(server.maxInFlight, 4);
    assert.ok(highest <= 4);
    assert.equal(client.inFlight, 0);
  });
});

test('a retry wait does not hold a slot: a queued call goes first', async () => {
  await withServer({ latencyMs: 10, handler: ({ body }) => ({ content: String(body.messages[0]?.content) }) }, async (server) => {
    const client = clientFor(server.url, { concurrency: 1 });
    server.inject({ kind: '429', retryAfterS: 0.2 });
    const started = Date.now();
    const finished: [string, number][] = [];
    await Promise.all(
      ['first', 'second'].map((name) =>
        client.complete(request('generate', name), 1).then(() => finished.push([name, Date.now() - started])),
      ),
    );
    assert.deepEqual(finished.map(([name]) => name), ['second', 'first']);
    // Had the wait kept the slot, the second call would have started only after it (200 ms).
    assert.ok(finished[0]![1] < 150, `the queued call finished after ${finished[0]![1]} ms`);
    assert.ok(finished[1]![1] >= 200);
    assert.deepEqual(server.requests.map((r) => r.status), [429, 200, 200]);
  });
});

describe('ModelClient: reasoning', () => {
  for (const mode of ['reasoning_content', 'reasoning'] as const) {
    test(`reasoning from the ${mode} field`, async () => {
      await withServer({ reasoning: mode, handler: () => ({ content: 'Answer.', thinking: 'Because.' }) }, async (server) => {
        const [sample] = await clientFor(server.url).complete(request(), 1);
        assert.equal(sample!.text, 'Answer.');
        assert.equal(sample!.reasoning, 'Because.');
      });
    });
  }

  test('inline thinking stays in the text', async () => {
    await withServer({ reasoning: 'inline', handler: () => ({ content: 'Answer.', thinking: 'Because.' }) }, async (server) => {
      const [sample] = await clientFor(server.url).complete(request(), 1);
      assert.equal(sample!.text, '<think>\nBecause.\n</think>\n\nAnswer.');
      assert.equal(sample!.reasoning, undefined);
      assert.ok(!('reasoning' in sample!));
    });
  });

  test('no reasoning at all', async () => {
    await withServer({ reasoning: 'none', handler: () => ({ content: 'Answer.', thinking: 'Because.' }) }, async (server) => {
      const [sample] = await clientFor(server.url).complete(request(), 1);
      assert.equal(sample!.text, 'Answer.');
      assert.equal(sample!.reasoning, undefined);
    });
  });
});

describe('ModelClient: usage', () => {
  test('tokens are counted per purpose and split across choices', async () => {
    await withServer({ handler: ({ choiceIndex }) => ({ content: 'x'.repeat(8 + choiceIndex * 4) }) }, async (server) => {
      const client = clientFor(server.url);
      const prompt = 'p'.repeat(400);
      const samples = await client.complete(request('correctness', prompt), 3);
      await client.complete(request('generate', prompt), 1);
      const usage = client.usage();
      const served = server.requests[0]!;
      assert.ok(served);
      // The scripted server counts chars / 4: 100 prompt tokens, 2 + 3 + 4 completion tokens.
      assert.deepEqual(usage.correctness, { requests: 1, promptTokens: 100, completionTokens: 9, cachedSamples: 0, retries: 0 });
      assert.deepEqual(usage.generate, { requests: 1, promptTokens: 100, completionTokens: 2, cachedSamples: 0, retries: 0 });
      assert.deepEqual(usage.cycle, { requests: 0, promptTokens: 0, completionTokens: 0, cachedSamples: 0, retries: 0 });
      assert.deepEqual(samples.map((s) => s.promptTokens), [100, 100, 100]);
      assert.deepEqual(samples.map((s) => s.completionTokens), [3, 3, 3]);
      // usage() is a copy.
      usage.generate.requests = 99;
      assert.equal(client.usage().generate.requests, 1);
    });
  });

  test('an uneven total is split so the parts add up; missing fields get defaults', async () => {
    const payload = {
      choices: [
        { message: { role: 'assistant', content: 'a' }, finish_reason: null },
        { message: { role: 'assistant', content: '', reasoning_content: { not: 'text' } } },
      ],
      usage: { prompt_tokens: 7, completion_tokens: 5 },
    };
    const client = clientFor('http://127.0.0.1:9/v1', { fetch: fixedFetch(payload) });
    const samples = await client.complete(request(), 2);
    assert.deepEqual(samples.map((s) => s.completionTokens), [3, 2]);
    assert.deepEqual(samples.map((s) => s.finishReason), ['unknown', 'unknown']);
    assert.deepEqual(samples.map((s) => s.text), ['a', '']);
    assert.equal(samples[1]!.reasoning, undefined);
    const noUsage = clientFor('http://127.0.0.1:9/v1', { fetch: fixedFetch({ choices: payload.choices.slice(0, 1) }) });
    const [bare] = await noUsage.complete(request(), 1);
    assert.deepEqual([bare!.promptTokens, bare!.completionTokens], [0, 0]);
  });

  test('content: null is no answer: retried, then an invalid_response; a choice with reasoning alone is an answer', async () => {
    const nothing = { choices: [{ message: { role: 'assistant', content: null }, finish_reason: 'stop' }] };
    let sent = 0;
    const counting: typeof fetch = async (input, init) => {
      sent += 1;
      return fixedFetch(nothing)(input, init);
    };
    await assert.rejects(
      clientFor('http://127.0.0.1:9/v1', { fetch: counting, maxRetries: 2 }).complete(request(), 1),
      (error: unknown) => error instanceof ModelCallError && error.kind === 'invalid_response' && error.retryable && !error.fatal && /content: null/.test(error.message),
    );
    assert.equal(sent, 3, 'asked again on each retry');
    const thinking = { choices: [{ message: { content: null, reasoning_content: 'Thought it through.' }, finish_reason: 'length' }] };
    const [sample] = await clientFor('http://127.0.0.1:9/v1', { fetch: fixedFetch(thinking) }).complete(request(), 1);
    assert.deepEqual([sample!.text, sample!.reasoning], ['', 'Thought it through.']);
  });

  test('a batched reply with some null choices asks again for those only', async () => {
    const half = {
      choices: [
        { index: 0, message: { content: 'kept' }, finish_reason: 'stop' },
        { index: 1, message: { content: null }, finish_reason: 'stop' },
      ],
    };
    const asked: number[] = [];
    const counting: typeof fetch = async (input, init) => {
      asked.push((JSON.parse(String(init?.body)) as { n?: number }).n ?? 1);
      return fixedFetch(half)(input, init);
    };
    const samples = await clientFor('http://127.0.0.1:9/v1', { fetch: counting }).complete(request(), 2);
    assert.deepEqual(samples.map((sample) => sample.text), ['kept', 'kept']);
    assert.deepEqual(asked, [2, 1], 'the null choice was asked for again, alone');
  });

  test('a scripted null reply is asked again, not answered empty', async () => {
    await withServer({ handler: ({ choiceIndex }) => ({ content: `answer ${choiceIndex}` }) }, async (server) => {
      server.inject({ kind: 'null_content' });
      const samples = await clientFor(server.url, { maxRetries: 1 }).complete(request(), 2);
      assert.deepEqual(samples.map((sample) => sample.text), ['answer 0', 'answer 1']);
      assert.equal(server.requests.length, 2);
    });
  });

  test('choices come back in index order', async () => {
    const payload = {
      choices: [
        { index: 1, message: { content: 'second' }, finish_reason: 'stop' },
        { index: 0, message: { content: 'first' }, finish_reason: 'stop' },
      ],
    };
    const samples = await clientFor('http://127.0.0.1:9/v1', { fetch: fixedFetch(payload) }).complete(request(), 2);
    assert.deepEqual(samples.map((s) => s.text), ['first', 'second']);
  });
});

describe('ModelClient: models and probe', () => {
  test('listModels returns the served ids', async () => {
    await withServer({ models: ['a', 'b'] }, async (server) => {
      assert.deepEqual(await clientFor(server.url).listModels(), ['a', 'b']);
    });
  });

  test('probe passes for a listed model without a chat request', async () => {
    await withServer({ models: ['a', 'b'] }, async (server) => {
      await clientFor(server.url, { model: 'b' }).probe();
      assert.equal(server.requests.length, 0);
    });
  });

  test('probe: a model that is neither listed nor served is unknown_model, naming what is listed', async () => {
    await withServer({ models: ['a', 'b'] }, async (server) => {
      await assert.rejects(clientFor(server.url, { model: 'zzz' }).probe(), (error: unknown) => {
        assert.ok(isSvdError(error, 'unknown_model'));
        assert.match((error as Error).message, /"zzz"/);
        assert.match((error as Error).message, /It lists: a, b/);
        return true;
      });
    });
  });

  test('probe: a server that accepts names it does not list passes', async () => {
    await withServer({}, async (server) => {
      await clientFor(server.url, { model: 'alias' }).probe();
      assert.equal(server.requests.length, 1);
    });
  });

  test('probe: a rejected key is auth, naming the variable', async () => {
    await withServer({ apiKey: 'k' }, async (server) => {
      await assert.rejects(clientFor(server.url).probe(), (error: unknown) => {
        assert.ok(isSvdError(error, 'auth'));
        assert.match((error as Error).message, /SVD_API_KEY/);
        assert.match((error as Error).message, /needs an API key/);
        return true;
      });
    });
  });

  test('probe: a dead server is unreachable and names the URL', async () => {
    const url = await deadUrl();
    await assert.rejects(clientFor(url, { maxRetries: 5 }).probe(), (error: unknown) => {
      assert.ok(isSvdError(error, 'unreachable'));
      assert.ok((error as Error).message.includes(url));
      return true;
    });
  });

  test('probe: no /models route falls back to a chat request', async () => {
    const chatOnly: typeof fetch = async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.endsWith('/models')) return new Response('not here', { status: 404 });
      return fixedFetch({ choices: [{ message: { content: 'OK' }, finish_reason: 'length' }] })(input, init);
    };
    await clientFor('http://127.0.0.1:9/v1', { fetch: chatOnly }).probe();
  });
});

test('the built-in transport decodes a compressed answer', async () => {
  const completion = { choices: [{ index: 0, message: { role: 'assistant', content: 'squeezed' }, finish_reason: 'stop' }] };
  const server = createServer((_, res) => {
    const body = gzipSync(JSON.stringify(completion));
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const [sample] = await clientFor(`http://127.0.0.1:${port}/v1`).complete(request(), 1);
    assert.equal(sample!.text, 'squeezed');
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('options are checked when the client is built', () => {
  assert.throws(() => clientFor('not a url'), (error: unknown) => isSvdError(error, 'bad_config'));
  assert.throws(() => clientFor('http://127.0.0.1:1/v1', { concurrency: 0 }), (error: unknown) => isSvdError(error, 'bad_config'));
});

describe('ModelClient: a server that refuses n > 1', () => {
  test('the first refusal is told from the same request for one sample; nothing is lost, and it is said once', async () => {
    await withServer({ rejectN: true, handler: ({ requestIndex }) => ({ content: `request ${requestIndex}` }) }, async (server) => {
      const notices: string[] = [];
      const client = clientFor(server.url, { onNotice: (message) => notices.push(message) });
      const first = await client.complete(request(), 4);
      assert.equal(first.length, 4);
      assert.deepEqual(server.requests.map((r) => [r.n, r.status]), [[4, 400], [1, 200], [1, 200], [1, 200], [1, 200]]);
      // Each sample is a different request's answer: none is taken twice.
      assert.equal(new Set(first.map((s) => s.text)).size, 4);
      assert.equal(notices.length, 1);
      assert.match(notices[0]!, /does not take n > 1.*one sample per request/);

      const start = server.requests.length;
      const second = await client.complete(request(), 3);
      assert.equal(second.length, 3);
      assert.deepEqual(server.requests.slice(start).map((r) => r.n), [1, 1, 1], 'no batch is tried again');
      assert.equal(notices.length, 1);
      // Every request sent is counted, the refused one too.
      assert.equal(client.usage().generate.requests, server.requests.length);
    });
  });

  test('requests refused at once, concurrently: each gets its samples, one notice', async () => {
    await withServer({ rejectN: true, latencyMs: 20 }, async (server) => {
      const notices: string[] = [];
      const client = clientFor(server.url, { onNotice: (message) => notices.push(message) });
      const all = await Promise.all([client.complete(request(), 3), client.complete(request('factuality'), 2)]);
      assert.deepEqual(all.map((samples) => samples.length), [3, 2]);
      assert.equal(server.requests.filter((r) => r.n > 1).length, 2);
      assert.equal(server.requests.filter((r) => r.n === 1 && r.status === 200).length, 5);
      assert.equal(notices.length, 1);
    });
  });

  test('the knowledge is per server: shared by clients, and another server still gets batches', async () => {
    await withServer({ rejectN: true }, async (refusing) => {
      await withServer({}, async (batching) => {
        const traits = new ServerTraits();
        await clientFor(refusing.url, { traits }).complete(request(), 2);
        // A second client of the same command (a sweep's next cell) does not try again...
        const start = refusing.requests.length;
        await clientFor(`${refusing.url}/`, { traits }).complete(request(), 2);
        assert.deepEqual(refusing.requests.slice(start).map((r) => r.n), [1, 1]);
        // ...and a client of another server keeps asking for n at once.
        await clientFor(batching.url, { traits }).complete(request(), 3);
        assert.deepEqual(batching.requests.map((r) => r.n), [3]);
      });
    });
  });

  test('a request refused whatever n is: that refusal is the error, and batches are not given up', async () => {
    await withServer({}, async (server) => {
      const notices: string[] = [];
      const traits = new ServerTraits();
      server.inject({ kind: '400' }, { kind: '400' });
      const client = clientFor(server.url, { traits, onNotice: (message) => notices.push(message) });
      await assert.rejects(client.complete(request(), 3), isCallError('bad_request'));
      assert.deepEqual(server.requests.map((r) => [r.n, r.status]), [[3, 400], [1, 400]]);
      assert.deepEqual(notices, []);
      assert.equal(traits.takesBatches(server.url), true);
      await client.complete(request(), 3);
      assert.equal(server.requests.at(-1)!.n, 3);
    });
  });
});
