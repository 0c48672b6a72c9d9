// Export: a run's accepted answers as training data, in the format and with the options the user picks (or the
// command's arguments give), to a file they choose; files that exist are replaced only once the user says so.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeError, isSvdError } from '../../core/base/errors';
import { RunStore } from '../../core/record/store';
import { EXPORT_FORMATS, exportRun, planExport, runProtection, type ExportFormat } from '../../core/training/export';
import {
  DEFAULT_EXPORT_CHOICES,
  defaultExportFile,
  EXPORT_FORMAT_DETAILS,
  exportFormatOf,
  exportOptionsOf,
  exportReport,
  replaceQuestion,
  type ExportChoices,
} from '../../core/training/exportChoices';
import { answered, Refusal } from '../platform/commandResult';
import type { FeatureContext } from '../platform/feature';
import { pickRun } from '../runs/pickRun';

interface ChoiceItem extends vscode.QuickPickItem {
  id: keyof ExportChoices;
}

/** The three choices, ticked as an export without questions makes them. */
export function exportChoiceItems(): ChoiceItem[] {
  const ticked = DEFAULT_EXPORT_CHOICES;
  return [
    { label: 'Keep the thinking trace', detail: 'the method trains on the full sample, thinking included', picked: ticked.keepThinking, id: 'keepThinking' },
    { label: 'Apply manual overrides', detail: 'accepted / rejected by hand in the review', picked: ticked.applyOverrides, id: 'applyOverrides' },
    { label: 'Hold out 10% of the seeds for validation', detail: 'writes .train.jsonl and .val.jsonl', picked: ticked.holdOut, id: 'holdOut' },
  ];
}

/** The choices the picked items stand for: each is on exactly when its item was picked. */
export function exportChoicesOf(picked: readonly Pick<ChoiceItem, 'id'>[]): ExportChoices {
  const ids = new Set(picked.map((item) => item.id));
  return { keepThinking: ids.has('keepThinking'), applyOverrides: ids.has('applyOverrides'), holdOut: ids.has('holdOut') };
}

export function registerExportCommand(ctx: FeatureContext): void {
  ctx.command('svd.export', async (arg, formatArg, outArg) => {
    const run = await pickRun(ctx, arg, 'Run to export');
    const format =
      exportFormatOf(formatArg) ??
      answered(
        await vscode.window.showQuickPick(
          EXPORT_FORMATS.map((id) => ({ label: id as string, detail: EXPORT_FORMAT_DETAILS[id] })),
          { title: `Export ${run.runId}`, placeHolder: 'Training data format' },
        ),
      ).label as ExportFormat;
    // Given its output file, the command asks nothing (but before replacing a file).
    const interactive = typeof outArg !== 'string';
    const choices = interactive
      ? exportChoicesOf(answered(await vscode.window.showQuickPick(exportChoiceItems(), { title: `Export ${run.runId} as ${format}`, canPickMany: true, placeHolder: 'Options' })))
      : DEFAULT_EXPORT_CHOICES;
    const folder = ctx.workspaceRoot() ?? path.dirname(run.dir);
    const out = interactive
      ? answered(await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(defaultExportFile(folder, run.runId, format)), filters: { 'JSON Lines': ['jsonl'] } })).fsPath
      : (outArg as string);

    const store = RunStore.open(run.dir, { readOnly: true });
    try {
      const options = exportOptionsOf(format, out, choices, runProtection(store));
      let existing: string[];
      try {
        existing = planExport(options).existing;
      } catch (error) {
        if (!isSvdError(error)) throw error;
        // Not a setting's fault: say why the file was refused, without the settings button of other config errors.
        ctx.log.error(describeError(error));
        void vscode.window.showErrorMessage(`SVD: ${describeError(error)}`);
        throw new Refusal('refused', error, { reported: true });
      }
      if (existing.length > 0) {
        const replace = 'Replace';
        const choice = await vscode.window.showWarningMessage(replaceQuestion(existing, run.runId), { modal: true, detail: existing.join('\n') }, replace);
        if (choice !== replace) throw new Refusal('cancelled');
        options.replace = true;
      }
      const summary = exportRun(store, options);
      ctx.log.info(`exported ${summary.rows} examples of ${run.runId} to ${summary.files.map((f) => f.path).join(', ')}`);
      if (interactive) {
        void vscode.window.showInformationMessage(exportReport(summary));
        await vscode.window.showTextDocument(vscode.Uri.file(summary.files[0]!.path), { preview: true });
      }
      return summary;
    } finally {
      store.close();
    }
  });
}
