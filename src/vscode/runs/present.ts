// What the VS Code views show, as plain data and text. No `vscode` import here, so plain Node tests can cover it;
// the view classes only turn these values into tree items, diagnostics, lenses and status bar text.
import * as path from 'node:path';
import type { Funnel, RunView, RunViewState } from '../../core/record/runview';
import type { RunManifest } from '../../core/record/store';
import { count, formatDuration } from '../../core/record/status';
import type { Progress } from '../../core/method/pipeline';
import { PURPOSES, type SeedProblem } from '../../core/base/types';

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
 * `.vscode` (or `.svd`, `.git`, `node_modules`), or a file inside one of the excluded folders.
 */
export function isSeedFilePath(fsPath: string, rule: SeedFileRule = {}): boolean {
  const segments = fsPath.split(/[\\/]/);
  const base = segments.at(-1) ?? '';
  const lower = base.toLowerCase();
  if (segments.slice(0, -1).some((segment) => EXCLUDED_SEGMENTS.has(segment))) return false;
  if (lower === 'package.json' || (lower.startsWith('tsconfig') && lower.endsWith('.json'))) return false;
  if ((rule.excludedFolders ?? []).some((folder) => isInside(fsPath, folder))) return false;
  const extension = path.extname(lower);
  if (ALWAYS_SEEDS.has(extension)) return true;
  return SEEDS_BY_NAME.has(extension) && (rule.anyName === true || lower.includes('seed'));
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

// ---- runs --------------------------------------------------------------------------------------------------------

/** What the runs view keeps of a folded run: the funnel and totals, not the seeds (a big run's view is large). */
export interface RunSummary {
  state: RunViewState;
  lastMessage?: string;
  funnel: Funnel;
  wallMs: number;
  requests: number;
  cachedSamples: number;
  promptTokens: number;
  completionTokens: number;
}

export function summarizeRun(view: RunView): RunSummary {
  const summary: RunSummary = {
    state: view.state,
    funnel: { ...view.funnel, invalidByReason: { ...view.funnel.invalidByReason } },
    wallMs: view.wallMs,
    requests: 0,
    cachedSamples: 0,
    promptTokens: 0,
    completionTokens: 0,
  };
  for (const purpose of PURPOSES) {
    const usage = view.usage[purpose];
    summary.requests += usage.requests;
    summary.cachedSamples += usage.cachedSamples;
    summary.promptTokens += usage.promptTokens;
    summary.completionTokens += usage.completionTokens;
  }
  if (view.lastMessage !== undefined) summary.lastMessage = view.lastMessage;
  return summary;
}

export interface DisplayState {
  state: RunViewState;
  /** The record says running but no process writes it: it ended without a word (a crash, a closed window). */
  interrupted: boolean;
}

/**
 * What a run's state is now. A process of this extension running it wins over the record; a record that says
 * running with no live lock holder was interrupted, and shows as stopped so that it can be resumed.
 */
export function displayState(recorded: RunViewState, live: { process: boolean; lock: boolean }): DisplayState {
  if (live.process) return { state: 'running', interrupted: false };
  if (recorded === 'running' || recorded === 'new') {
    if (live.lock) return { state: 'running', interrupted: false };
    if (recorded === 'running') return { state: 'stopped', interrupted: true };
  }
  return { state: recorded, interrupted: false };
}

/** `running · 12/40 seeds · 9 accepted` */
export function runDescription(display: DisplayState, funnel: Funnel): string {
  const state = display.interrupted ? 'interrupted' : display.state;
  return `${state} · ${count(funnel.seedsDone)}/${count(funnel.seeds)} seeds · ${count(funnel.acceptedFinal)} accepted`;
}

export interface DetailLine {
  label: string;
  description: string;
  /** A codicon id. */
  icon: string;
}

function share(part: number, whole: number): string {
  return whole > 0 ? ` · ${((part / whole) * 100).toFixed(0)}%` : '';
}

/** The funnel as the run's child lines, each step with its share of the step before. */
export function funnelLines(summary: RunSummary): DetailLine[] {
  const f = summary.funnel;
  const accepted = f.acceptedFinal === f.accepted ? count(f.acceptedFinal) : `${count(f.acceptedFinal)} (${count(f.accepted)} by the method)`;
  const lines: DetailLine[] = [
    { label: 'seeds', description: `${count(f.seedsDone)} of ${count(f.seeds)} done`, icon: 'list-unordered' },
    { label: 'candidates', description: count(f.candidates), icon: 'lightbulb' },
    { label: 'valid', description: `${count(f.valid)}${share(f.valid, f.candidates)}`, icon: 'check' },
    { label: 'passed cycle', description: `${count(f.passedCycle)}${share(f.passedCycle, f.verified)}`, icon: 'sync' },
    {
      label: 'passed factuality',
      description: `${count(f.passedFactuality)}${share(f.passedFactuality, f.passedCycle)}`,
      icon: 'book',
    },
    {
      label: 'passed correctness',
      description: `${count(f.passedCorrectness)}${share(f.passedCorrectness, f.passedFactuality)}`,
      icon: 'verified',
    },
    { label: 'accepted', description: accepted, icon: 'pass-filled' },
  ];
  if (f.errors > 0) lines.push({ label: 'errors', description: count(f.errors), icon: 'error' });
  if (f.unparseableVotes > 0) {
    lines.push({ label: 'unparseable votes', description: count(f.unparseableVotes), icon: 'question' });
  }
  const cached = summary.cachedSamples > 0 ? ` · ${count(summary.cachedSamples)} from the cache` : '';
  lines.push({ label: 'requests', description: `${count(summary.requests)}${cached}`, icon: 'cloud' });
  const tokens = summary.promptTokens + summary.completionTokens;
  lines.push({
    label: 'tokens',
    description: `${count(tokens)} (${count(summary.promptTokens)} prompt · ${count(summary.completionTokens)} completion)`,
    icon: 'symbol-number',
  });
  return lines;
}

/**
 * Backslash before every ASCII punctuation character (CommonMark lets any of them be escaped), newlines flattened:
 * text from a run (model names, messages that may quote a server or a model) renders as text, never as markup.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[!-/:-@[-`{-~]/g, '\\$&').replace(/\r?\n|\r/g, ' ');
}

export interface RunTooltipInput {
  runId: string;
  manifest?: RunManifest;
  display: DisplayState;
  summary?: RunSummary;
  error?: string;
  /** For a later round: the run whose trained model this run uses. */
  lineage?: { parentRun: string; round: number; model: string };
  /** The latest training on this run, in words. */
  training?: string;
}

/** Markdown for a run's hover; every value from the run is escaped. */
export function runTooltipMarkdown(input: RunTooltipInput): string {
  const e = escapeMarkdown;
  const lines: string[] = [`**${e(input.runId)}** · ${e(input.display.interrupted ? 'interrupted' : input.display.state)}`];
  if (input.error !== undefined) lines.push(`Cannot read this run: ${e(input.error)}`);
  const manifest = input.manifest;
  if (manifest !== undefined) {
    lines.push(`Seed file: ${e(manifest.seedFile.path)} (${count(manifest.seedFile.rows)} rows)`);
    const where = manifest.model.engine === 'embedded' ? 'embedded engine' : (manifest.model.baseURL ?? 'server');
    lines.push(`Model: ${e(manifest.model.model)} (${e(where)})`);
    lines.push(`n = ${manifest.config.candidates} candidates, v = ${manifest.config.votes} votes, ${e(manifest.config.selection)}`);
    lines.push(`Created: ${e(manifest.createdAt)}`);
  }
  if (input.lineage !== undefined) {
    lines.push(`Round ${input.lineage.round}: ${e(input.lineage.model)}, trained on ${e(input.lineage.parentRun)}`);
  }
  if (input.training !== undefined) lines.push(`Training: ${e(input.training)}`);
  const summary = input.summary;
  if (summary !== undefined) {
    const f = summary.funnel;
    lines.push(
      `Seeds: ${count(f.seedsDone)} of ${count(f.seeds)} done · candidates ${count(f.candidates)} · valid ${count(f.valid)}`,
    );
    lines.push(
      `Passed: cycle ${count(f.passedCycle)} · factuality ${count(f.passedFactuality)} · correctness ${count(f.passedCorrectness)}`,
    );
    lines.push(
      `Accepted: ${count(f.acceptedFinal)}` + (f.acceptedFinal === f.accepted ? '' : ` (${count(f.accepted)} by the method)`),
    );
    if (f.errors > 0 || f.unparseableVotes > 0) {
      lines.push(`Errors: ${count(f.errors)} · unparseable votes: ${count(f.unparseableVotes)}`);
    }
    lines.push(
      `Requests: ${count(summary.requests)} · tokens ${count(summary.promptTokens + summary.completionTokens)}`,
    );
    lines.push(`Wall time: ${formatDuration(summary.wallMs)}`);
    if (summary.lastMessage !== undefined) lines.push(`Last message: ${e(summary.lastMessage)}`);
  }
  // Two trailing spaces: a hard line break, so each fact keeps its own line.
  return lines.join('  \n');
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

// ---- status bar ----------------------------------------------------------------------------------------------------

/** `$(sync~spin) SVD 12/40 · 9 accepted`, with the number of runs in front when more than one goes. */
export function statusBarText(runs: readonly { runId: string; progress: Progress }[]): string | undefined {
  const latest = runs.at(-1);
  if (latest === undefined) return undefined;
  const p = latest.progress;
  const several = runs.length > 1 ? `${runs.length} runs · ` : '';
  return `$(sync~spin) SVD ${several}${count(p.seedsDone)}/${count(p.seedsTotal)} · ${count(p.accepted)} accepted`;
}

/** Plain text (not markdown): the most recent run's pace and ETA, then the others by name. */
export function statusBarTooltip(runs: readonly { runId: string; progress: Progress }[]): string | undefined {
  const latest = runs.at(-1);
  if (latest === undefined) return undefined;
  const p = latest.progress;
  const eta = p.etaMs === undefined ? 'ETA after the first seed' : `ETA ${formatDuration(p.etaMs)}`;
  const lines = [
    `Self-Verified Distillation: ${latest.runId}`,
    `${count(p.seedsDone)} of ${count(p.seedsTotal)} seeds · ${count(p.accepted)} accepted · ${count(p.candidates)} candidates`,
    `${p.requestsPerSecond.toFixed(1)} req/s · ${count(p.requests)} requests · ${formatDuration(p.elapsedMs)} elapsed · ${eta}`,
  ];
  const others = runs.slice(0, -1);
  if (others.length > 0) {
    lines.push(
      `Also running: ${others.map((run) => `${run.runId} (${count(run.progress.seedsDone)}/${count(run.progress.seedsTotal)})`).join(', ')}`,
    );
  }
  lines.push('Click to show the log');
  return lines.join('\n');
}
