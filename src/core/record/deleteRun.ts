// Deleting a run removes its whole folder: record, overrides, training files. It is refused while anything may still
// write there, since a writer would go on appending to a folder that is gone, or make it again, half.
import * as fs from 'node:fs';
import { SvdError } from '../base/errors';
import { runLockHeld } from './runLock';
import { isRunDir } from './store';

/** What the caller knows writes the run, beyond the lock that any run process takes. */
export interface RunWriters {
  /** A run process the caller started runs it (before its lock is taken, too). */
  running: boolean;
  /** A training job writes into the run's folder (its record, log and output). */
  training: boolean;
}

/** Why the run may not be deleted now; undefined when it may. */
export function deletionRefusal(run: { runId: string; dir: string }, writers: RunWriters): SvdError | undefined {
  if (!isRunDir(run.dir)) return new SvdError('not_found', `${run.dir} holds no run (no run.json): nothing to delete.`);
  if (writers.running || runLockHeld(run.dir)) return new SvdError('run_locked', `Run ${run.runId} is going: stop it first.`);
  if (writers.training) return new SvdError('run_locked', `A training on run ${run.runId} is going: cancel it first.`);
  return undefined;
}

/** Deletes the run's folder, unless deletionRefusal says why not (checked again here: time passes while a user confirms). */
export function deleteRun(run: { runId: string; dir: string }, writers: RunWriters): void {
  const refusal = deletionRefusal(run, writers);
  if (refusal) throw refusal;
  fs.rmSync(run.dir, { recursive: true, force: true });
}

/** Removes a folder made for a run that never started (it has no run.json); true when there was one. */
export function discardUnstartedRun(dir: string): boolean {
  if (!fs.existsSync(dir) || isRunDir(dir)) return false;
  fs.rmSync(dir, { recursive: true, force: true });
  return true;
}
