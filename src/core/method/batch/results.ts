// The answers a batch gave, kept in the run's folder (`batch/results.jsonl`) by custom_id until the pipeline records
// them: an append-only log with an offset index, so a wave of a million long answers costs positions in memory, not
// texts. Importing a file twice, or a line twice, keeps the first answer.
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { SvdError, describeError } from '../../base/errors';
import type { Sample } from '../../base/types';
import { AppendLog } from '../../record/appendLog';
import { SampleSchema } from '../../record/cache';
import { eventIdOf, parseResultLine } from './lines';

export const BATCH_DIR = 'batch';
const RESULTS_FILE = 'results.jsonl';

const ResultEntry = z.object({ c: z.string().min(1), s: SampleSchema });
type ResultEntry = z.infer<typeof ResultEntry>;

export class BatchResults {
  private constructor(private readonly log: AppendLog<ResultEntry> | undefined) {}

  /** The answers kept for the run in `runDir`; none (and nothing created) when the run has no batch folder yet. */
  static open(runDir: string, options: { create?: boolean } = {}): BatchResults {
    const dir = path.join(runDir, BATCH_DIR);
    const file = path.join(dir, RESULTS_FILE);
    if (!existsSync(file) && !options.create) return new BatchResults(undefined);
    mkdirSync(dir, { recursive: true });
    return new BatchResults(AppendLog.open(file, { schema: ResultEntry, keyOf: (entry) => entry.c }));
  }

  get size(): number {
    return this.log?.size ?? 0;
  }

  get(customId: string): Sample | undefined {
    return this.log?.read(customId)?.s;
  }

  /** False when an answer for this custom_id is kept already (the first one stays). */
  put(customId: string, sample: Sample): boolean {
    if (!this.log) throw new SvdError('internal', 'batch results opened without a file');
    return this.log.append({ c: customId, s: sample }).written;
  }

  close(): void {
    this.log?.close();
  }
}

export interface ImportCounts {
  /** Answers kept now. */
  imported: number;
  /** Answers for requests answered already (a file imported twice, a request asked twice). */
  repeated: number;
  /** Lines that carry an error or no usable answer: their requests go into the next wave. */
  failed: number;
  /** The first few reasons, `file:line: custom_id: reason`. */
  failures: string[];
}

const FAILURES_KEPT = 5;

/**
 * Reads output and error files (OpenAI's or vLLM's lines, in any order) into the run's answers. A line that is not a
 * batch result, or names a sample of another run, fails the import with its file and line; nothing of that file
 * after it is kept, and importing again is harmless.
 */
export async function importResultFiles(results: BatchResults, runId: string, files: readonly string[]): Promise<ImportCounts> {
  const counts: ImportCounts = { imported: 0, repeated: 0, failed: 0, failures: [] };
  for (const file of files) {
    let lineNo = 0;
    let lines: AsyncIterable<string>;
    try {
      const stream = createReadStream(file, { encoding: 'utf8' });
      await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
      lines = createInterface({ input: stream, crlfDelay: Infinity });
    } catch (error) {
      throw new SvdError('not_found', `cannot read ${file}: ${describeError(error)}`, { cause: error });
    }
    for await (const text of lines) {
      lineNo++;
      if (text.trim() === '') continue;
      const where = `${file}:${lineNo}`;
      const line = parseResultLine(text, where);
      if (eventIdOf(runId, line.customId) === undefined) {
        throw new SvdError('bad_config', `${where}: custom_id ${JSON.stringify(line.customId.slice(0, 120))} names no sample of run ${runId}`);
      }
      if (!line.ok) {
        counts.failed++;
        if (counts.failures.length < FAILURES_KEPT) counts.failures.push(`${where}: ${line.customId}: ${line.reason}`);
        continue;
      }
      if (results.put(line.customId, line.sample)) counts.imported++;
      else counts.repeated++;
    }
  }
  return counts;
}
