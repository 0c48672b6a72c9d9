// Lenses at the top of a seed file: run the method on it, and resume or review the file's newest run.
import * as vscode from 'vscode';
import { isSeedDocument } from './diagnostics';
import { Disposable } from '../platform/lifecycle';
import { isSeedFilePath, seedLenses } from './present';

/**
 * The seed-file rule for a path (see isSeedFilePath). `anyName`: any JSON or CSV file counts, for a file the user
 * chose to run rather than one the editor merely opened.
 */
export function isSeedFile(fsPath: string, anyName = false, excludedFolders: readonly string[] = []): boolean {
  return isSeedFilePath(fsPath, { anyName, excludedFolders });
}

export interface SeedCodeLensOptions {
  /** Runs started on this seed file, newest first (RunsTreeProvider.runsForFile). */
  runsForFile: (fsPath: string) => { runId: string; state: string }[];
  /** The id of the run the current settings name for the file (what a run now would resume); undefined: unknown. */
  settingsRunId?: (fsPath: string) => Promise<string | undefined>;
  isTrusted: () => boolean;
  /** Folders whose files are never seed files (the runs folder and the response cache). */
  excludedFolders?: () => readonly string[];
}

export class SeedCodeLensProvider extends Disposable implements vscode.CodeLensProvider {
  private readonly changeEmitter = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses: vscode.Event<void> = this.changeEmitter.event;

  constructor(private readonly options: SeedCodeLensOptions) {
    super();
    // Granting trust adds the run and resume lenses.
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.refresh()));
  }

  /** Asks the editor for the lenses again (after runs changed). */
  refresh(): void {
    if (!this.isDisposed) this.changeEmitter.fire();
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (!isSeedDocument(document, this.options.excludedFolders?.() ?? [])) return [];
    const runs = document.uri.scheme === 'file' ? this.options.runsForFile(document.uri.fsPath) : [];
    // With several runs of the file, the lenses point at the one the settings name (what Run would go on with).
    const wanted = runs.length > 1 ? await this.options.settingsRunId?.(document.uri.fsPath) : undefined;
    const shown = runs.find((run) => run.runId === wanted) ?? runs[0];
    const top = new vscode.Range(0, 0, 0, 0);
    return seedLenses(this.options.isTrusted(), shown).map(
      (lens) =>
        new vscode.CodeLens(top, {
          title: lens.title,
          command: lens.command,
          tooltip: lens.tooltip,
          arguments: lens.runId === undefined ? [document.uri] : [lens.runId],
        }),
    );
  }
}
