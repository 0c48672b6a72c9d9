// `svd status`: a run's funnel, model usage and wall time (and, when the seeds carry gold, the audit of the judges),
// as text for people and JSON for scripts.
import { auditRun, type Audit, type Confusion } from './audit';
import { NOT_CHECKED } from '../base/checker';
import type { UsageCounts } from './events';
import { addUsage, emptyUsage, type Funnel, type RunView, type RunViewState } from './runview';
import { PURPOSES, STAGES, type Purpose } from '../base/types';
import type { RunSummary } from './streamFold';

/** A whole view, or a streamed run's summary (streamFold.ts): status reads the same figures from either. */
type Folded = RunView | RunSummary;

function auditOf(view: Folded): Audit | undefined {
  return 'seeds' in view ? auditRun(view) : view.audit;
}

export interface FunnelJson {
  state: RunViewState;
  lastMessage?: string;
  funnel: Funnel;
  usage: Record<Purpose | 'total', UsageCounts>;
  wallMs: number;
  /** Only when the run checked candidates against gold. */
  audit?: Audit;
}

/** Plain JSON-safe data for `svd status --json`; copies, so callers may mutate it. */
export function funnelJson(view: Folded): FunnelJson {
  const json: FunnelJson = {
    state: view.state,
    funnel: { ...view.funnel, invalidByReason: { ...view.funnel.invalidByReason } },
    usage: usageWithTotal(view.usage),
    wallMs: view.wallMs,
  };
  if (view.lastMessage !== undefined) json.lastMessage = view.lastMessage;
  const audit = auditOf(view);
  if (audit) json.audit = audit;
  return json;
}

export function formatFunnel(view: Folded, options: { color?: boolean } = {}): string {
  const paint = painter(options.color ?? false);
  const f = view.funnel;
  const lines: string[] = [];

  lines.push(`${paint.bold('Run')}: ${view.state}${view.lastMessage ? ` (${view.lastMessage})` : ''}`);
  lines.push(`Seeds: ${count(f.seeds)} (${count(f.seedsDone)} done, ${count(f.seedsPending)} pending)`);
  lines.push('');

  const started = 'seeds' in view ? view.seeds.filter((seed) => seed.candidates.length > 0).length : view.seedsStarted;
  const perSeed = started > 0 ? `${(f.candidates / started).toFixed(1)} per seed` : '';
  // Each step as a share of the one before, so the step that loses most stands out.
  const steps: { label: string; value: number; note: string }[] = [
    { label: 'seeds', value: f.seeds, note: '' },
    { label: 'candidates', value: f.candidates, note: perSeed },
    { label: 'valid', value: f.valid, note: percent(f.valid, f.candidates) },
    { label: 'verified', value: f.verified, note: percent(f.verified, f.valid) },
    { label: 'passed cycle', value: f.passedCycle, note: percent(f.passedCycle, f.verified) },
    { label: 'passed factuality', value: f.passedFactuality, note: percent(f.passedFactuality, f.passedCycle) },
    { label: 'passed correctness', value: f.passedCorrectness, note: percent(f.passedCorrectness, f.passedFactuality) },
    { label: 'accepted', value: f.accepted, note: percent(f.accepted, f.passedCorrectness) },
  ];
  if (f.overridden > 0 || f.acceptedFinal !== f.accepted) {
    steps.push({ label: 'accepted after overrides', value: f.acceptedFinal, note: '' });
  }
  const labelWidth = Math.max(...steps.map((step) => step.label.length));
  const valueWidth = Math.max(...steps.map((step) => count(step.value).length));
  lines.push(paint.bold('Funnel'));
  for (const step of steps) {
    const label = step.label.padEnd(labelWidth);
    const value = count(step.value).padStart(valueWidth);
    const shown = step.label.startsWith('accepted') ? paint.green(value) : value;
    lines.push(`  ${label}  ${shown}${step.note ? `  ${paint.dim(step.note)}` : ''}`.trimEnd());
  }
  lines.push('');

  const reasons = Object.entries(f.invalidByReason).sort(([a], [b]) => a.localeCompare(b));
  const invalid = f.candidates - f.valid;
  lines.push(
    `Invalid candidates: ${count(invalid)}` +
      (reasons.length > 0 ? ` (${reasons.map(([reason, n]) => `${reason} ${count(n)}`).join(', ')})` : ''),
  );
  const unparseable = `Unparseable votes: ${count(f.unparseableVotes)}`;
  lines.push(f.unparseableVotes > 0 ? paint.yellow(unparseable) : unparseable);
  lines.push(
    `Overrides: ${count(f.overridden)}` +
      ` (accepted ${count(f.acceptedFinal)} after overrides, ${count(f.accepted)} by the method)`,
  );
  const errors = `Errors: ${count(f.errors)}`;
  lines.push(f.errors > 0 ? paint.red(errors) : errors);
  lines.push('');

  const audit = auditOf(view);
  if (audit) {
    lines.push(...formatAudit(audit, paint));
    lines.push('');
  }

  const usage = usageWithTotal(view.usage);
  const header = ['', 'requests', 'prompt tokens', 'completion tokens', 'cached samples', 'retries'];
  const rows = [...PURPOSES, 'total' as const].map((purpose) => {
    const u = usage[purpose];
    return [purpose, ...[u.requests, u.promptTokens, u.completionTokens, u.cachedSamples, u.retries].map(count)];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const cell = (text: string, column: number) =>
    column === 0 ? text.padEnd(widths[0]) : text.padStart(widths[column]);
  const render = (cells: string[]) => `  ${cells.map(cell).join('  ')}`;
  lines.push(paint.bold('Model usage'));
  lines.push(paint.dim(render(header)));
  for (const row of rows) lines.push(row[0] === 'total' ? paint.bold(render(row)) : render(row));
  lines.push('');
  lines.push(`Wall time: ${formatDuration(view.wallMs)}`);
  return lines.join('\n');
}

function formatAudit(audit: Audit, paint: Painter): string[] {
  const lines = [paint.bold("Audit against the seeds' gold (the method's decisions, before overrides)")];
  const notChecked = audit.unchecked > 0 ? `, ${count(audit.unchecked)} not checked` : '';
  const right = `${count(audit.correct)} right (${percent(audit.correct, audit.checked)})`;
  lines.push(`  checked ${count(audit.checked)} valid candidates: ${right}${notChecked}`);
  if (audit.unsandboxed > 0) lines.push(paint.yellow(`  ${count(audit.unsandboxed)} coding candidates ${NOT_CHECKED} (install bubblewrap to run their tests)`));
  const header = ['', 'judged', 'passed', 'precision', 'recall', 'false accepts', 'false rejects'];
  const row = (label: string, c: Confusion) => [
    label,
    count(c.judged),
    count(c.accepted),
    ratio(c.precision),
    ratio(c.recall),
    count(c.falseAccepts),
    count(c.falseRejects),
  ];
  const rows = [...STAGES.map((stage) => row(stage, audit.stages[stage])), row('overall', audit.overall)];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((r) => r[column]!.length)));
  const render = (cells: string[]) =>
    `  ${cells.map((text, column) => (column === 0 ? text.padEnd(widths[0]!) : text.padStart(widths[column]!))).join('  ')}`;
  lines.push(paint.dim(render(header)));
  for (const r of rows) lines.push(r[0] === 'overall' ? paint.bold(render(r)) : render(r));
  return lines;
}

/** A share in [0, 1] as a percentage; `-` when it is undefined (nothing to divide by). */
export function ratio(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : `${(value * 100).toFixed(1)}%`;
}

function usageWithTotal(usage: Record<Purpose, UsageCounts>): Record<Purpose | 'total', UsageCounts> {
  const total = emptyUsage();
  const copy = {} as Record<Purpose | 'total', UsageCounts>;
  for (const purpose of PURPOSES) {
    copy[purpose] = { ...usage[purpose] };
    addUsage(total, usage[purpose]);
  }
  copy.total = total;
  return copy;
}

/** Integers with thousands separators, independent of the machine's locale. */
export function count(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : '-';
}

/** `850ms`, `12.3s`, `4m 05s`, `2h 03m 04s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return hours > 0 ? `${hours}h ${pad(minutes)}m ${pad(seconds)}s` : `${minutes}m ${pad(seconds)}s`;
}

interface Painter {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
}

function painter(color: boolean): Painter {
  const wrap = (open: number, close: number) => (text: string) =>
    color ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return { bold: wrap(1, 22), dim: wrap(2, 22), green: wrap(32, 39), yellow: wrap(33, 39), red: wrap(31, 39) };
}
