// The run a command acts on: named by its argument (a run id, or a node of the Runs view), else picked from the
// runs the view lists that the command can act on.
import * as vscode from 'vscode';
import { isSvdError } from '../../core/base/errors';
import { resolveRunDir } from '../../core/record/store';
import { answered, Refusal } from '../platform/commandResult';
import type { FeatureContext } from '../platform/feature';
import { runPickText } from './present';
import type { RunEntry, RunNode } from './treeNodes';

export interface RunRef {
  runId: string;
  dir: string;
}

/** What a command argument says of the run: its id (a string), the run itself (a node of the view), or nothing. */
export function runArgument(arg: unknown): { runId: string } | RunRef | undefined {
  if (typeof arg === 'string' && arg) return { runId: arg };
  if (arg && typeof arg === 'object' && 'runId' in arg && 'dir' in arg && typeof arg.runId === 'string' && typeof arg.dir === 'string') {
    return { runId: arg.runId, dir: arg.dir };
  }
  return undefined;
}

export interface RunPickItem extends vscode.QuickPickItem {
  run: RunRef;
}

/** The runs to choose from, as the picker lists them: the id, then the model, n and v, the state and the date. */
export function runPickItems(entries: readonly RunEntry[]): RunPickItem[] {
  return entries.map(({ node, manifest }) => ({
    label: node.runId,
    ...runPickText(manifest, node.state),
    run: { runId: node.runId, dir: node.dir },
  }));
}

/**
 * The run of `arg`, else one the user picks among the listed runs that `filter` keeps. Declines when there is none
 * to pick (saying so) or the picker is closed; a run id that names no run is refused as not found.
 */
export async function pickRun(ctx: FeatureContext, arg: unknown, placeHolder: string, filter: (node: RunNode) => boolean = () => true): Promise<RunRef> {
  const given = runArgument(arg);
  if (given && 'dir' in given) return given;
  const runsDir = ctx.settings().runsDir;
  if (given) {
    try {
      return { runId: given.runId, dir: resolveRunDir(given.runId, runsDir) };
    } catch (error) {
      if (isSvdError(error, 'not_found')) throw new Refusal('refused', error);
      throw error;
    }
  }
  await ctx.tree.refreshNow();
  const entries = ctx.tree.runEntries().filter((entry) => filter(entry.node));
  if (entries.length === 0) {
    void vscode.window.showInformationMessage('No run to choose from.');
    throw new Refusal('nothing_to_do');
  }
  return answered(await vscode.window.showQuickPick(runPickItems(entries), { placeHolder, matchOnDescription: true })).run;
}
