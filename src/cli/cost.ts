// The price table and the cost budget on the command line: `--prices FILE` (default `.svd/prices.json`, beside the
// runs folder), `--max-cost USD`, and a run's cost as `svd status`, `svd run` and their JSON show it.
import path from 'node:path';
import type { Command } from 'commander';
import { SvdError } from '../core/base/errors';
import { priceFor, runCost, formatRunCost, formatUsd, type PriceEntry, type RunCost } from '../core/method/cost';
import { loadPriceTable } from '../core/method/costTable';
import type { RunCostOptions } from '../core/method/budget';
import type { RunView } from '../core/record/runview';

export interface CostFlags {
  prices?: string;
  maxCost?: number;
}

export function priceOptions(command: Command): void {
  command.option('--prices <file>', 'price table, JSON: {"prices": {"<model or glob>": {"promptPerMillion", "completionPerMillion", "batchDiscount"}}} (default .svd/prices.json)');
}

export function budgetOptions(command: Command): void {
  command.option('--max-cost <usd>', 'stop new requests before the run (all its sessions) would spend more than this many USD; a larger one resumes it', usdAmount('--max-cost'));
}

function usdAmount(flag: string) {
  return (value: string): number => {
    const n = Number(value.trim().replace(/^\$/, ''));
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new SvdError('bad_config', `${flag}: expected an amount of USD from 0, e.g. 2.50; got "${value}"`);
    return n;
  };
}

/** The table for runs kept in `runsDir`: the file named, else `.svd/prices.json` beside the runs folder, then defaults. */
export function priceTable(flags: CostFlags, runsDir: string): PriceEntry[] {
  return loadPriceTable({ file: flags.prices, workspaceFile: path.join(path.dirname(runsDir), 'prices.json') });
}

/** The run's price and budget for the pipeline; a budget for a model without a price is refused before any work. */
export function runCostOptions(flags: CostFlags, table: readonly PriceEntry[], model: string): RunCostOptions {
  const match = priceFor(table, model);
  if (flags.maxCost !== undefined && !match) {
    throw new SvdError(
      'bad_config',
      `--max-cost: no price for model "${model}", so its cost cannot be counted: add it to the price table (.svd/prices.json or --prices FILE)`,
    );
  }
  return { price: match?.price, ...(flags.maxCost === undefined ? {} : { maxUsd: flags.maxCost }) };
}

/** The run's cost as its record's usage says, priced by `table`. */
export function viewCost(view: Pick<RunView, 'usage' | 'funnel'>, table: readonly PriceEntry[], model: string): RunCost {
  return runCost(model, priceFor(table, model), view.usage, view.funnel.accepted);
}

/** `svd status` and `svd run` text: the cost lines, and the budget's when the run stopped at it. */
export function costLines(cost: RunCost, maxUsd?: number): string[] {
  const lines = formatRunCost(cost);
  if (maxUsd !== undefined) lines.push(`  budget ${formatUsd(maxUsd)}`);
  return lines;
}
