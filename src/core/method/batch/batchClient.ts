// The model client of a batch wave: it answers from the answers a batch gave (by custom_id) and, for a sample it has
// no answer for, writes the request into the wave and defers the seed (SampleDeferred), which waits for the next
// wave with nothing recorded. The pipeline runs unchanged on top, so a wave records candidates, votes and stages as
// an online run does, and the cascade's early exit decides what the next wave asks.
import { SvdError } from '../../base/errors';
import { PURPOSES, type Purpose, type Sample, type SampleRequest } from '../../base/types';
import type { UsageCounts } from '../../record/events';
import type { RunClient } from '../pipeline';
import { SampleDeferred } from '../sampler';
import { customIdOf, requestLine, type RequestLine } from './lines';
import type { BatchResults } from './results';

export class BatchClient implements RunClient {
  private readonly counts: Record<Purpose, UsageCounts>;
  /** custom_ids written into this wave, so a request asked twice in one wave is sent once. */
  private readonly asked = new Set<string>();

  constructor(
    private readonly runId: string,
    private readonly model: string,
    private readonly results: BatchResults,
    /** Where the wave's requests go; without one they are only counted (an import's replay). */
    private readonly sink?: (line: RequestLine) => void,
  ) {
    this.counts = Object.fromEntries(
      // Every answer here came through a batch API: all of it is billed at the batch price (UsageCounts.batch).
      PURPOSES.map((p) => [p, { requests: 0, promptTokens: 0, completionTokens: 0, cachedSamples: 0, retries: 0, batch: { requests: 0, promptTokens: 0, completionTokens: 0 } }]),
    ) as Record<Purpose, UsageCounts>;
  }

  /** Requests this wave asks for. */
  get deferredRequests(): number {
    return this.asked.size;
  }

  complete(request: SampleRequest, n: number, _signal?: AbortSignal, ids?: readonly string[]): Promise<Sample[]> {
    if (!ids || ids.length !== n) return Promise.reject(new SvdError('internal', 'a batch answers samples named by their event ids'));
    const customIds = ids.map((id) => customIdOf(this.runId, id));
    const found = customIds.map((customId) => this.results.get(customId));
    const missing = customIds.filter((_, i) => found[i] === undefined);
    if (missing.length > 0) {
      for (const customId of missing) {
        if (this.asked.has(customId)) continue;
        this.asked.add(customId);
        this.sink?.(requestLine(customId, this.model, request));
      }
      return Promise.reject(new SampleDeferred(missing));
    }
    const counts = this.counts[request.purpose];
    const samples = found as Sample[];
    for (const sample of samples) {
      // Each answer was a request of its own, as an online request for one sample is.
      counts.requests += 1;
      counts.promptTokens += sample.promptTokens;
      counts.completionTokens += sample.completionTokens;
      counts.batch!.requests += 1;
      counts.batch!.promptTokens += sample.promptTokens;
      counts.batch!.completionTokens += sample.completionTokens;
    }
    return Promise.resolve(samples);
  }

  usage(): Record<Purpose, UsageCounts> {
    // The batch share only where a batch answered: a wave that only asks records none.
    return Object.fromEntries(
      PURPOSES.map((p) => {
        const { batch, ...counts } = this.counts[p];
        return [p, batch!.requests > 0 ? { ...counts, batch: { ...batch! } } : counts];
      }),
    ) as Record<Purpose, UsageCounts>;
  }

  /** Nothing to probe: no server is asked during a wave. */
  probe(): Promise<void> {
    return Promise.resolve();
  }
}
