// A wave's requests as JSONL files, split where batch services draw their limits (OpenAI: 50,000 requests and
// 200 MB per file). Each file is written beside its final name and renamed when complete, so a file that exists
// is whole.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AtomicFileWriter } from '../../record/atomicFile';
import type { RequestLine } from './lines';

export const MAX_LINES_PER_FILE = 50_000;
export const MAX_BYTES_PER_FILE = 200 * 1024 * 1024;
const FLUSH_BYTES = 1 << 20;

export interface WaveFileOptions {
  dir: string;
  /** File names are `<prefix>-<k>.jsonl`, k from 1. */
  prefix: string;
  maxLines?: number;
  maxBytes?: number;
}

export class WaveFiles {
  private readonly maxLines: number;
  private readonly maxBytes: number;
  private writer: AtomicFileWriter | undefined;
  private lines = 0;
  private bytes = 0;
  private total = 0;
  private readonly written: string[] = [];
  /** Lines not yet written: one write per megabyte, not per line. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly options: WaveFileOptions) {
    this.maxLines = options.maxLines ?? MAX_LINES_PER_FILE;
    this.maxBytes = options.maxBytes ?? MAX_BYTES_PER_FILE;
  }

  /** Requests written so far. */
  get count(): number {
    return this.total;
  }

  add(line: RequestLine): void {
    const data = Buffer.from(`${JSON.stringify(line)}\n`, 'utf8');
    if (this.writer && (this.lines >= this.maxLines || this.bytes + data.length > this.maxBytes)) this.closeFile();
    if (!this.writer) {
      mkdirSync(this.options.dir, { recursive: true });
      const file = path.join(this.options.dir, `${this.options.prefix}-${this.written.length + 1}.jsonl`);
      this.writer = new AtomicFileWriter(file);
      this.written.push(file);
    }
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    this.lines++;
    this.bytes += data.length;
    this.total++;
  }

  /** The files written, whole; none when no request was added. */
  finish(): string[] {
    this.closeFile();
    return [...this.written];
  }

  /** A wave given up: the file being written is removed, the finished ones stay (they are whole). */
  abort(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.writer?.abort();
    this.writer = undefined;
  }

  private flush(): void {
    if (this.pending.length > 0) this.writer?.write(Buffer.concat(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
  }

  private closeFile(): void {
    this.flush();
    this.writer?.commit();
    this.writer = undefined;
    this.lines = 0;
    this.bytes = 0;
  }
}
