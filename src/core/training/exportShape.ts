// Telling the project's own training data from a seed file: exported rows have the shapes of the export formats
// (messages, prompt-completion, conversations, instruction-output), which no seed row has. The editor checks this
// before it flags a JSONL file's rows as bad seeds, wherever the file was saved and whatever its name.
import { EXPORT_FORMATS, EXPORT_ROW_SCHEMAS, type ExportFormat } from './export';

/** How many rows are looked at: an export is all of one shape, so its first rows say it. */
export const EXPORT_SNIFF_ROWS = 20;

/** The export format of a row, or undefined when the row has none of their shapes. */
export function exportFormatOfRow(row: unknown): ExportFormat | undefined {
  return EXPORT_FORMATS.find((format) => EXPORT_ROW_SCHEMAS[format].safeParse(row).success);
}

/**
 * The format of JSONL text whose first rows (up to EXPORT_SNIFF_ROWS non-blank lines) are all rows of one export
 * format; undefined for anything else (a seed file, a broken line, an empty file).
 */
export function exportFormatOfText(text: string): ExportFormat | undefined {
  let format: ExportFormat | undefined;
  let seen = 0;
  let start = 0;
  while (seen < EXPORT_SNIFF_ROWS && start < text.length) {
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end === -1 ? text.length : end).trim();
    start = end === -1 ? text.length : end + 1;
    if (line === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line.charCodeAt(0) === 0xfeff ? line.slice(1) : line);
    } catch {
      return undefined;
    }
    const rowFormat = exportFormatOfRow(row);
    if (rowFormat === undefined || (format !== undefined && rowFormat !== format)) return undefined;
    format = rowFormat;
    seen++;
  }
  return format;
}

const EXPORT_NAME = new RegExp(`\\.(${EXPORT_FORMATS.join('|')})(\\.(train|val))?\\.jsonl$`, 'i');

/** Whether a file name is one an export writes by default (`<run>.openai.jsonl`, `data.trl.train.jsonl`, ...). */
export function isExportFileName(name: string): boolean {
  return EXPORT_NAME.test(name);
}
