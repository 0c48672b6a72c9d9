// The saved experiments of a runs folder, as the editor lists them: budget sweeps (`<runs>/<sweep>/sweep.json`) and
// evaluations (`<runs>/../evals/<id>/result.json`), each with its headline figures. No `vscode` import: plain Node
// tests cover it. Files are parsed again only when their size or mtime changed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeError } from '../base/errors';
import { EVAL_RESULT, defaultEvalsDir, readEvaluation, type EvalResult } from './evaluate';
import { SWEEP_JSON, readSweep, type SweepResult } from './sweep';
import { fileStamp } from '../base/fileStamp';

export type ExperimentKind = 'sweep' | 'eval';

export interface ExperimentEntry {
  kind: ExperimentKind;
  id: string;
  /** The result file: sweep.json or result.json. */
  file: string;
  /** For the tree: the headline figures, short. */
  description: string;
  /** Lines for a tooltip or a quick pick's detail. */
  details: string[];
  /** ISO time of the last write (the file's own record, else its mtime): newest first. */
  at: string;
  /** Set when the file cannot be read or is not a result; the figures are then empty. */
  error?: string;
}

interface Cached {
  key: string;
  entry: ExperimentEntry;
}

export class ExperimentCatalog {
  private readonly cache = new Map<string, Cached>();

  /** Every sweep and evaluation saved for this runs folder, newest first. */
  list(runsDir: string): ExperimentEntry[] {
    const seen = new Set<string>();
    const entries: ExperimentEntry[] = [];
    const add = (kind: ExperimentKind, file: string) => {
      const key = fileStamp(file);
      if (key === undefined) return;
      seen.add(file);
      const cached = this.cache.get(file);
      if (cached?.key === key) {
        entries.push(cached.entry);
        return;
      }
      const entry = readEntry(kind, file);
      this.cache.set(file, { key, entry });
      entries.push(entry);
    };
    for (const dir of subfolders(runsDir)) add('sweep', path.join(dir, SWEEP_JSON));
    for (const dir of subfolders(defaultEvalsDir(runsDir))) add('eval', path.join(dir, EVAL_RESULT));
    for (const file of [...this.cache.keys()]) if (!seen.has(file)) this.cache.delete(file);
    return entries.sort((a, b) => (a.at === b.at ? a.id.localeCompare(b.id) : a.at < b.at ? 1 : -1));
  }
}

function readEntry(kind: ExperimentKind, file: string): ExperimentEntry {
  const dir = path.dirname(file);
  try {
    return kind === 'sweep' ? sweepEntry(readSweep(dir), file) : evalEntry(readEvaluation(dir), file);
  } catch (error) {
    return { kind, id: path.basename(dir), file, description: 'cannot read', details: [describeError(error)], at: mtimeOf(file), error: describeError(error) };
  }
}

export function sweepEntry(result: SweepResult, file: string): ExperimentEntry {
  return { kind: 'sweep', id: result.id, file, description: sweepHeadline(result), details: sweepDetails(result), at: result.updatedAt };
}

export function evalEntry(result: EvalResult, file: string): ExperimentEntry {
  return { kind: 'eval', id: result.id, file, description: evalHeadline(result), details: evalDetails(result), at: result.createdAt };
}

/** `9 cells · accepted 3–12 · precision 80%–100%`, with `stopped` first when it did not finish. */
export function sweepHeadline(result: SweepResult): string {
  const done = result.cells.filter((cell) => cell.state !== 'pending');
  const parts = [result.state === 'finished' ? `${result.cells.length} cells` : `stopped · ${done.length}/${result.cells.length} cells`];
  if (done.length > 0) {
    parts.push(`accepted ${range(done.map((cell) => cell.accepted), String)}`);
    const precision = done.map((cell) => cell.precision).filter((p): p is number => p !== null);
    if (result.audited && precision.length > 0) parts.push(`precision ${range(precision, percent)}`);
  }
  return parts.join(' · ');
}

export function sweepDetails(result: SweepResult): string[] {
  const cells = result.cells.filter((cell) => cell.state !== 'pending');
  // The cheapest cell among those that accepted the most: what a budget buys at the least cost.
  const most = Math.max(0, ...cells.map((cell) => cell.accepted));
  const cheapest = cells.filter((cell) => cell.accepted === most).sort((a, b) => a.requests - b.requests)[0];
  return [
    `Budget sweep of ${result.model} on ${path.basename(result.seedFile.path)}`,
    `n ∈ {${result.candidates.join(', ')}}, v ∈ {${result.votes.join(', ')}}${result.limit !== undefined ? `, first ${result.limit} seeds` : ''}`,
    ...(cheapest ? [`Most accepted (${most}) at the least cost: ${cheapest.name}, ${cheapest.requests} requests`] : []),
    `Updated ${result.updatedAt}`,
  ];
}

/** `pass@1 62.5% · 75.0% · TTC 80.0%`: per model in order, then the first test-time baseline. */
export function evalHeadline(result: EvalResult): string {
  const parts = [`pass@1 ${result.models.map((m) => percent(m.passAt1.overall.passAt1)).join(' → ')}`];
  const ttc = result.models.filter((m) => m.ttc).map((m) => percent(m.ttc!.passAt1.overall.passAt1));
  if (ttc.length > 0) parts.push(`TTC ${ttc.join(' → ')}`);
  return parts.join(' · ');
}

export function evalDetails(result: EvalResult): string[] {
  return [
    `Evaluation of ${result.models.map((m) => m.model).join(' and ')} on ${path.basename(result.seedFile.path)}`,
    `${result.questions} questions, ${result.samples} sample(s) each`,
    `Created ${result.createdAt}`,
  ];
}

/** Budget lists as typed in the editor: `1,4,8` -> [1, 4, 8]; a message when the text is not such a list. */
export function parseBudgetList(text: string, what: string, max: number): number[] | string {
  const items = text.split(',').map((item) => item.trim());
  if (items.length === 0 || items.some((item) => !/^\d+$/.test(item))) return `${what}: whole numbers separated by commas, e.g. 1,4,8`;
  const values = items.map(Number);
  const bad = values.find((value) => value < 1 || value > max);
  if (bad !== undefined) return `${what}: each value from 1 to ${max} (got ${bad})`;
  return [...new Set(values)];
}

function range(values: number[], format: (value: number) => string): string {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? format(low) : `${format(low)}–${format(high)}`;
}

function percent(value: number | null): string {
  return value === null ? '–' : `${(value * 100).toFixed(1)}%`;
}

function subfolders(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => path.join(dir, entry.name));
  } catch {
    return [];
  }
}

function mtimeOf(file: string): string {
  try {
    return fs.statSync(file).mtime.toISOString();
  } catch {
    return '';
  }
}
