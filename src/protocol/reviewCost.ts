// A run's cost as the review's summary carries it (host -> webview), and its words in the summary's line.
import * as z from 'zod';
import { PURPOSES } from '../core/base/types';
import { formatUsd, runCost, type BilledTokens, type PriceMatch } from '../core/method/cost';
import type { Purpose } from '../core/base/types';

/** What the run cost at its model's price (core's method/cost.ts): USD, or null where the model has no price. */
export const ReviewCost = z.object({
  model: z.string(),
  total: z.number().nonnegative().nullable(),
  perStage: z.record(z.enum(PURPOSES), z.number().nonnegative().nullable()),
  perAccepted: z.number().nonnegative().nullable(),
  /** The part of the total that batch requests cost, at the batch price; absent when there were none. */
  batchTotal: z.number().nonnegative().optional(),
  priceFrom: z.string().optional(),
  unknown: z.string().optional(),
});
export type ReviewCost = z.infer<typeof ReviewCost>;

/** The cost in the summary's line: `cost $1.2000 (batch $0.2000), $0.0300 per accepted answer`, or `cost unknown`. */
export function costText(cost: ReviewCost): string {
  if (cost.total === null) return 'cost unknown';
  const batch = cost.batchTotal === undefined ? '' : ` (batch ${formatUsd(cost.batchTotal)})`;
  return `cost ${formatUsd(cost.total)}${batch}${cost.perAccepted === null ? '' : `, ${formatUsd(cost.perAccepted)} per accepted answer`}`;
}

/** The run's cost for the summary, from its recorded usage (batch requests at the batch price). */
export function reviewCostOf(model: string, match: PriceMatch | undefined, usage: Record<Purpose, BilledTokens>, accepted: number): ReviewCost {
  const { perStage, total, perAccepted, batchTotal, priceFrom, unknown } = runCost(model, match, usage, accepted);
  return {
    model,
    perStage,
    total,
    perAccepted,
    ...(batchTotal === undefined ? {} : { batchTotal }),
    ...(priceFrom ? { priceFrom } : {}),
    ...(unknown ? { unknown } : {}),
  };
}
