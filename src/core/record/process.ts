// Whether the process named in a lock or a record is still the one that wrote it. A pid alone is not enough: a
// killed process whose parent has not reaped it (a zombie) still answers kill(pid, 0), and after a restart (a
// container's fresh pid namespace) the same pid may belong to another process. So a writer records its start
// stamp beside its pid, and a zombie counts as gone.
//
// What each platform gets:
// - Linux: /proc/<pid>/stat, its state (Z and X are gone) and its start time (field 22, clock ticks since boot),
//   stamped with the boot id so that a reboot never makes an old stamp match.
// - Other Unix (macOS, BSD): `ps -o stat=,lstart=`, its state and its start time to the second.
// - Windows, or where neither can be read: kill(pid, 0) alone, with no start stamp; zombies do not exist there.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** What a lock or a record keeps of the process that wrote it, to tell later whether that process still runs. */
export interface ProcessStamp {
  pid: number;
  /** Undefined: this host (records written before hosts were kept). */
  host?: string;
  /** The start stamp, where the platform gives one (see processStart). */
  start?: string;
}

/** This process's stamp, to write beside what it owns. */
export function thisProcess(): ProcessStamp & { host: string } {
  const start = processStart();
  return { pid: process.pid, host: hostname(), ...(start ? { start } : {}) };
}

/**
 * `alive`: the stamped process still runs (not a zombie, its pid not reused); `gone`: it does not; `elsewhere`: it
 * ran on another host, where this one cannot look.
 */
export function processState(stamp: ProcessStamp): 'alive' | 'gone' | 'elsewhere' {
  if (stamp.host !== undefined && stamp.host !== hostname()) return 'elsewhere';
  return isProcessAlive(stamp.pid, stamp.start) ? 'alive' : 'gone';
}

interface ProcessInfo {
  alive: boolean;
  /** Undefined where the platform cannot tell. */
  start?: string;
}

/** The start stamp of a live process (this one by default); undefined when gone or not knowable here. */
export function processStart(pid: number = process.pid): string | undefined {
  const info = inspect(pid);
  return info.alive ? info.start : undefined;
}

/**
 * True while `pid` runs and is not a zombie, and, when `start` is given and both stamps can be read the same way,
 * has that start stamp (a different one means the pid was reused).
 */
export function isProcessAlive(pid: number, start?: string): boolean {
  const info = inspect(pid);
  if (!info.alive) return false;
  if (start === undefined || info.start === undefined || kindOf(start) !== kindOf(info.start)) return true;
  return start === info.start;
}

function kindOf(stamp: string): string {
  return stamp.slice(0, stamp.indexOf(':') + 1);
}

function inspect(pid: number): ProcessInfo {
  if (!Number.isInteger(pid) || pid <= 0) return { alive: false };
  if (!killZero(pid)) return { alive: false };
  if (process.platform === 'linux') {
    const linux = fromProc(pid);
    if (linux) return linux;
  } else if (process.platform !== 'win32') {
    const unix = fromPs(pid);
    if (unix) return unix;
  }
  return { alive: true };
}

function killZero(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let bootId: string | undefined;

function linuxBootId(): string {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootId = '';
    }
  }
  return bootId;
}

/** Undefined when /proc cannot tell (not mounted, or the process is hidden from this user). */
function fromProc(pid: number): ProcessInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so the fields start after the last `)`.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTicks = fields[19];
  if (state === 'Z' || state === 'X' || state === 'x') return { alive: false };
  return startTicks ? { alive: true, start: `linux:${linuxBootId()}:${startTicks}` } : { alive: true };
}

function fromPs(pid: number): ProcessInfo | undefined {
  let out: string;
  try {
    out = execFileSync('ps', ['-o', 'stat=,lstart=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 2000,
      env: { ...process.env, LC_ALL: 'C' },
    });
  } catch (error) {
    // ps exits 1 when no such process; anything else (no ps at all) leaves kill(0)'s answer.
    return (error as { status?: unknown }).status === 1 ? { alive: false } : undefined;
  }
  const line = out.trim();
  if (line === '') return { alive: false };
  const [state = '', ...start] = line.split(/\s+/);
  if (state.startsWith('Z')) return { alive: false };
  return start.length > 0 ? { alive: true, start: `ps:${start.join(' ')}` } : { alive: true };
}
