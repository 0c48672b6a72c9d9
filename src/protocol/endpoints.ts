// Each server of a run spread over several, as `--events` progress lines, `svd status` and the editor show it. The
// pipeline writes the same shape to the run's endpoints.json every few seconds (core/method/endpointsSnapshot.ts).
import * as z from 'zod';

const count = z.number().int().nonnegative();

export const EndpointStatusSchema = z.strictObject({
  /** Without credentials. */
  url: z.string(),
  /** up: takes requests; down: taken out after failures, probed again later; probing: being probed now. */
  state: z.enum(['up', 'down', 'probing']),
  requests: count,
  errors: count,
  /** Of the errors, 429s. */
  throttled: count,
  inFlight: count,
  /** Requests in flight it takes now (halved on 429, grown back one by one) and at most. */
  limit: count,
  maxConcurrency: count,
});
export type EndpointStatusJson = z.infer<typeof EndpointStatusSchema>;

/** endpoints.json in a run's folder: the servers as they stood at `at` (ISO time). */
export const EndpointsSnapshotSchema = z.object({ at: z.string(), endpoints: z.array(EndpointStatusSchema) });

/** One line per server: `http://a:8000/v1  up  requests 120  errors 3 (429: 2)  in flight 4/32 (max 64)`. */
export function formatEndpoints(endpoints: readonly EndpointStatusJson[]): string[] {
  const width = Math.max(...endpoints.map((e) => e.url.length));
  return endpoints.map((e) => {
    const throttled = e.throttled > 0 ? ` (429: ${e.throttled})` : '';
    const limit = e.limit < e.maxConcurrency ? `${e.limit} (max ${e.maxConcurrency})` : `${e.limit}`;
    return `${e.url.padEnd(width)}  ${e.state.padEnd(7)}  requests ${e.requests}  errors ${e.errors}${throttled}  in flight ${e.inFlight}/${limit}`;
  });
}

/** `3/4 servers up`, for a status bar. */
export function endpointsSummary(endpoints: readonly EndpointStatusJson[]): string {
  const up = endpoints.filter((e) => e.state === 'up').length;
  return `${up}/${endpoints.length} servers up`;
}
