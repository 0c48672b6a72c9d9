// What the editor shows of seed files, as plain data and text: which files are seed files, their rows' problems as
// diagnostics, and the lenses at the top of one. No `vscode` import, so plain Node tests cover it.
import * as path from 'node:path';
import { count } from '../../core/record/status';
import { isRunDir } from '../../core/record/store';
import { exportFormatOfText, isExportFileName } from '../../core/training/exportShape';
import type { SeedProblem } from '../../core/base/types';

// ---- which files are seed files --------------------------------------------------------------------------------

const ALWAYS_SEEDS = new Set(['.jsonl', '.ndjson']);
const SEEDS_BY_NAME = new Set(['.json', '.csv']);
/** Folders that hold tooling or the runs' own record, never seed files. */
const EXCLUDED_SEGMENTS = new Set(['.vscode', '.svd', '.git', 'node_modules']);

export interface SeedFileRule {
  /** Any JSON or CSV file counts, not only one whose name says `seed` (a file the user picked for a run). */
  anyName?: boolean;
  /** Folders whose files are never seed files: the runs folder and its cache hold JSONL that is no seed file. */
  excludedFolders?: readonly string[];
}

/**
 * JSON Lines files, and JSON or CSV files whose name says `seed`; never package.json, tsconfig*.json, anything in
 * `.vscode` (or `.svd`, `.git`, `node_modules`), a file inside one of the excluded folders, the project's own
 * outputs by their place (a run's `train/` folder) or their name (an export's `<run>.openai.jsonl`).
 */
export function isSeedFilePath(fsPath: string, rule: SeedFileRule = {}): boolean {
  const segments = fsPath.split(/[\\/]/);
  const base = segments.at(-1) ?? '';
  const lower = base.toLowerCase();
  if (segments.slice(0, -1).some((segment) => EXCLUDED_SEGMENTS.has(segment))) return false;
  if (lower === 'package.json' || (lower.startsWith('tsconfig') && lower.endsWith('.json'))) return false;
  if ((rule.excludedFolders ?? []).some((folder) => isInside(fsPath, folder))) return false;
  if (isExportFileName(lower)) return false;
  // A run's training files (its export, metrics), wherever the run's folder is.
  if (segments.at(-2) === 'train' && isRunDir(path.dirname(path.dirname(fsPath)))) return false;
  const extension = path.extname(lower);
  if (ALWAYS_SEEDS.has(extension)) return true;
  return SEEDS_BY_NAME.has(extension) && (rule.anyName === true || lower.includes('seed'));
}

/**
 * Whether a seed-file candidate's text is a seed file by its rows: JSON Lines whose first rows all have one export
 * format's shape are training data this project wrote (or one like it), not seeds.
 */
export function isSeedText(text: string): boolean {
  return exportFormatOfText(text) === undefined;
}

function isInside(file: string, folder: string): boolean {
  const relative = path.relative(folder, file);
  return relative.length > 0 && !relative.startsWith('..') && !path.isAbsolute(relative);
}

// ---- seed diagnostics ------------------------------------------------------------------------------------------

export type DiagnosticSeverityName = 'error' | 'warning';

export interface DiagnosticSpec {
  /** 0-based, as editors count. */
  line: number;
  message: string;
  severity: DiagnosticSeverityName;
}

export interface SeedCheck {
  seeds: number;
  /** The first problems only; `problemCount` has them all. */
  problems: readonly SeedProblem[];
  problemCount: number;
  /** Why the file as a whole cannot be read (a JSON file that is not one array). */
  fatal?: string;
}

/** A seed problem without `file:line`, which the Problems panel shows by itself. */
export function problemMessage(problem: SeedProblem): string {
  const field = problem.field === undefined ? '' : `field ${JSON.stringify(problem.field)}: `;
  return `${field}${problem.message}`;
}

/** A warning per skipped row on its line; an error on the first line when the file has no usable row at all. */
export function seedDiagnostics(check: SeedCheck): DiagnosticSpec[] {
  const specs: DiagnosticSpec[] = check.problems.map((problem) => ({
    line: Math.max(0, problem.line - 1),
    message: problemMessage(problem),
    severity: 'warning',
  }));
  if (check.fatal !== undefined) {
    specs.unshift({ line: 0, message: check.fatal, severity: 'error' });
  } else if (check.seeds === 0) {
    const rows = check.problemCount === 1 ? '1 row' : `${count(check.problemCount)} rows`;
    const message =
      check.problemCount === 0 ? 'no seed rows in the file' : `no usable seed row (${rows} skipped)`;
    specs.unshift({ line: 0, message, severity: 'error' });
  }
  const unlisted = check.problemCount - check.problems.length;
  if (unlisted > 0) {
    const rows = unlisted === 1 ? '1 more row is' : `${count(unlisted)} more rows are`;
    specs.push({ line: 0, message: `${rows} skipped (not listed)`, severity: 'warning' });
  }
  return specs;
}

/** The question before a run on a file with bad rows: how many of its rows the run skips, and the first of them. */
export function skippedRowsQuestion(file: string, skipped: number, rows: number, first: readonly SeedProblem[]): { message: string; detail: string } {
  const name = path.basename(file);
  const message = `${count(skipped)} of ${count(rows)} rows of ${name} are no usable seeds: the run will skip them.`;
  const listed = first.map((problem) => `line ${problem.line}: ${problemMessage(problem)}`);
  if (skipped > first.length) listed.push(`… and ${count(skipped - first.length)} more`);
  return { message, detail: [...listed, '', 'Show Problems lists each on its line.'].join('\n') };
}

// ---- code lenses ---------------------------------------------------------------------------------------------------

export interface LensSpec {
  title: string;
  command: 'svd.run' | 'svd.resume' | 'svd.openReview';
  tooltip: string;
  /** The run the command acts on; absent for `svd.run`, which takes the document. */
  runId?: string;
}

const RESUMABLE: ReadonlySet<string> = new Set(['stopped', 'failed']);

/** Run on this file; resume or review its newest run. An untrusted workspace may only review. */
export function seedLenses(trusted: boolean, newest: { runId: string; state: string } | undefined): LensSpec[] {
  const lenses: LensSpec[] = [];
  if (trusted) {
    lenses.push({
      title: '$(play) Run Self-Verified Distillation',
      command: 'svd.run',
      tooltip: 'Generate candidates for these seeds and let the model verify them',
    });
  }
  if (newest !== undefined) {
    if (trusted && RESUMABLE.has(newest.state)) {
      lenses.push({
        title: `$(debug-continue) Resume ${newest.runId}`,
        command: 'svd.resume',
        tooltip: `Resume run ${newest.runId} (${newest.state})`,
        runId: newest.runId,
      });
    }
    lenses.push({
      title: `$(preview) Review ${newest.runId}`,
      command: 'svd.openReview',
      tooltip: `Review run ${newest.runId} (${newest.state})`,
      runId: newest.runId,
    });
  }
  return lenses;
}
