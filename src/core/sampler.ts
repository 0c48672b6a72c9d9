// Where a sample comes from, cheapest first: the run's own record (resume), the shared response cache (a repeated
// run), then the model. Only the missing samples are asked for, in one request with `n` where possible.
import { sampleKeys, type ResponseCache } from './cache';
import type { RunEvent } from './events';
import type { ModelClient } from './model';
import type { RunStore } from './store';
import { PURPOSES, type Purpose, type Sample, type SampleRequest } from './types';

export interface SampleResult {
  /** The event already recorded for this slot, when the run had it. */
  existing?: RunEvent;
  sample: Sample;
  /** Served by the response cache rather than the model. */
  cached: boolean;
}

export class Sampler {
  private readonly cacheHits = Object.fromEntries(PURPOSES.map((p) => [p, 0])) as Record<Purpose, number>;

  constructor(
    private readonly client: ModelClient,
    private readonly cache: ResponseCache,
    private readonly model: string,
  ) {}

  cachedSamples(): Record<Purpose, number> {
    return { ...this.cacheHits };
  }

  /**
   * One sample per event id. `firstIndex` numbers the samples for the cache key, so that vote i of a stage stays
   * vote i however the votes are batched into requests: asking for more samples of a request later (a larger n or
   * v) reuses the ones cached and asks the model only for the rest. Without a store (an evaluation keeps no run
   * record) only the cache and the model are asked.
   */
  async samples(
    request: SampleRequest,
    eventIds: readonly string[],
    store: Pick<RunStore, 'get'> | undefined,
    signal: AbortSignal,
    firstIndex = 0,
  ): Promise<SampleResult[]> {
    const results: (SampleResult | undefined)[] = eventIds.map((id) => {
      const existing = store?.get(id);
      return existing && 'text' in existing ? { existing, sample: sampleOf(existing), cached: false } : undefined;
    });
    const missing: { slot: number; key: string }[] = [];
    const open = results.flatMap((result, slot) => (result ? [] : [slot]));
    const keys = open.length > 0 ? sampleKeys(this.model, request, open.map((slot) => firstIndex + slot)) : [];
    open.forEach((slot, i) => {
      const key = keys[i]!;
      const hit = this.cache.get(key);
      if (hit) {
        results[slot] = { sample: hit, cached: true };
        this.cacheHits[request.purpose]++;
      } else {
        missing.push({ slot, key });
      }
    });
    if (missing.length > 0) {
      const fresh = await this.client.complete(request, missing.length, signal);
      missing.forEach(({ slot, key }, i) => {
        const sample = fresh[i]!;
        this.cache.put(key, sample);
        results[slot] = { sample, cached: false };
      });
    }
    return results as SampleResult[];
  }
}

function sampleOf(event: RunEvent & { text: string }): Sample {
  const e = event as { text: string; reasoning?: string; finishReason?: string; promptTokens?: number; completionTokens?: number };
  return {
    text: e.text,
    reasoning: e.reasoning,
    finishReason: e.finishReason ?? 'unknown',
    promptTokens: e.promptTokens ?? 0,
    completionTokens: e.completionTokens ?? 0,
  };
}
