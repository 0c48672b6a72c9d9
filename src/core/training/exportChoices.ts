// An export as the editor offers it: the format (from an argument or a list), three choices, a default file, and
// the question and report around it. Planning and writing are export.ts's; this is the part that decides options.
import * as path from 'node:path';
import { EXPORT_FORMATS, type ExportFormat, type ExportOptions, type ExportProtection, type ExportSummary } from './export';

/** What each format is for, as the list of formats says it. */
export const EXPORT_FORMAT_DETAILS: Record<ExportFormat, string> = {
  openai: 'OpenAI chat fine-tuning (messages)',
  trl: 'TRL SFTTrainer, conversational prompt-completion',
  sharegpt: 'ShareGPT, with a LLaMA-Factory dataset_info.json entry',
  alpaca: 'Alpaca (instruction, input, output)',
};

/** The share of the seeds held out for validation when the user asks for a split. */
export const HOLD_OUT_FRACTION = 0.1;

export interface ExportChoices {
  /** Train on the full sample, thinking included (the method's default). */
  keepThinking: boolean;
  /** Accepted or rejected by hand in the review. */
  applyOverrides: boolean;
  /** Hold out HOLD_OUT_FRACTION of the seeds for validation. */
  holdOut: boolean;
}

/** What an export without questions (a command given its output file) does. */
export const DEFAULT_EXPORT_CHOICES: ExportChoices = { keepThinking: true, applyOverrides: true, holdOut: false };

/** The format a command argument names; undefined for anything else. */
export function exportFormatOf(value: unknown): ExportFormat | undefined {
  return typeof value === 'string' && (EXPORT_FORMATS as readonly string[]).includes(value) ? (value as ExportFormat) : undefined;
}

export function exportOptionsOf(format: ExportFormat, out: string, choices: ExportChoices, protect: ExportProtection): ExportOptions {
  return {
    format,
    out,
    thinking: choices.keepThinking ? 'keep' : 'strip',
    applyOverrides: choices.applyOverrides,
    valFraction: choices.holdOut ? HOLD_OUT_FRACTION : 0,
    protect,
  };
}

/** `<folder>/<run>.<format>.jsonl`: the file a save dialog starts from. */
export function defaultExportFile(folder: string, runId: string, format: ExportFormat): string {
  return path.join(folder, `${runId}.${format}.jsonl`);
}

/** Asked before files that exist are replaced. */
export function replaceQuestion(existing: readonly string[], runId: string): string {
  const names = existing.map((file) => path.basename(file)).join(' and ');
  const one = existing.length === 1;
  return `${names} already ${one ? 'exists' : 'exist'}. Replace ${one ? 'it' : 'them'} with the export of ${runId}?`;
}

/** `Exported 3 examples as openai (math 2, code 1; train 3; about 1200 tokens).` */
export function exportReport(summary: ExportSummary): string {
  const domains = Object.entries(summary.perDomain).filter(([, n]) => n > 0).map(([d, n]) => `${d} ${n}`).join(', ');
  const files = summary.files.map((f) => `${f.split} ${f.rows}`).join(', ');
  return `Exported ${summary.rows} examples as ${summary.format} (${domains || 'none'}; ${files}; about ${summary.approxTokens} tokens).`;
}
