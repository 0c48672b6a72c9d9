// The price table a user writes (`.svd/prices.json` beside the runs, `--prices FILE`, the setting `svd.prices`),
// read and checked here; its entries come before svd's few defaults (cost.ts), so a user's price always wins.
import * as fs from 'node:fs';
import { z } from 'zod';
import { SvdError, describeError } from '../base/errors';
import { issueText } from '../base/zodIssues';
import { DEFAULT_PRICES, type PriceEntry } from './cost';

const usd = z.number().finite().nonnegative();

/** One model's price, in USD per million tokens. */
export const ModelPriceSchema = z.strictObject({
  promptPerMillion: usd,
  completionPerMillion: usd,
  /** The fraction a batch API takes off (0.5: half price); 0 when it gives none. */
  batchDiscount: z.number().min(0).max(1).default(0),
  source: z.string().optional(),
});

/**
 * A price table as a file holds it: `{ "prices": { "<model or glob>": { "promptPerMillion": 0.15, ... } } }`. A
 * glob's `*` matches any run of characters (slashes too: `Qwen/*`), `?` one; names match without regard to case.
 */
export const PriceTableSchema = z.strictObject({
  prices: z.record(z.string().min(1, 'a model name or glob, not empty'), ModelPriceSchema),
});

/**
 * The table's entries, in the file's order. @throws SvdError bad_config naming the file and the field at fault;
 * not_found when `required` and the file is missing.
 */
export function readPriceFile(file: string, required: boolean): PriceEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !required) return [];
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new SvdError('not_found', `${file}: no price table there`);
    throw new SvdError('bad_config', `${file}: cannot read the price table (${describeError(error)})`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SvdError('bad_config', `${file}: the price table is not JSON (${describeError(error)})`, { cause: error });
  }
  return priceEntries(json, file);
}

/** A table already parsed (a setting's value, a file's JSON). @throws SvdError bad_config naming `from` and the field. */
export function priceEntries(json: unknown, from: string): PriceEntry[] {
  const parsed = PriceTableSchema.safeParse(json);
  if (!parsed.success) throw new SvdError('bad_config', `${from}: invalid price table: ${issueText(parsed.error)}`);
  return Object.entries(parsed.data.prices).map(([pattern, price]) => ({ pattern, price, from }));
}

/**
 * The table a run prices with: the file named (which must exist), else `workspaceFile` when it exists, then svd's
 * defaults.
 */
export function loadPriceTable(options: { file?: string; workspaceFile?: string }): PriceEntry[] {
  const own = options.file !== undefined
    ? readPriceFile(options.file, true)
    : options.workspaceFile !== undefined
      ? readPriceFile(options.workspaceFile, false)
      : [];
  return [...own, ...DEFAULT_PRICES];
}
