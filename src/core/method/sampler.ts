// Where a sample comes from, cheapest first: the run's own record (resume), the shared response cache (a repeated
// run), then the model. Only the missing samples are asked for, in one request with `n` where possible.
import { StringDecoder } from 'node:string_decoder';
import { sampleKeys, type ResponseCache } from '../record/cache';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../base/config';
import type { RunEvent } from '../record/events';
import type { RequestBudget } from './budget';
import type { RunStore } from '../record/store';
import { PURPOSES, type Purpose, type Sample, type SampleRequest } from '../base/types';

export interface SampleResult {
  /** The event already recorded for this slot, when the run had it. */
  existing?: RunEvent;
  sample: Sample;
  /** Served by the response cache rather than the model. */
  cached: boolean;
}

/**
 * What the sampler asks for the samples it found nowhere: a model server, or the answers a batch gave. `ids` are the
 * event ids of the samples asked, in order, for a source that keeps answers by sample.
 */
export interface SampleSource {
  complete(request: SampleRequest, n: number, signal?: AbortSignal, ids?: readonly string[]): Promise<Sample[]>;
}

/**
 * A sample that will be answered later (a batch's next wave): the seed waits, with nothing recorded for it, and a
 * later session picks it up where it stopped.
 */
export class SampleDeferred extends Error {
  constructor(readonly ids: readonly string[]) {
    super(`${ids.length} sample(s) wait for a later answer`);
    this.name = 'SampleDeferred';
  }
}

export class Sampler {
  private readonly cacheHits = Object.fromEntries(PURPOSES.map((p) => [p, 0])) as Record<Purpose, number>;

  constructor(
    private readonly client: SampleSource,
    private readonly cache: ResponseCache,
    private readonly model: string,
    /** A response's text (and reasoning) is kept up to this many UTF-8 bytes, in the cache and the run alike. */
    private readonly maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES,
    /** A cost budget: each request's worst case is reserved before it is sent (see budget.ts). */
    private readonly budget?: RequestBudget,
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
        results[slot] = { sample: capSample(hit, this.maxResponseBytes), cached: true };
        this.cacheHits[request.purpose]++;
      } else {
        missing.push({ slot, key });
      }
    });
    if (missing.length > 0) {
      const asked = missing.map(({ slot }) => eventIds[slot]!);
      const reservation = this.budget?.reserve(request, missing.length);
      let fresh: Sample[];
      try {
        fresh = await this.client.complete(request, missing.length, signal, asked);
      } catch (error) {
        // Written into a batch wave: billed when the batch runs, so it stays reserved (budget.ts).
        if (reservation && error instanceof SampleDeferred) this.budget!.commit(reservation);
        throw error;
      } finally {
        if (reservation) this.budget!.settle(reservation);
      }
      missing.forEach(({ slot, key }, i) => {
        const sample = capSample(fresh[i]!, this.maxResponseBytes);
        this.cache.put(key, sample);
        results[slot] = { sample, cached: false };
      });
    }
    return results as SampleResult[];
  }
}

/** The sample with its text and reasoning cut to `maxBytes` each (whole characters), a marker saying so. */
export function capSample(sample: Sample, maxBytes: number): Sample {
  const text = capText(sample.text, maxBytes);
  const reasoning = sample.reasoning === undefined ? undefined : capText(sample.reasoning, maxBytes);
  if (text === sample.text && reasoning === sample.reasoning) return sample;
  return { ...sample, text, ...(reasoning === undefined ? {} : { reasoning }) };
}

function capText(text: string, maxBytes: number): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes, so most texts need no count.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  // The decoder holds back a character split at the cut, so only whole characters are kept.
  const kept = new StringDecoder('utf8').write(bytes.subarray(0, maxBytes));
  return `${kept}\n\n[cut by svd: the response was ${bytes.length} bytes, over the limit of ${maxBytes} (maxResponseBytes)]`;
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
