// The HTTP transport under the inference client. The global fetch (undici with web streams) costs about a third more
// CPU per request than node:http here, and a run sends thousands of small requests; this transport covers what the
// openai client sends (string bodies) and hands anything else to the global fetch. A successful JSON answer (every
// chat completion) comes back as a buffered response (bufferedResponse.ts): a web Response with its Headers and
// stream cost about 50 us of CPU each, a twentieth of a request's whole cost in the engine.
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import { BufferedResponse, ResponseHeaders, isJson } from './bufferedResponse';

type FetchInput = Parameters<typeof fetch>[0];
type FetchInit = NonNullable<Parameters<typeof fetch>[1]>;

const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 204, 205, 304]);

/** A fetch over keep-alive node:http(s) agents of its own. */
export function keepAliveFetch(): typeof fetch {
  // Idle sockets close before the common 5 s server keep-alive, so a request never lands on one being closed.
  const agentOptions = { keepAlive: true, timeout: 4000 };
  const plainAgent = new http.Agent(agentOptions);
  const secureAgent = new https.Agent(agentOptions);
  return (input: FetchInput, init?: FetchInit): Promise<Response> => {
    const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : undefined;
    const body = init?.body;
    const plainBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
    if (!url || !plainBody || (url.protocol !== 'http:' && url.protocol !== 'https:')) return fetch(input, init);
    return new Promise<Response>((resolve, reject) => {
      const signal = init?.signal ?? undefined;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const headers: Record<string, string> = {};
      const given = init?.headers;
      (given instanceof Headers ? given : new Headers(given)).forEach((value, name) => {
        headers[name] = value;
      });
      const secure = url.protocol === 'https:';
      const options = { method: init?.method ?? 'GET', headers, agent: secure ? secureAgent : plainAgent };
      const request = (secure ? https : http).request(url, options, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          signal?.removeEventListener('abort', onAbort);
          const status = response.statusCode ?? 0;
          const statusText = response.statusMessage ?? '';
          const raw = response.rawHeaders;
          try {
            if (status >= 200 && status < 300 && !NULL_BODY_STATUSES.has(status) && isJson(raw)) {
              const light = new ResponseHeaders(raw);
              const payload = decode(Buffer.concat(chunks), light.get('content-encoding'));
              light.delete('content-encoding');
              resolve(new BufferedResponse(payload, status, statusText, light) as unknown as Response);
              return;
            }
            const responseHeaders = new Headers();
            for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i]!, raw[i + 1]!);
            let payload: Buffer | null = NULL_BODY_STATUSES.has(status) ? null : Buffer.concat(chunks);
            payload = payload && decode(payload, responseHeaders.get('content-encoding'));
            // Decoded above, so the header no longer describes the body.
            responseHeaders.delete('content-encoding');
            resolve(new Response(payload, { status, statusText, headers: responseHeaders }));
          } catch (error) {
            fail(error);
          }
        });
      });
      function fail(error: unknown) {
        signal?.removeEventListener('abort', onAbort);
        // The shape the global fetch rejects with, so the openai client reports a connection error with its cause.
        reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
      }
      function onAbort() {
        request.destroy();
        reject(signal?.reason);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', fail);
      request.end(body ?? undefined);
    });
  };
}

function decode(payload: Buffer, encoding: string | null): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(payload);
    case 'deflate':
      return zlib.inflateSync(payload);
    case 'br':
      return zlib.brotliDecompressSync(payload);
    default:
      return payload;
  }
}
