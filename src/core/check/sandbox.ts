// Runs untrusted Python (a candidate's code with its tests) where the operating system contains it: in the
// bubblewrap sandbox of isolation.ts, under the seccomp filter of seccomp.ts. Nothing here is a Python-level guard:
// the program may do anything to its own interpreter; what it cannot do is reach past the sandbox.
//
// What holds, and where it comes from:
// - files: the sandbox's root holds the interpreter, its standard library and shared libraries (read-only) and the
//   program's folder, a tmpfs of at most `diskMb` (mount namespace, tmpfs size; RLIMIT_FSIZE per file);
// - network: an empty network namespace, and no socket() at all (seccomp);
// - processes: no fork, vfork or clone of a process (seccomp), so the program is one process and its rlimits
//   (address space, CPU) count everything it does; a pid namespace, killed whole when the program ends;
// - the parent: a cleared environment, its own user namespace as an unprivileged user, no capabilities;
// - time and output: killed at the wall-clock limit, and when its output passes `outputLimit` bytes.
// Where no such sandbox can be made the program is not run, and the result says so ('unsandboxed').
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { NOT_CHECKED } from '../base/checker';
import { findIsolation, SANDBOX_DIR, environmentArgs, type Isolation } from './isolation';

export interface SandboxOptions {
  /** Wall-clock limit (default 10 s). */
  timeoutMs?: number;
  /** Address-space limit (default 512 MB). */
  memoryMb?: number;
  /** The program's folder: its whole size, over all files (default 64 MB). */
  diskMb?: number;
  /** Bytes of stdout and stderr together after which the program is stopped (default 8 MB). */
  outputLimit?: number;
  /** Text given on the program's stdin (default none: stdin is empty). */
  stdin?: string;
  signal?: AbortSignal;
  /** Python interpreter (default python3 on PATH). */
  python?: string;
}

/**
 * finished: the program ran to its end. failed: it raised (assertion: AssertionError, the tests failed; syntax:
 * it does not compile; exception: anything else; exit: it called exit before its end). killed: ended by a signal
 * (the memory limit usually). output: stopped for printing past the output limit. timeout / aborted: stopped by
 * us. unavailable: the interpreter could not be started. unsandboxed: not run, since no sandbox can be made here.
 */
export type SandboxStatus =
  | 'finished'
  | 'assertion'
  | 'syntax'
  | 'exception'
  | 'exit'
  | 'killed'
  | 'output'
  | 'timeout'
  | 'aborted'
  | 'unavailable'
  | 'unsandboxed';

export interface SandboxResult {
  status: SandboxStatus;
  /** stdout and stderr interleaved, cut to OUTPUT_KEPT (its start and its end kept). */
  output: string;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MEMORY_MB = 512;
export const DEFAULT_DISK_MB = 64;
export const DEFAULT_OUTPUT_LIMIT = 8 << 20;
const OUTPUT_KEPT = 8 * 1024;
const FILE_LIMIT_BYTES = 16 << 20;

const EXIT = { finished: 0, assertion: 3, syntax: 4, exception: 5, exit: 6 } as const;
// The sandbox's file descriptors: the seccomp filter, the program and the boot script (copied in by bwrap), and
// the pipe on which the boot script reports a real finish.
const FD = { filter: 3, program: 4, boot: 5, finished: 6 } as const;

// Sets the limits, then runs program.py as module `solution` (so that an `if __name__ == "__main__":` demo in the
// candidate does not run, as in the reference harnesses). The nonce written on FD.finished after the program's end
// tells a real finish from an `os._exit(0)`. -S: site's .pth files are skipped; of third-party packages the sandbox
// holds only those isolation.ts lets in.
const BOOT = String.raw`
import builtins, os, sys, resource, types, _sitebuiltins
builtins.exit = _sitebuiltins.Quitter('exit', 'Ctrl-D (i.e. EOF)')
builtins.quit = _sitebuiltins.Quitter('quit', 'Ctrl-D (i.e. EOF)')

def _print_exception(limit=None):
    kind, value, tb = sys.exc_info()
    try:
        # What the program printed comes before its traceback, as in a terminal.
        sys.stdout.flush()
    except BaseException:
        pass
    try:
        import traceback
        # The first frame is this file's exec(): not the program's.
        traceback.print_exception(kind, value, tb.tb_next if tb is not None and tb.tb_next is not None else tb, limit=limit)
    except BaseException:
        # Out of memory, likely: the one line that still fits.
        os.write(2, ('%s: %s\n' % (getattr(kind, '__name__', kind), value)).encode('utf-8', 'replace'))

def _limit(which, value):
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY and value > hard:
        value = hard
    resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else value + 1))

def _main():
    import json
    nonce, memory_mb, cpu_seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    # site-packages as the sandbox has it: empty but for the packages let in (isolation.ts).
    sys.path.extend(p for p in json.loads(sys.argv[4]) if p not in sys.path)
    with open('program.py', encoding='utf-8') as f:
        source = f.read()
    # Hard limits too: lowering them cannot be undone without privileges the sandbox does not have.
    _limit(resource.RLIMIT_AS, memory_mb << 20)
    _limit(resource.RLIMIT_CPU, cpu_seconds)
    _limit(resource.RLIMIT_FSIZE, ${FILE_LIMIT_BYTES})
    _limit(resource.RLIMIT_CORE, 0)
    try:
        code = compile(source, 'program.py', 'exec')
    except (SyntaxError, ValueError):
        _print_exception(0)
        sys.stderr.flush()
        os._exit(${EXIT.syntax})
    module = types.ModuleType('solution')
    module.__file__ = os.path.join(os.getcwd(), 'program.py')
    sys.modules['solution'] = module
    status = ${EXIT.finished}
    try:
        exec(code, module.__dict__)
    except AssertionError:
        _print_exception()
        status = ${EXIT.assertion}
    except SystemExit as e:
        print('the program called exit (%r) before its end' % (e.code,), file=sys.stderr)
        status = ${EXIT.exit}
    except BaseException:
        _print_exception()
        status = ${EXIT.exception}
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    if status == ${EXIT.finished}:
        try:
            os.write(${FD.finished}, nonce.encode())
        except OSError:
            pass
    os._exit(status)

_main()
`;

const interpreters = new Map<string, Promise<string>>();

/**
 * The interpreter's own path, found once per name: a version manager's shim (pyenv's is a shell script) would
 * otherwise add tens of milliseconds to every run, and the sandbox holds the interpreter, not the shim.
 */
export function resolvePython(name: string): Promise<string> {
  let resolved = interpreters.get(name);
  if (!resolved) {
    resolved = new Promise<string>((resolve) => {
      execFile(name, ['-c', 'import sys; print(sys.executable)'], { timeout: 10_000 }, (error, stdout) => {
        const found = error ? '' : stdout.trim();
        resolve(found !== '' && path.isAbsolute(found) ? found : name);
      });
    });
    interpreters.set(name, resolved);
  }
  return resolved;
}

/** How programs are contained on this machine (found once; see isolation.ts). */
export async function detectIsolation(options: Pick<SandboxOptions, 'python' | 'diskMb'> = {}): Promise<Isolation> {
  const python = await resolvePython(options.python ?? 'python3');
  return findIsolation(python, (options.diskMb ?? DEFAULT_DISK_MB) << 20);
}

/** A one-line name for the isolation, for logs and benchmarks. */
export function describeIsolation(isolation: Isolation): string {
  return isolation.kind === 'bwrap' ? 'bubblewrap (namespaces, seccomp)' : `none: ${isolation.reason}`;
}

// Process groups still running, killed if this process exits first.
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is gone already.
  }
}

function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const group of liveGroups) killGroup(group);
    });
  }
}

/** Keeps the start and the end of a long output, with a marker where it was cut; counts every byte. */
class OutputBuffer {
  private head = '';
  private tail = '';
  private dropped = 0;
  bytes = 0;

  append(chunk: string, size: number): void {
    this.bytes += size;
    const half = OUTPUT_KEPT / 2;
    if (this.head.length < half) {
      const room = half - this.head.length;
      this.head += chunk.slice(0, room);
      chunk = chunk.slice(room);
    }
    if (chunk === '') return;
    this.tail += chunk;
    if (this.tail.length > half) {
      this.dropped += this.tail.length - half;
      this.tail = this.tail.slice(this.tail.length - half);
    }
  }

  text(): string {
    return this.dropped > 0 ? `${this.head}\n[... ${this.dropped} characters cut ...]\n${this.tail}` : this.head + this.tail;
  }
}

function feed(stream: Writable | null | undefined, data: string | Buffer): void {
  if (!stream) return;
  // The sandbox may end before it reads everything (a program that ignores its stdin): that is no error here.
  stream.on('error', () => undefined);
  stream.end(data);
}

/** Runs one Python program in a fresh sandbox and reports how it ended. Never throws for the program's faults. */
export async function runPython(program: string, options: SandboxOptions = {}): Promise<SandboxResult> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const isolation = await detectIsolation(options);
  if (options.signal?.aborted) return { status: 'aborted', output: '', exitCode: null, signal: null, durationMs: 0 };
  if (isolation.kind === 'none') {
    return { status: 'unsandboxed', output: `${NOT_CHECKED} (${isolation.reason})`, exitCode: null, signal: null, durationMs: elapsed() };
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const memoryMb = options.memoryMb ?? DEFAULT_MEMORY_MB;
  const outputLimit = options.outputLimit ?? DEFAULT_OUTPUT_LIMIT;
  const nonce = randomBytes(16).toString('hex');
  const args = [
    ...isolation.args,
    '--seccomp', String(FD.filter),
    '--file', String(FD.program), `${SANDBOX_DIR}/program.py`,
    '--file', String(FD.boot), `${SANDBOX_DIR}/boot.py`,
    ...environmentArgs(),
    isolation.python, '-I', '-B', '-S', `${SANDBOX_DIR}/boot.py`, nonce, String(memoryMb), String(Math.ceil(timeoutMs / 1000) + 1),
    JSON.stringify(isolation.sitePaths),
  ];

  return new Promise((resolve) => {
    const output = new OutputBuffer();
    let finishedMark = '';
    let stoppedAs: 'timeout' | 'aborted' | 'output' | undefined;
    let settled = false;
    const child = spawn(isolation.command, args, {
      // bwrap gets no environment of ours: the sandbox's is set by --setenv alone.
      env: { PATH: '/usr/bin:/bin' },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    if (child.pid !== undefined) trackGroup(child.pid);
    // Node types only the first five pipes.
    const pipes = child.stdio as unknown as Array<Readable & Writable>;
    feed(child.stdin, options.stdin ?? '');
    feed(pipes[FD.filter], isolation.filter);
    feed(pipes[FD.program], program);
    feed(pipes[FD.boot], BOOT);
    const marker = pipes[FD.finished];
    marker?.on('data', (chunk: Buffer) => (finishedMark += chunk.toString()));
    marker?.on('error', () => undefined);

    const stop = (why: 'timeout' | 'aborted' | 'output') => {
      stoppedAs ??= why;
      killGroup(child.pid);
    };
    const collect = (chunk: Buffer) => {
      output.append(chunk.toString('utf8'), chunk.length);
      if (output.bytes > outputLimit) stop('output');
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const onAbort = () => stop('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (exitCode: number | null, signal: string | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      killGroup(child.pid);
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      for (const stream of pipes) stream?.destroy();
      const finished = finishedMark === nonce;
      let status: SandboxStatus;
      if (spawnError) status = 'unavailable';
      else if (stoppedAs) status = stoppedAs;
      else if (exitCode === EXIT.finished) status = finished ? 'finished' : 'exit';
      else if (exitCode === EXIT.assertion) status = 'assertion';
      else if (exitCode === EXIT.syntax) status = 'syntax';
      else if (exitCode === EXIT.exception) status = 'exception';
      else if (exitCode === EXIT.exit) status = 'exit';
      // bwrap reports its own setup failures and a command it cannot run with 1 and a message, before any output.
      else if (exitCode === 126 || exitCode === 127) status = 'unavailable';
      else status = 'killed';
      const text = spawnError ? `cannot start ${isolation.command}: ${spawnError.message}` : output.text();
      // bwrap passes the program's death by a signal on as 128 + the signal's number.
      const bySignal = signal ?? (exitCode !== null && exitCode > 128 && exitCode < 160 ? signalName(exitCode - 128) : null);
      resolve({ status, output: text, exitCode, signal: bySignal, durationMs: elapsed() });
    };

    child.once('error', (error) => finish(null, null, error));
    // 'close': every pipe is shut, so the output and the finish mark are complete. The pid namespace dies with the
    // program, so nothing is left to hold a pipe open.
    child.once('close', (exitCode, signal) => finish(exitCode, signal));
  });
}

function signalName(number: number): string | null {
  const names: Record<number, string> = { 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 24: 'SIGXCPU', 25: 'SIGXFSZ' };
  return names[number] ?? `signal ${number}`;
}
