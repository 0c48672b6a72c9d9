// Runs untrusted Python (a candidate's code with its tests) in a child process that cannot reach the network,
// leave its folder, outlive its time limit, or leave anything running behind it.
//
// Layers, each covering for the others: a fresh temporary folder as cwd and HOME, an environment of PATH and LANG
// only; rlimits (address space, CPU, file size); network, pid and user namespaces through `unshare` where the kernel
// allows (the pid namespace makes the kernel kill every descendant when the program ends); a Python audit hook that
// refuses sockets, new processes and writes outside the folder; and the child's process group, killed with SIGKILL
// at the time limit.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SandboxOptions {
  /** Wall-clock limit (default 10 s). */
  timeoutMs?: number;
  /** Address-space limit (default 512 MB). */
  memoryMb?: number;
  signal?: AbortSignal;
  /** Python interpreter (default python3 on PATH). */
  python?: string;
}

/**
 * finished: the program ran to its end. failed: it raised (assertion: AssertionError, the tests failed; syntax:
 * it does not compile; exception: anything else; exit: it called exit before its end). killed: ended by a signal
 * (the memory limit usually). timeout / aborted: stopped by us. unavailable: the interpreter could not be started.
 */
export type SandboxStatus = 'finished' | 'assertion' | 'syntax' | 'exception' | 'exit' | 'killed' | 'timeout' | 'aborted' | 'unavailable';

export interface SandboxResult {
  status: SandboxStatus;
  /** stdout and stderr interleaved, cut to OUTPUT_LIMIT (its start and its end kept). */
  output: string;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MEMORY_MB = 512;
const OUTPUT_LIMIT = 8 * 1024;
// After the program's own exit, how long its pipes may stay open (only a descendant can hold them).
const CLOSE_GRACE_MS = 500;

const EXIT = { finished: 0, assertion: 3, syntax: 4, exception: 5, exit: 6 } as const;

// Sets the limits, installs the audit hook, then runs program.py as module `solution` (so that an
// `if __name__ == "__main__":` demo in the candidate does not run, as in the reference harnesses). A nonce written
// only after the program's end tells a real finish from an `os._exit(0)`. Python starts with -S: site's .pth files
// (code run at every start, 25 ms on some machines) are skipped, and site-packages are put on the path here instead.
const BOOT = String.raw`
import builtins, os, sys, resource, site, types, _sitebuiltins
sys.path.extend(p for p in site.getsitepackages() if p not in sys.path)
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
    try:
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY and value > hard:
            value = hard
        resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else value + 1))
    except (ValueError, OSError):
        pass

def _setup(memory_bytes, cpu_seconds):
    _limit(resource.RLIMIT_AS, memory_bytes)
    _limit(resource.RLIMIT_CPU, cpu_seconds)
    _limit(resource.RLIMIT_FSIZE, 16 << 20)
    _limit(resource.RLIMIT_CORE, 0)
    if os.getuid() != 0:
        # The user's processes now, plus a few: a fork bomb stops there (root ignores RLIMIT_NPROC).
        running = sum(1 for name in os.listdir('/proc') if name.isdigit())
        _limit(resource.RLIMIT_NPROC, running + 32)

ROOT = os.path.realpath(os.getcwd())
_STRICT = os.environ.get('SVD_SANDBOX_STRICT') == '1'
_REFUSED = {
    'os.fork', 'os.forkpty', 'os.system', 'os.exec', 'os.posix_spawn', 'os.spawn', 'subprocess.Popen',
    'pty.spawn', 'os.kill', 'os.killpg', 'os.setsid', 'socket.connect', 'socket.bind', 'socket.sendto',
    'socket.sendmsg', 'os.startfile', 'webbrowser.open',
}
if _STRICT:
    # Without a pid namespace a process made through ctypes could outlive the run: no ctypes at all then.
    _REFUSED |= {'ctypes.dlopen', 'ctypes.dlsym', 'ctypes.cdata', 'ctypes.call_function'}
_PATH_EVENTS = {
    'os.remove': (0,), 'os.rmdir': (0,), 'os.mkdir': (0,), 'os.rename': (0, 1), 'os.replace': (0, 1),
    'os.link': (0, 1), 'os.symlink': (1,), 'os.truncate': (0,), 'os.chmod': (0,), 'os.chown': (0,),
    'os.utime': (0,), 'shutil.rmtree': (0,), 'shutil.move': (0, 1), 'shutil.copyfile': (1,),
    'shutil.copytree': (1,),
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC

def _inside(target):
    if isinstance(target, int):
        return True
    try:
        name = os.fsdecode(os.fspath(target))
    except TypeError:
        return False
    full = os.path.realpath(name)
    if full == ROOT or full.startswith(ROOT + os.sep) or full == '/dev/null':
        return True
    # The standard streams, reached as /dev/stdout or /dev/fd/1.
    return full.startswith('/dev/fd/') or (full.startswith('/proc/') and '/fd/' in full)

def _guard(event, args):
    if event in _REFUSED:
        raise PermissionError('sandbox: %s is not allowed' % event)
    if event == 'open':
        target, mode, flags = (tuple(args) + (None, None, None))[:3]
        writing = (isinstance(mode, str) and any(c in mode for c in 'wax+')) or (isinstance(flags, int) and flags & _WRITE_FLAGS)
        if writing and not _inside(target):
            raise PermissionError('sandbox: writing outside the working folder is not allowed')
    elif event in _PATH_EVENTS:
        for i in _PATH_EVENTS[event]:
            if i < len(args) and not _inside(args[i]):
                raise PermissionError('sandbox: %s outside the working folder is not allowed' % event)

def _main():
    nonce, memory_mb, cpu_seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open('program.py', encoding='utf-8') as f:
        source = f.read()
    _setup(memory_mb << 20, cpu_seconds)
    try:
        code = compile(source, 'program.py', 'exec')
    except (SyntaxError, ValueError):
        _print_exception(0)
        sys.stderr.flush()
        os._exit(${EXIT.syntax})
    sys.addaudithook(_guard)
    module = types.ModuleType('solution')
    module.__file__ = os.path.join(ROOT, 'program.py')
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
        fd = os.open(os.path.join(ROOT, '.finished'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, nonce.encode())
        os.close(fd)
    os._exit(status)

_main()
`;

export type Isolation = 'namespaces' | 'network' | 'none';

interface Launcher {
  isolation: Isolation;
  prefix: string[];
}

let launcher: Promise<Launcher> | undefined;

/** Whether `command args...` runs and exits 0 within 5 s. */
function succeeds(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore', timeout: 5000 });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/**
 * How programs are isolated here, found once: user+network+pid namespaces, a network namespace only, or neither
 * (then the audit hook alone keeps the network out, and ctypes is refused so that no process escapes).
 */
export function detectIsolation(): Promise<Launcher> {
  launcher ??= (async () => {
    const tries: Launcher[] = [
      { isolation: 'namespaces', prefix: ['unshare', '--user', '--map-root-user', '--net', '--pid', '--fork', '--kill-child'] },
      { isolation: 'namespaces', prefix: ['unshare', '--net', '--pid', '--fork', '--kill-child'] },
      { isolation: 'network', prefix: ['unshare', '--user', '--map-root-user', '--net'] },
      { isolation: 'network', prefix: ['unshare', '--net'] },
    ];
    if (process.platform === 'linux') {
      for (const attempt of tries) {
        if (await succeeds(attempt.prefix[0]!, [...attempt.prefix.slice(1), 'true'])) return attempt;
      }
    }
    return { isolation: 'none', prefix: [] };
  })();
  return launcher;
}

const interpreters = new Map<string, Promise<string>>();

/**
 * The interpreter's own path, found once per name: a version manager's shim (pyenv's is a shell script) would
 * otherwise add tens of milliseconds to every run.
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

/** Keeps the start and the end of a long output, with a marker where it was cut. */
class OutputBuffer {
  private head = '';
  private tail = '';
  private dropped = 0;

  append(chunk: string): void {
    const half = OUTPUT_LIMIT / 2;
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

/** Runs one Python program in a fresh folder and reports how it ended. Never throws for the program's faults. */
export async function runPython(program: string, options: SandboxOptions = {}): Promise<SandboxResult> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const { isolation, prefix } = await detectIsolation();
  const python = await resolvePython(options.python ?? 'python3');
  if (options.signal?.aborted) return { status: 'aborted', output: '', exitCode: null, signal: null, durationMs: 0 };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const memoryMb = options.memoryMb ?? DEFAULT_MEMORY_MB;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-sandbox-'));
  const nonce = randomBytes(16).toString('hex');
  writeFileSync(path.join(dir, 'program.py'), program);
  writeFileSync(path.join(dir, 'boot.py'), BOOT);
  const args = ['-I', '-B', '-S', path.join(dir, 'boot.py'), nonce, String(memoryMb), String(Math.ceil(timeoutMs / 1000) + 1)];
  const [command, ...commandArgs] = prefix.length > 0 ? [...prefix, python, ...args] : [python, ...args];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    HOME: dir,
    TMPDIR: dir,
    PYTHONIOENCODING: 'utf-8',
  };
  if (isolation !== 'namespaces') env.SVD_SANDBOX_STRICT = '1';

  return new Promise((resolve) => {
    const output = new OutputBuffer();
    let stoppedAs: 'timeout' | 'aborted' | undefined;
    let settled = false;
    const child = spawn(command!, commandArgs, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid !== undefined) trackGroup(child.pid);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => output.append(chunk));
    child.stderr.on('data', (chunk: string) => output.append(chunk));

    const stop = (why: 'timeout' | 'aborted') => {
      stoppedAs ??= why;
      killGroup(child.pid);
    };
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const onAbort = () => stop('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let graceTimer: NodeJS.Timeout | undefined;

    const finish = (exitCode: number | null, signal: string | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (graceTimer) clearTimeout(graceTimer);
      options.signal?.removeEventListener('abort', onAbort);
      killGroup(child.pid);
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      child.stdout.destroy();
      child.stderr.destroy();
      let finished = false;
      try {
        finished = readFileSync(path.join(dir, '.finished'), 'utf8') === nonce;
      } catch {
        // No marker: the program did not reach its end.
      }
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // A folder the program made unreadable stays behind in the temporary folder; the result still counts.
      }
      let status: SandboxStatus;
      if (spawnError) status = 'unavailable';
      else if (stoppedAs) status = stoppedAs;
      else if (exitCode === EXIT.finished) status = finished ? 'finished' : 'exit';
      else if (exitCode === EXIT.assertion) status = 'assertion';
      else if (exitCode === EXIT.syntax) status = 'syntax';
      else if (exitCode === EXIT.exception) status = 'exception';
      else if (exitCode === EXIT.exit) status = 'exit';
      // 126/127: `unshare` could not run the interpreter.
      else if (exitCode === 126 || exitCode === 127) status = 'unavailable';
      else status = 'killed';
      const text = spawnError ? `cannot start ${python}: ${spawnError.message}` : output.text();
      resolve({ status, output: text, exitCode, signal, durationMs: elapsed() });
    };

    child.once('error', (error) => finish(null, null, error));
    child.once('exit', (exitCode, signal) => {
      // Anything the program left behind goes now; its pipes then close, unless something escaped the group.
      killGroup(child.pid);
      graceTimer = setTimeout(() => finish(exitCode, signal), CLOSE_GRACE_MS);
      child.once('close', () => finish(exitCode, signal));
    });
  });
}
