// The client for a run's endpoint: one server's ModelClient, or a pool over several (endpoints.ts), each replica's
// own client making no retries (the pool fails a request over instead, and retries only when every endpoint failed it).
import type { RunConfig } from '../base/config';
import { ModelClient, type ModelClientOptions } from './model';
import { EndpointPool, type ModelPort, type PoolMember } from './endpoints';
import type { EndpointSpec } from './endpointsFile';

/** The client a run's endpoint calls for, with the run's concurrency, timeout, retries and batching. */
export function endpointsClientFor(
  endpoint: { baseURL: string; model: string; apiKey?: string; replicas?: EndpointSpec[] },
  config: Pick<RunConfig, 'concurrency' | 'requestTimeoutMs' | 'maxRetries' | 'batchSamples'>,
  extra: Pick<ModelClientOptions, 'onNotice' | 'traits' | 'onRetry'> & { onChange?: () => void } = {},
): ModelPort {
  const { onChange, ...shared } = extra;
  const replicas = endpoint.replicas ?? [];
  if (replicas.length <= 1) {
    const only = replicas[0];
    return new ModelClient({
      ...shared,
      baseURL: only?.url ?? endpoint.baseURL,
      model: only?.model ?? endpoint.model,
      apiKey: only ? only.apiKey : endpoint.apiKey,
      concurrency: Math.min(config.concurrency, only?.maxConcurrency ?? config.concurrency),
      timeoutMs: config.requestTimeoutMs,
      maxRetries: config.maxRetries,
      batchSamples: config.batchSamples,
    });
  }
  const members: PoolMember[] = replicas.map((spec) => ({
    url: spec.url,
    weight: spec.weight,
    ...(spec.maxConcurrency !== undefined ? { maxConcurrency: spec.maxConcurrency } : {}),
    client: new ModelClient({
      ...(shared.traits ? { traits: shared.traits } : {}),
      ...(shared.onNotice ? { onNotice: shared.onNotice } : {}),
      baseURL: spec.url,
      model: spec.model,
      apiKey: spec.apiKey,
      concurrency: spec.maxConcurrency ?? config.concurrency,
      timeoutMs: config.requestTimeoutMs,
      maxRetries: 0,
      batchSamples: config.batchSamples,
    }),
  }));
  return new EndpointPool({
    members,
    concurrency: config.concurrency,
    maxRetries: config.maxRetries,
    ...(shared.onRetry ? { onRetry: shared.onRetry } : {}),
    ...(shared.onNotice ? { onNotice: shared.onNotice } : {}),
    ...(onChange ? { onChange } : {}),
  });
}
