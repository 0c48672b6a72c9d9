// A streamed export's rows, put back in seed-file order. A streamed fold hands seeds over as they finish, which is
// roughly but not exactly the order of the seed file; an export is written in that order. Each seed's rows go to a
// temporary file as one block, and only a few numbers per seed stay in memory, so the export's text never does.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SvdError } from '../base/errors';

interface Block<S> {
  line: number;
  order: number;
  offset: number;
  length: number;
  side: S;
}

export class SeedSpool<S> {
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'svd-export-'));
  private readonly file = path.join(this.dir, 'rows.jsonl');
  private fd: number | undefined = fs.openSync(this.file, 'wx+', 0o600);
  private readonly blocks: Block<S>[] = [];
  private end = 0;

  /** A seed's rows, already one string; `line` and `order` place the seed as foldRun does (file line, then first seen). */
  add(line: number, order: number, side: S, text: string): void {
    if (text === '') return;
    const data = Buffer.from(text, 'utf8');
    fs.writeSync(this.descriptor(), data, 0, data.length, this.end);
    this.blocks.push({ line, order, offset: this.end, length: data.length, side });
    this.end += data.length;
  }

  /** The blocks in seed-file order, read back one at a time. */
  *drain(): Generator<{ side: S; data: Buffer }> {
    this.blocks.sort((a, b) => a.line - b.line || a.order - b.order);
    for (const block of this.blocks) {
      const data = Buffer.allocUnsafe(block.length);
      let got = 0;
      while (got < block.length) {
        const n = fs.readSync(this.descriptor(), data, got, block.length - got, block.offset + got);
        if (n === 0) throw new SvdError('internal', `${this.file} was truncated while an export read it`);
        got += n;
      }
      yield { side: block.side, data };
    }
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private descriptor(): number {
    if (this.fd === undefined) throw new SvdError('internal', 'the export spool is closed');
    return this.fd;
  }
}
