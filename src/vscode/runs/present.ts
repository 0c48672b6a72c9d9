// What the Runs view and the status bar show, as plain data and text. No `vscode` import, so plain Node tests can
// cover it; the view classes only turn these values into tree items and status bar text.
import type { Funnel, RunView, RunViewState } from '../../core/record/runview';
import type { RunManifest } from '../../core/record/store';
import { count, formatDuration } from '../../core/record/status';
import type { Progress } from '../../core/method/pipeline';
import { PURPOSES } from '../../core/base/types';
import type { RunStreamEvent } from '../../protocol/cliEvents';
import { endpointsSummary, formatEndpoints } from '../../protocol/endpoints';

// ---- runs --------------------------------------------------------------------------------------------------------

/**
 * A run as the Runs view lists it: the funnel and totals of its fold, not the seeds (a big run's view is large).
 * Not the review panel's RunSummary (src/protocol/review.ts), which is what the panel's header shows.
 */
export interface RunListing {
  state: RunViewState;
  lastMessage?: string;
  funnel: Funnel;
  wallMs: number;
  requests: number;
  cachedSamples: number;
  promptTokens: number;
  completionTokens: number;
}

export function runListing(view: RunView): RunListing {
  const listing: RunListing = {
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
    listing.requests += usage.requests;
    listing.cachedSamples += usage.cachedSamples;
    listing.promptTokens += usage.promptTokens;
    listing.completionTokens += usage.completionTokens;
  }
  if (view.lastMessage !== undefined) listing.lastMessage = view.lastMessage;
  return listing;
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

/** `3 rows skipped`. */
export function skippedRowsText(skipped: number): string {
  return `${count(skipped)} row${skipped === 1 ? '' : 's'} skipped`;
}

/**
 * The funnel as the run's child lines, each step with its share of the step before; the seed file's skipped rows
 * (never silent) after the seeds.
 */
export function funnelLines(listing: RunListing, skippedRows = 0): DetailLine[] {
  const f = listing.funnel;
  const accepted = f.acceptedFinal === f.accepted ? count(f.acceptedFinal) : `${count(f.acceptedFinal)} (${count(f.accepted)} by the method)`;
  const lines: DetailLine[] = [
    { label: 'seeds', description: `${count(f.seedsDone)} of ${count(f.seeds)} done`, icon: 'list-unordered' },
    ...(skippedRows > 0 ? [{ label: 'skipped rows', description: `${count(skippedRows)}: not usable seeds (see the seed file's Problems)`, icon: 'warning' }] : []),
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
  const cached = listing.cachedSamples > 0 ? ` · ${count(listing.cachedSamples)} from the cache` : '';
  lines.push({ label: 'requests', description: `${count(listing.requests)}${cached}`, icon: 'cloud' });
  const tokens = listing.promptTokens + listing.completionTokens;
  lines.push({
    label: 'tokens',
    description: `${count(tokens)} (${count(listing.promptTokens)} prompt · ${count(listing.completionTokens)} completion)`,
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
  listing?: RunListing;
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
    const skipped = manifest.seedFile.skippedRows ? `, ${skippedRowsText(manifest.seedFile.skippedRows)}` : '';
    lines.push(`Seed file: ${e(manifest.seedFile.path)} (${count(manifest.seedFile.rows)} seeds${skipped})`);
    lines.push(`Model: ${e(manifest.model.model)} on ${e(servedOn(manifest.model))}`);
    lines.push(`n = ${manifest.config.candidates} candidates, v = ${manifest.config.votes} votes, ${e(manifest.config.selection)}`);
    lines.push(`Created: ${e(manifest.createdAt)}`);
  }
  if (input.lineage !== undefined) {
    lines.push(`Round ${input.lineage.round}: ${e(input.lineage.model)}, trained on ${e(input.lineage.parentRun)}`);
  }
  if (input.training !== undefined) lines.push(`Training: ${e(input.training)}`);
  const listing = input.listing;
  if (listing !== undefined) {
    const f = listing.funnel;
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
      `Requests: ${count(listing.requests)} · tokens ${count(listing.promptTokens + listing.completionTokens)}`,
    );
    lines.push(`Wall time: ${formatDuration(listing.wallMs)}`);
    if (listing.lastMessage !== undefined) lines.push(`Last message: ${e(listing.lastMessage)}`);
  }
  // Two trailing spaces: a hard line break, so each fact keeps its own line.
  return lines.join('  \n');
}

// ---- pickers -----------------------------------------------------------------------------------------------------

/** `2025-03-01 14:05`, in the machine's time zone; the text as it is when it is no date. */
export function shortDate(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Where a run's model is served, in words: the server's URL or the embedded engine. */
export function servedOn(model: RunManifest['model']): string {
  return model.engine === 'embedded' ? 'the embedded engine' : (model.baseURL ?? 'a server');
}

/**
 * A run as a picker shows it beside its id, so that runs of one file are told apart by what differs, not by the hash
 * in their ids: `qwen3 · n4 v3 · finished · 2025-03-01 14:05`. One short line: a second one (the server) put a
 * hover over the row that took the picker's clicks. Where a run ran is in the Runs view's hover.
 */
export function runPickText(manifest: RunManifest, state: string): { description: string } {
  const { candidates, votes } = manifest.config;
  return { description: `${manifest.model.model} · n${candidates} v${votes} · ${state} · ${shortDate(manifest.createdAt)}` };
}

// ---- status bar ----------------------------------------------------------------------------------------------------

/** A run the status bar follows; `backend` when the embedded engine serves it (`CPU, 2 threads`, `CUDA: ...`). */
export interface StatusBarRun {
  runId: string;
  progress: Progress;
  backend?: string;
}

/**
 * `$(sync~spin) SVD 12/40 · 9 accepted`, with the number of runs in front when more than one goes and, on the
 * embedded engine, what it computes on (a first run on the CPU is slow: the user sees why at a glance).
 */
export function statusBarText(runs: readonly StatusBarRun[]): string | undefined {
  const latest = runs.at(-1);
  if (latest === undefined) return undefined;
  const p = latest.progress;
  const several = runs.length > 1 ? `${runs.length} runs · ` : '';
  const backend = latest.backend === undefined ? '' : ` · ${latest.backend}`;
  const servers = p.endpoints?.length ? ` · ${endpointsSummary(p.endpoints)}` : '';
  return `$(sync~spin) SVD ${several}${count(p.seedsDone)}/${count(p.seedsTotal)} · ${count(p.accepted)} accepted${backend}${servers}`;
}

/** Plain text (not markdown): the most recent run's pace and ETA, then the others by name. */
export function statusBarTooltip(runs: readonly StatusBarRun[]): string | undefined {
  const latest = runs.at(-1);
  if (latest === undefined) return undefined;
  const p = latest.progress;
  const eta = p.etaMs === undefined ? 'ETA after the first seed' : `ETA ${formatDuration(p.etaMs)}`;
  const lines = [
    `Self-Verified Distillation: ${latest.runId}`,
    `${count(p.seedsDone)} of ${count(p.seedsTotal)} seeds · ${count(p.accepted)} accepted · ${count(p.candidates)} candidates`,
    `${p.requestsPerSecond.toFixed(1)} req/s · ${count(p.requests)} requests · ${formatDuration(p.elapsedMs)} elapsed · ${eta}`,
  ];
  if (latest.backend !== undefined) lines.push(`Embedded engine: ${latest.backend}`);
  if (p.endpoints?.length) lines.push('Servers:', ...formatEndpoints(p.endpoints));
  const others = runs.slice(0, -1);
  if (others.length > 0) {
    lines.push(
      `Also running: ${others.map((run) => `${run.runId} (${count(run.progress.seedsDone)}/${count(run.progress.seedsTotal)})`).join(', ')}`,
    );
  }
  lines.push('Click to show the log');
  return lines.join('\n');
}

// ---- a run's notification -----------------------------------------------------------------------------------------

/** What a run's progress notification says for an event of its stream; `percent` moves the bar. Undefined: nothing. */
export function runNotification(event: RunStreamEvent): { message: string; percent?: number } | undefined {
  switch (event.type) {
    case 'start': {
      if (event.alreadyFinished) return { message: `run ${event.runId} is finished already: nothing to ask the model` };
      const skipped = event.skippedRows > 0 ? ` · ${event.skippedRows} of ${event.fileRows} rows skipped (see Problems)` : '';
      return { message: `run ${event.runId}${event.resumed ? ' (resuming)' : ''}: ${event.seedsTotal} seeds${skipped}` };
    }
    case 'progress': {
      const eta = event.etaMs === undefined ? '' : `, ETA ${formatDuration(event.etaMs)}`;
      return {
        message: `${event.seedsDone}/${event.seedsTotal} seeds, ${event.accepted} accepted${eta}`,
        percent: event.seedsTotal > 0 ? (100 * event.seedsDone) / event.seedsTotal : 0,
      };
    }
    case 'engine':
      return { message: `embedded engine ready: ${event.backend}` };
    case 'download':
      return { message: `downloading the default model: ${(event.received / 1e6).toFixed(0)}${event.total ? `/${(event.total / 1e6).toFixed(0)}` : ''} MB` };
    default:
      return undefined;
  }
}
