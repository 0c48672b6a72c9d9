import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { keepAliveFetch } from '../../../../src/core/method/httpTransport';
import { createOpenAIClient } from '../../../../src/core/method/openaiClient';

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

async function serve(handler: Handler): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // The transport keeps its sockets alive; the test is over.
        server.closeAllConnections();
      }),
  };
}

const COMPLETION = {
  id: 'c1',
  object: 'chat.completion',
  created: 0,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Four.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
};

test('a JSON answer reads as a Response does: status, headers by any case, one body read, a clone before it', async () => {
  const server = await serve((_request, response) => {
    response.setHeader('Set-Cookie', ['a=1', 'b=2']);
    response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'X-Request-Id': 'req-1' });
    response.end(JSON.stringify({ answer: 4 }));
  });
  try {
    const response = await keepAliveFetch()(`${server.url}/v1/x`, { method: 'POST', body: '{}' });
    assert.equal(response.status, 200);
    assert.equal(response.ok, true);
    assert.equal(response.headers.get('x-request-id'), 'req-1');
    assert.equal(response.headers.get('X-REQUEST-ID'), 'req-1');
    assert.equal(response.headers.get('set-cookie'), 'a=1, b=2');
    assert.equal(response.headers.get('missing'), null);
    const names = [...response.headers.entries()].map(([name]) => name);
    assert.deepEqual(names, [...names].sort());
    const copy = response.clone();
    assert.deepEqual(await response.json(), { answer: 4 });
    assert.equal(response.bodyUsed, true);
    await assert.rejects(response.text(), /already been read/);
    assert.equal(await copy.text(), '{"answer":4}');
  } finally {
    await server.close();
  }
});

test('a gzipped JSON answer is decoded and no longer says it is encoded', async () => {
  const server = await serve((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
    response.end(zlib.gzipSync(JSON.stringify({ packed: true })));
  });
  try {
    const response = await keepAliveFetch()(`${server.url}/`, {});
    assert.deepEqual(await response.json(), { packed: true });
    assert.equal(response.headers.get('content-encoding'), null);
  } finally {
    await server.close();
  }
});

test('errors and answers that are not JSON stay web Responses, with their body as a stream', async () => {
  const server = await serve((request, response) => {
    if (request.url === '/fail') {
      response.writeHead(503, { 'Content-Type': 'application/json' });
      response.end('{"error":{"message":"busy"}}');
      return;
    }
    response.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    response.end('{"line":1}\n{"line":2}\n');
  });
  try {
    const fetcher = keepAliveFetch();
    const failed = await fetcher(`${server.url}/fail`, {});
    assert.ok(failed instanceof Response);
    assert.equal(failed.status, 503);
    assert.equal(await failed.text(), '{"error":{"message":"busy"}}');
    const file = await fetcher(`${server.url}/file`, {});
    assert.ok(file instanceof Response);
    assert.ok(file.body);
    assert.equal(await file.text(), '{"line":1}\n{"line":2}\n');
  } finally {
    await server.close();
  }
});

test('the openai client reads a chat completion through the transport, its request id included', async () => {
  let seen: { auth: string | undefined; body: unknown } | undefined;
  const server = await serve((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => {
      seen = { auth: request.headers.authorization, body: JSON.parse(text) };
      response.writeHead(200, { 'Content-Type': 'application/json', 'x-request-id': 'req-42' });
      response.end(JSON.stringify(COMPLETION));
    });
  });
  try {
    const { client } = createOpenAIClient({ baseURL: `${server.url}/v1`, apiKey: 'sk-test-transport', fetch: keepAliveFetch() });
    const completion = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Two and two?' }] });
    assert.equal(completion.choices[0]?.message.content, 'Four.');
    assert.equal(completion.usage?.completion_tokens, 2);
    assert.equal(completion._request_id, 'req-42');
    assert.equal(seen?.auth, 'Bearer sk-test-transport');
    assert.deepEqual(seen?.body, { model: 'm', messages: [{ role: 'user', content: 'Two and two?' }] });
  } finally {
    await server.close();
  }
});
