import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { isSvdError } from '../../../../src/core/base/errors';
import { redactText } from '../../../../src/core/base/redact';
import { classifyApiError, createOpenAIClient, isLocalServer, openAIErrorBody, parseRetryAfter, type ApiFailure } from '../../../../src/core/method/openaiClient';

const savedEnv = { ...process.env };
afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
});

interface Seen {
  url: string;
  headers: Headers;
}

/** A client whose every request gets `answer`, recording what was sent. */
function clientAnswering(answer: (init: RequestInit | undefined) => Promise<Response> | Response, options: { baseURL?: string; apiKey?: string; timeoutMs?: number } = {}) {
  const seen: Seen[] = [];
  const fetchStub: typeof fetch = async (input, init) => {
    seen.push({ url: input instanceof Request ? input.url : String(input), headers: new Headers(init?.headers) });
    return answer(init);
  };
  const made = createOpenAIClient({ baseURL: options.baseURL ?? 'http://127.0.0.1:9/v1/', apiKey: options.apiKey, timeoutMs: options.timeoutMs, fetch: fetchStub });
  return { ...made, seen };
}

async function failureOf(request: Promise<unknown>): Promise<ApiFailure> {
  try {
    await request;
  } catch (error) {
    const failure = classifyApiError(error);
    assert.ok(failure, `not classified: ${String(error)}`);
    return failure;
  }
  assert.fail('the request did not fail');
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

test('statuses: auth, not found, retryable server failures and rejected requests', async () => {
  const cases: [number, ApiFailure['kind'], boolean][] = [
    [401, 'auth', false],
    [403, 'auth', false],
    [404, 'not_found', false],
    [400, 'rejected', false],
    [422, 'rejected', false],
    [408, 'server', true],
    [409, 'server', true],
    [429, 'server', true],
    [500, 'server', true],
    [503, 'server', true],
  ];
  for (const [status, kind, retryable] of cases) {
    const { client } = clientAnswering(() => json(status, { error: { message: `says ${status}` } }));
    const failure = await failureOf(client.get('/models'));
    assert.deepEqual([failure.kind, failure.retryable, failure.status], [kind, retryable, status], String(status));
    assert.equal(failure.detail, `says ${status}`, 'the server\'s own message');
    assert.match(failure.message, new RegExp(`^${status} `), 'the client\'s message leads with the status');
  }
});

test('a retryable status carries the wait the server asked for', async () => {
  const { client } = clientAnswering(() => json(429, { error: { message: 'slow down' } }, { 'retry-after': '3' }));
  const failure = await failureOf(client.get('/models'));
  assert.equal(failure.retryAfterMs, 3000);
});

test('a refused connection is unreachable; a reset one is a connection failure; both are retryable', async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const { client } = createOpenAIClient({ baseURL: `http://127.0.0.1:${port}/v1` });
  const refused = await failureOf(client.get('/models'));
  assert.deepEqual([refused.kind, refused.code, refused.retryable], ['unreachable', 'ECONNREFUSED', true]);

  const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  const { client: resetting } = clientAnswering(() => Promise.reject(new TypeError('fetch failed', { cause: reset })));
  const failure = await failureOf(resetting.get('/models'));
  assert.deepEqual([failure.kind, failure.code, failure.retryable], ['connection', 'ECONNRESET', true]);
});

test('a timeout and an abort are told apart; only the timeout is retryable', async () => {
  const hang = (init: RequestInit | undefined) =>
    new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason), { once: true }));
  const { client } = clientAnswering(hang, { timeoutMs: 50 });
  const timeout = await failureOf(client.get('/models'));
  assert.deepEqual([timeout.kind, timeout.retryable], ['timeout', true]);

  const controller = new AbortController();
  const pending = client.get('/models', { signal: controller.signal, timeout: 10_000 });
  setTimeout(() => controller.abort(), 10);
  const aborted = await failureOf(pending);
  assert.deepEqual([aborted.kind, aborted.retryable], ['aborted', false]);
});

test('an answer that is not JSON is invalid_json; errors from elsewhere are not classified', async () => {
  const { client } = clientAnswering(() => new Response('{"choices": [', { status: 200, headers: { 'content-type': 'application/json' } }));
  const failure = await failureOf(client.get('/models'));
  assert.deepEqual([failure.kind, failure.retryable], ['invalid_json', false]);
  assert.equal(classifyApiError(new Error('a bug')), undefined);
  assert.equal(classifyApiError('text'), undefined);
});

test('the client sends the caller\'s key and nothing from OPENAI_* settings, to the URL without its trailing slash', async () => {
  process.env.OPENAI_ORG_ID = 'org-from-env';
  process.env.OPENAI_PROJECT_ID = 'proj-from-env';
  process.env.OPENAI_API_KEY = 'sk-from-the-environment';
  const { client, baseURL, seen } = clientAnswering(() => json(200, { data: [] }), { apiKey: 'sk-caller-key-123' });
  assert.equal(baseURL, 'http://127.0.0.1:9/v1');
  await client.get('/models');
  assert.equal(seen[0]!.url, 'http://127.0.0.1:9/v1/models');
  assert.equal(seen[0]!.headers.get('authorization'), 'Bearer sk-caller-key-123');
  assert.equal(seen[0]!.headers.get('openai-organization'), null);
  assert.equal(seen[0]!.headers.get('openai-project'), null);
  assert.equal(redactText('the key sk-caller-key-123 leaked'), 'the key [redacted] leaked', 'the key is registered for redaction');

  const { client: keyless, seen: keylessSeen } = clientAnswering(() => json(200, { data: [] }));
  await keyless.get('/models');
  assert.equal(keylessSeen[0]!.headers.get('authorization'), 'Bearer none', 'never the environment\'s key');
});

test('credentials in the URL become a Basic auth header, and cannot be combined with a key', async () => {
  const { client, baseURL, seen } = clientAnswering(() => json(200, { data: [] }), { baseURL: 'https://me:pa55word-x@proxy.example/v1' });
  assert.equal(baseURL, 'https://proxy.example/v1');
  await client.get('/models');
  assert.equal(seen[0]!.url, 'https://proxy.example/v1/models');
  assert.equal(seen[0]!.headers.get('authorization'), `Basic ${Buffer.from('me:pa55word-x').toString('base64')}`);
  assert.throws(
    () => createOpenAIClient({ baseURL: 'https://me:pa55word-x@proxy.example/v1', apiKey: 'sk-also-a-key', urlLabel: 'the fine-tuning URL' }),
    (e) => isSvdError(e, 'bad_config') && e.message.startsWith('the fine-tuning URL https://proxy.example/v1 carries credentials'),
  );
});

test('parseRetryAfter reads seconds, milliseconds and HTTP dates', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfter(new Headers({ 'retry-after': '2' }), now), 2000);
  assert.equal(parseRetryAfter(new Headers({ 'retry-after': '0.5' }), now), 500);
  assert.equal(parseRetryAfter(new Headers({ 'retry-after-ms': '120', 'retry-after': '9' }), now), 120);
  assert.equal(parseRetryAfter(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' }), now), 3000);
  assert.equal(parseRetryAfter(new Headers({ 'retry-after': 'soon' }), now), undefined);
  assert.equal(parseRetryAfter(new Headers(), now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});

test("a server's error body is shown in its own words, whatever its shape", async () => {
  const bodies: [string, string, string][] = [
    ['OpenAI', JSON.stringify({ error: { message: 'The model `x` does not exist' } }), 'The model `x` does not exist'],
    ['vLLM', JSON.stringify({ object: 'error', message: 'The model `x` does not exist.', type: 'NotFoundError', code: 404 }), 'The model `x` does not exist.'],
    ['FastAPI', JSON.stringify({ detail: 'Not Found' }), 'Not Found'],
    ['Ollama', JSON.stringify({ error: 'model "x" not found, try pulling it first' }), 'model "x" not found, try pulling it first'],
    ['text', '404 page not found\n', '404 page not found'],
    ['other JSON', JSON.stringify({ status: 'missing' }), '{"status":"missing"}'],
  ];
  for (const [server, body, said] of bodies) {
    const { client } = clientAnswering(() => new Response(body, { status: 404, headers: { 'content-type': 'application/json' } }));
    const failure = await failureOf(client.get('/models'));
    assert.deepEqual([failure.kind, failure.detail], ['not_found', said], server);
  }
  // No body at all: the client's own words.
  const { client } = clientAnswering(() => new Response(null, { status: 404 }));
  assert.match((await failureOf(client.get('/models'))).detail, /404/);
  assert.equal(openAIErrorBody(''), undefined);
  assert.equal(openAIErrorBody('{"error":{"message":"m"}}'), undefined, 'already in the shape');
});

test('only a server on this machine is one that may not be running', () => {
  for (const url of ['http://localhost:11434/v1', 'http://127.0.0.1:8000/v1', 'http://[::1]:8000/v1', 'http://ollama.localhost/v1']) assert.equal(isLocalServer(url), true, url);
  for (const url of ['https://api.openai.com/v1', 'http://10.0.0.5:8000/v1', 'not a url']) assert.equal(isLocalServer(url), false, url);
});
