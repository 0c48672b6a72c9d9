// The price the review's summary costs a run at: the table the setting svd.prices names, else .svd/prices.json beside
// the runs folder, then svd's defaults (as `svd run` and `svd status` take them). A table that cannot be read leaves
// the cost unknown, with a warning in the log: the review opens whatever the table says.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../../core/base/errors';
import { priceFor } from '../../core/method/cost';
import { loadPriceTable } from '../../core/method/costTable';
import type { RunPrice } from '../../protocol/reviewSeeds';

export function reviewPrice(runDir: string, model: string, log: Pick<vscode.LogOutputChannel, 'warn'>): RunPrice {
  const setting = vscode.workspace.getConfiguration('svd').get<string>('prices')?.trim();
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const file = setting ? (path.isAbsolute(setting) || !root ? setting : path.join(root, setting)) : undefined;
  try {
    const table = loadPriceTable({ file, workspaceFile: path.join(path.dirname(path.dirname(runDir)), 'prices.json') });
    const match = priceFor(table, model);
    return match ? { model, match } : { model };
  } catch (error) {
    log.warn(`the run's cost is shown as unknown: ${describeError(error)}`);
    return { model };
  }
}
