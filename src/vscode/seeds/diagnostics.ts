// Seed files' bad rows in the Problems panel, as the runner would skip them, updated while the file is edited.
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { describeError, isSvdError } from '../../core/base/errors';
import { readSeeds, type SeedReadOptions } from '../../core/method/seeds';
import type { SeedProblem } from '../../core/base/types';
import { Disposable } from '../platform/lifecycle';
import { EXPORT_SNIFF_ROWS } from '../../core/training/exportShape';
import { isSeedFilePath, isSeedText, seedDiagnostics, type DiagnosticSpec } from './present';

export interface SeedDiagnosticsOptions {
  /** Folders whose files are never seed files (the runs folder and the response cache). */
  excludedFolders?: () => readonly string[];
  /** How a run would read the file (a default domain, field names), so rows it accepts are not flagged. */
  seedOptions?: () => Omit<SeedReadOptions, 'file' | 'text'>;
}

const DEBOUNCE_MS = 300;
/** A big file is checked less often while typing: the wait grows with what the last check cost. */
const DEBOUNCE_COST_FACTOR = 3;
/** Beyond this, rows are counted but not listed; the Problems panel would not show more anyway. */
const MAX_DIAGNOSTICS = 1000;
const SCHEMES: ReadonlySet<string> = new Set(['file', 'untitled']);

/** Lines read to tell exported training data from seeds (see exportFormatOfText). */
const SNIFF_LINES = 2 * EXPORT_SNIFF_ROWS;

/**
 * Whether a document is a seed file, for the diagnostics and the code lenses alike (files on disk and unsaved ones):
 * its path (isSeedFilePath), then its first rows, which in the project's own exports have the export formats' shapes.
 */
export function isSeedDocument(document: vscode.TextDocument, excludedFolders: readonly string[] = []): boolean {
  if (!SCHEMES.has(document.uri.scheme) || !isSeedFilePath(document.uri.fsPath, { excludedFolders })) return false;
  return isSeedText(document.getText(new vscode.Range(0, 0, Math.min(document.lineCount, SNIFF_LINES), 0)));
}

export class SeedDiagnostics extends Disposable {
  private readonly collection = this._register(vscode.languages.createDiagnosticCollection('svd'));
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();
  /** What the last check of each document cost, to space out the next one. */
  private readonly costMs = new Map<string, number>();

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly options: SeedDiagnosticsOptions = {},
  ) {
    super();
    this._register({ dispose: () => this.pending.forEach((timer) => clearTimeout(timer)) });
    this._register(vscode.workspace.onDidOpenTextDocument((document) => void this.validate(document)));
    this._register(vscode.workspace.onDidChangeTextDocument((event) => this.schedule(event.document)));
    this._register(vscode.workspace.onDidCloseTextDocument((document) => this.forget(document.uri)));
    this.validateOpenDocuments();
  }

  /** Checks every open document again (after a setting that changes the rule or the reading changed). */
  validateOpenDocuments(): void {
    for (const document of vscode.workspace.textDocuments) void this.validate(document);
  }

  /** Checks `document` now; one that is not a seed file has its diagnostics removed. */
  async validate(document: vscode.TextDocument): Promise<void> {
    const key = document.uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.delete(key);
    if (this.isDisposed) return;
    if (document.isClosed || !isSeedDocument(document, this.options.excludedFolders?.() ?? [])) {
      this.collection.delete(document.uri);
      return;
    }
    const version = document.version;
    const started = performance.now();
    const specs = await this.check(document);
    this.costMs.set(key, performance.now() - started);
    // An edit or a close while checking makes the result stale; the edit has scheduled its own check.
    if (this.isDisposed || document.isClosed || document.version !== version) return;
    this.collection.set(document.uri, specs.map((spec) => toDiagnostic(document, spec)));
  }

  private schedule(document: vscode.TextDocument): void {
    // Edits to other files cost nothing; one that stopped being a seed file (its rows now an export's) loses its own.
    if (!isSeedDocument(document, this.options.excludedFolders?.() ?? [])) {
      this.collection.delete(document.uri);
      return;
    }
    const key = document.uri.toString();
    clearTimeout(this.pending.get(key));
    const wait = Math.max(DEBOUNCE_MS, (this.costMs.get(key) ?? 0) * DEBOUNCE_COST_FACTOR);
    this.pending.set(
      key,
      setTimeout(() => {
        this.pending.delete(key);
        void this.validate(document);
      }, wait),
    );
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.delete(key);
    this.costMs.delete(key);
    this.collection.delete(uri);
  }

  private async check(document: vscode.TextDocument): Promise<DiagnosticSpec[]> {
    const problems: SeedProblem[] = [];
    let problemCount = 0;
    let seeds = 0;
    let fatal: string | undefined;
    // The base name keeps messages short; the Problems panel already says which file.
    const options: SeedReadOptions = {
      ...this.options.seedOptions?.(),
      file: path.basename(document.uri.fsPath) || document.uri.path,
      text: document.getText(),
    };
    try {
      for await (const record of readSeeds(options)) {
        if (record.kind === 'seed') {
          seeds++;
          continue;
        }
        problemCount++;
        if (problems.length < MAX_DIAGNOSTICS) problems.push(record.problem);
      }
    } catch (error) {
      if (!isSvdError(error)) this.log.error(`seed check of ${document.uri.fsPath}: ${describeError(error)}`);
      fatal = describeError(error);
    }
    return seedDiagnostics({ seeds, problems, problemCount, ...(fatal === undefined ? {} : { fatal }) });
  }
}

function toDiagnostic(document: vscode.TextDocument, spec: DiagnosticSpec): vscode.Diagnostic {
  const line = document.lineAt(Math.min(spec.line, document.lineCount - 1));
  // The row's text, not its indentation; an empty line still gets a visible squiggle at its start.
  const range = line.isEmptyOrWhitespace
    ? line.range
    : new vscode.Range(line.lineNumber, line.firstNonWhitespaceCharacterIndex, line.lineNumber, line.range.end.character);
  const severity = spec.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning;
  const diagnostic = new vscode.Diagnostic(range, spec.message, severity);
  diagnostic.source = 'svd';
  return diagnostic;
}
