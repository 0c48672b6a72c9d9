// What model traffic costs: a price table (model name or glob -> USD per million prompt and completion tokens, and the
// discount a batch API gives), and a run's usage priced per stage and per accepted answer. Pure, without Node or zod,
// so the review's protocol (and the webview's bundle) takes it too. A model the table does not name costs "unknown"
// (null), never 0.
import { PURPOSES, type Purpose } from '../base/types';

/** The tokens that cost money; cached samples and retries that were never answered cost nothing. */
export interface BilledTokens {
  promptTokens: number;
  completionTokens: number;
  /** Of those, the tokens a batch API answered: billed at its discount (the record's UsageCounts.batch). */
  batch?: { promptTokens: number; completionTokens: number };
}

/** One model's price, in USD per million tokens (costTable.ts checks a table's entries). */
export interface ModelPrice {
  promptPerMillion: number;
  completionPerMillion: number;
  /** The fraction a batch API takes off (0.5: half price); 0 when it gives none. */
  batchDiscount: number;
  /** Where the figures come from, for people reading the table. */
  source?: string;
}

/** A price table's entries in the order they are tried; the first that matches wins. */
export interface PriceEntry {
  pattern: string;
  price: ModelPrice;
  /** The file (or `defaults`) it came from. */
  from: string;
}

/**
 * The prices svd knows without a table: OpenAI's published list prices for a few models, with its Batch API's 50%
 * off. Prices change: a table of one's own (.svd/prices.json or --prices) comes first and overrides these.
 */
const OPENAI = 'OpenAI list prices, https://openai.com/api/pricing (2025-06)';
export const DEFAULT_PRICES: readonly PriceEntry[] = (
  [
    ['gpt-4o', 2.5, 10],
    ['gpt-4o-mini', 0.15, 0.6],
    ['gpt-4.1', 2, 8],
    ['gpt-4.1-mini', 0.4, 1.6],
    ['gpt-4.1-nano', 0.1, 0.4],
  ] as const
).map(([pattern, prompt, completion]) => ({
  pattern,
  price: { promptPerMillion: prompt, completionPerMillion: completion, batchDiscount: 0.5, source: OPENAI },
  from: 'defaults',
}));

export interface PriceMatch {
  price: ModelPrice;
  /** The name or glob that matched, and where it was written. */
  pattern: string;
  from: string;
}

/** The price of `model`: an exact name first, then the first glob that matches, in table order. */
export function priceFor(entries: readonly PriceEntry[], model: string): PriceMatch | undefined {
  const name = model.toLowerCase();
  const exact = entries.find((entry) => !isGlob(entry.pattern) && entry.pattern.toLowerCase() === name);
  const found = exact ?? entries.find((entry) => isGlob(entry.pattern) && globRegExp(entry.pattern).test(name));
  return found && { price: found.price, pattern: found.pattern, from: found.from };
}

function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

function globRegExp(pattern: string): RegExp {
  const body = [...pattern.toLowerCase()]
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}

/** USD for the tokens at this price, all at one rate; `batch`: priced as a batch API's requests. */
export function costOf(tokens: Omit<BilledTokens, 'batch'>, price: ModelPrice, batch = false): number {
  const factor = batch ? 1 - price.batchDiscount : 1;
  return ((tokens.promptTokens * price.promptPerMillion + tokens.completionTokens * price.completionPerMillion) / 1e6) * factor;
}

/** USD for usage as recorded: its batch part at the batch price, the rest at the online price. */
export function billedCost(tokens: BilledTokens, price: ModelPrice): number {
  const { online, batch } = billedParts(tokens, price);
  return online + batch;
}

function billedParts(tokens: BilledTokens, price: ModelPrice): { online: number; batch: number } {
  const batch = tokens.batch ?? { promptTokens: 0, completionTokens: 0 };
  const online = { promptTokens: tokens.promptTokens - batch.promptTokens, completionTokens: tokens.completionTokens - batch.completionTokens };
  return { online: costOf(online, price), batch: costOf(batch, price, true) };
}

/** A run's cost: null wherever the model has no price. */
export interface RunCost {
  model: string;
  /** Where the price came from (`defaults` or a file), with the name or glob that matched; absent when unknown. */
  priceFrom?: string;
  /** Why the cost is unknown. */
  unknown?: string;
  perStage: Record<Purpose, number | null>;
  total: number | null;
  /** The part of the total that batch requests cost, at the batch price; absent when the run made none. */
  batchTotal?: number;
  /** Total over the answers the method accepted; null when unknown or none was accepted. */
  perAccepted: number | null;
  accepted: number;
}

export function runCost(
  model: string,
  match: PriceMatch | undefined,
  usage: Record<Purpose, BilledTokens>,
  accepted: number,
): RunCost {
  if (!match) {
    const perStage = Object.fromEntries(PURPOSES.map((purpose) => [purpose, null])) as Record<Purpose, null>;
    const unknown = `no price for model "${model}" (add it to .svd/prices.json, or give --prices FILE)`;
    return { model, unknown, perStage, total: null, perAccepted: null, accepted };
  }
  const perStage = Object.fromEntries(PURPOSES.map((purpose) => [purpose, billedCost(usage[purpose], match.price)])) as Record<Purpose, number>;
  const total = PURPOSES.reduce((sum, purpose) => sum + perStage[purpose], 0);
  const batched = PURPOSES.some((purpose) => usage[purpose].batch !== undefined);
  const batchTotal = PURPOSES.reduce((sum, purpose) => sum + billedParts(usage[purpose], match.price).batch, 0);
  return {
    model,
    priceFrom: `${match.from} ("${match.pattern}")`,
    perStage,
    total,
    ...(batched ? { batchTotal } : {}),
    perAccepted: accepted > 0 ? total / accepted : null,
    accepted,
  };
}

/** `$0.0123`, `$12.34`; `unknown` for null. Small sums keep their significant digits. */
export function formatUsd(value: number | null): string {
  if (value === null) return 'unknown';
  if (value === 0) return '$0';
  if (value < 0.01) return `$${value.toPrecision(3)}`;
  return `$${value.toFixed(value < 100 ? 4 : 2)}`;
}

/** The cost as lines for people: `svd status`, the run's end. */
export function formatRunCost(cost: RunCost): string[] {
  if (cost.total === null) return [`Cost: unknown: ${cost.unknown}`];
  const stages = PURPOSES.map((purpose) => `${purpose} ${formatUsd(cost.perStage[purpose])}`).join(', ');
  const lines = [`Cost: ${formatUsd(cost.total)} (${stages}); per accepted answer ${formatUsd(cost.perAccepted)}`, `  priced from ${cost.priceFrom}`];
  if (cost.batchTotal !== undefined) lines.push(`  batch requests ${formatUsd(cost.batchTotal)} of it, at the batch price`);
  return lines;
}
