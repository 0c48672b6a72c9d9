// The servers of a run spread over several, written to the run's endpoints.json every few seconds and when the
// session ends, so that `svd status` and the editor show each one's requests, errors and state from another process.
// A status snapshot, not part of the record: nothing resumes from it, and a run with one server writes none.
import path from 'node:path';
import type { z } from 'zod';
import { writeFileAtomic } from '../record/atomicFile';
import { readJsonFileIfExists } from '../record/jsonFile';
import type { EndpointStatus } from './endpoints';

export const ENDPOINTS_FILE = 'endpoints.json';

export class EndpointsSnapshot {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dir: string,
    private readonly read: () => EndpointStatus[],
    private readonly everyMs = 2000,
  ) {}

  start(): void {
    this.write();
    this.timer = setInterval(() => this.write(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.write();
  }

  private write(): void {
    try {
      writeFileAtomic(path.join(this.dir, ENDPOINTS_FILE), `${JSON.stringify({ at: new Date().toISOString(), endpoints: this.read() })}\n`);
    } catch {
      // A status line that could not be written is not worth failing the run over.
    }
  }
}

/**
 * The run's last snapshot of its servers, checked by `schema` (protocol's EndpointsSnapshotSchema, which the readers
 * share); undefined when there is none or it cannot be read: a status line is never fatal.
 */
export function readEndpointsSnapshot<T>(dir: string, schema: z.ZodType<T>): T | undefined {
  try {
    return readJsonFileIfExists(path.join(dir, ENDPOINTS_FILE), schema, 'servers snapshot');
  } catch {
    return undefined;
  }
}
