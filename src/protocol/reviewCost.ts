// A run's cost as the review's summary carries it (host -> webview), and its words in the summary's line.
import * as z from 'zod';
import { PURPOSES } from '../core/base/types';
import { formatUsd } from '../core/method/cost';

/** What the run cost at its model's price (core's method/cost.ts): USD, or null where the model has no price. */
export const ReviewCost = z.object({
  model: z.string(),
  total: z.number().nonnegative().nullable(),
  perStage: z.record(z.enum(PURPOSES), z.number().nonnegative().nullable()),
  perAccepted: z.number().nonnegative().nullable(),
  priceFrom: z.string().optional(),
  unknown: z.string().optional(),
});
export type ReviewCost = z.infer<typeof ReviewCost>;

/** The cost in the summary's line: `cost $1.2000, $0.0300 per accepted answer`, or `cost unknown`. */
export function costText(cost: ReviewCost): string {
  if (cost.total === null) return 'cost unknown';
  return `cost ${formatUsd(cost.total)}${cost.perAccepted === null ? '' : `, ${formatUsd(cost.perAccepted)} per accepted answer`}`;
}
