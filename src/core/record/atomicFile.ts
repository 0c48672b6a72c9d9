// Whole-file writes that readers see as the old content or the new, never a mix: a temp file beside the target,
// fsync, rename. A file that is replaced keeps its permission bits (a 0600 file stays 0600).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SvdError } from '../base/errors';
import { redactSecrets } from '../base/redact';

/** Writes `file` whole, atomically; known secrets in text are redacted (see redact.ts). */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const writer = new AtomicFileWriter(file);
  try {
    writer.write(typeof data === 'string' ? redactSecrets(data) : data);
    writer.commit();
  } catch (error) {
    writer.abort();
    throw error;
  }
}

/** Streams to a temporary file beside the target, then renames it over the target. */
export class AtomicFileWriter {
  private readonly tmp: string;
  private fd: number | undefined;

  /** The folder must exist: a write never brings back a folder someone removed. */
  constructor(private readonly target: string) {
    const dir = path.dirname(target);
    this.tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    this.fd = fs.openSync(this.tmp, 'wx');
  }

  write(data: string | Uint8Array): void {
    if (this.fd === undefined) throw new SvdError('internal', `write after close: ${this.target}`);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(this.fd, bytes, written, bytes.length - written);
  }

  commit(): void {
    if (this.fd === undefined) throw new SvdError('internal', `commit after close: ${this.target}`);
    const fd = this.fd;
    this.fd = undefined;
    try {
      const mode = existingMode(this.target);
      if (mode !== undefined) fs.fchmodSync(fd, mode);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(this.tmp, this.target);
    syncDir(path.dirname(this.target));
  }

  /** Best effort: the caller is already handling the error that led here. */
  abort(): void {
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = undefined;
    }
    try {
      fs.rmSync(this.tmp, { force: true });
    } catch {
      // nothing left to clean
    }
  }
}

/** The permission bits of the file a write replaces; undefined when there is none yet. */
function existingMode(file: string): number | undefined {
  try {
    return fs.statSync(file).mode & 0o7777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

// Makes the rename itself durable; not every platform can open a folder (Windows cannot), and there it is moot.
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
