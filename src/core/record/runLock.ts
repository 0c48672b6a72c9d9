// The run lock: `<run>/run.lock` names the one process that writes the run's record. Anyone may read it to tell
// whether a run is being written (the runs view does); only the run store takes and releases it. A lock whose
// process is gone (dead, a zombie, or its pid reused since: see process.ts) is stale and is taken over.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { SvdError } from '../base/errors';
import { processState, thisProcess } from './process';

export const RUN_LOCK_FILE = 'run.lock';

/** `start`: the holder's start stamp (see process.ts), so that a reused pid is not taken for the holder. */
const LockSchema = z.object({ pid: z.number().int(), host: z.string(), at: z.string(), start: z.string().optional() });
export type RunLockHolder = z.infer<typeof LockSchema>;

export function runLockFile(runDir: string): string {
  return path.join(runDir, RUN_LOCK_FILE);
}

/** Undefined when there is no lock, or none that can be read (a stale lock: it is taken over). */
export function readRunLock(runDir: string): RunLockHolder | undefined {
  return readLock(runLockFile(runDir));
}

/** Whether a live process holds the run's lock. A lock from another host cannot be checked and counts as held. */
export function runLockHeld(runDir: string): boolean {
  const holder = readRunLock(runDir);
  return holder !== undefined && !isStale(holder);
}

/**
 * Claims the run for this process. A stale lock is taken over.
 * @throws SvdError('run_locked') naming the process that holds it.
 */
export function takeRunLock(runDir: string, runId: string): void {
  const file = runLockFile(runDir);
  const me = thisProcess();
  const mine: RunLockHolder = { pid: me.pid, host: me.host, at: new Date().toISOString(), ...(me.start ? { start: me.start } : {}) };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (claimFile(file, `${JSON.stringify(mine)}\n`)) return;
    const holder = readLock(file);
    if (holder && !isStale(holder)) {
      const where = holder.host === mine.host ? '' : ` on ${holder.host}`;
      throw new SvdError('run_locked', `run ${runId} is being written by process ${holder.pid}${where} (remove ${file} if that process is gone)`);
    }
    removeStaleLock(file);
  }
  throw new SvdError('internal', `cannot take the lock ${file}: other processes keep claiming it`);
}

/** Releases this process's lock; a lock another process took over is left alone. */
export function releaseRunLock(runDir: string): void {
  const file = runLockFile(runDir);
  const holder = readLock(file);
  const me = thisProcess();
  if (holder?.pid === me.pid && holder.host === me.host) fs.rmSync(file, { force: true });
}

function readLock(file: string): RunLockHolder | undefined {
  try {
    const result = LockSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

/** A zombie, or a live process that started after the lock was written (its pid reused), holds nothing. */
function isStale(holder: RunLockHolder): boolean {
  return processState(holder) === 'gone';
}

/**
 * Creates `file` with `content` unless it exists. Linking a complete temp file into place means no reader ever sees
 * the lock empty or half written (and mistakes it for a stale one).
 */
function claimFile(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, content, { flag: 'wx' });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  // A file system without hard links: an exclusive create is the next best thing.
  try {
    fs.writeFileSync(file, content, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Moves the stale lock aside before deleting it, then checks what was moved: if a racing process had already
 * replaced it with a live lock, that lock is put back rather than lost.
 */
function removeStaleLock(file: string): void {
  const aside = `${file}.${process.pid}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = readLock(aside);
  if (moved && !isStale(moved)) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // Someone claimed it again meanwhile; the next attempt reads that claim.
    }
  }
  fs.rmSync(aside, { force: true });
}
