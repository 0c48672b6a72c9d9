// Skipped rows are never silent: before a run on a seed file with bad rows, the editor says how many of its rows the
// run would skip and asks whether to run anyway or to see them first (the Problems panel lists each on its line).
import * as vscode from 'vscode';
import type { SeedProblem } from '../../core/base/types';
import { Refusal } from '../platform/commandResult';
import { skippedRowsQuestion } from './present';

export const RUN_ANYWAY = 'Run Anyway';
export const SHOW_PROBLEMS = 'Show Problems';

/** Resolves when the run may start; declines as cancelled when the user chose to see the rows, or closed the question. */
export async function askAboutSkippedRows(file: vscode.Uri, rows: { skipped: number; total: number; first: readonly SeedProblem[] }): Promise<void> {
  const question = skippedRowsQuestion(file.fsPath, rows.skipped, rows.total, rows.first);
  const choice = await vscode.window.showWarningMessage(question.message, { modal: true, detail: question.detail }, RUN_ANYWAY, SHOW_PROBLEMS);
  if (choice === RUN_ANYWAY) return;
  if (choice === SHOW_PROBLEMS) {
    // Opened, the file gets its diagnostics; the panel shows them.
    await vscode.window.showTextDocument(file, { preview: false });
    await vscode.commands.executeCommand('workbench.actions.view.problems');
  }
  throw new Refusal('cancelled');
}
