// Where untrusted programs may run: found once per interpreter, by trying the isolator for real.
//
// The one isolator is bubblewrap (`bwrap`, the sandbox Flatpak runs apps in): new user, pid, network, IPC, UTS and
// cgroup namespaces; a root that holds only the interpreter, its standard library and the shared libraries they
// load, read-only; a size-limited tmpfs as the program's folder; no capabilities; a cleared environment; and the
// seccomp filter in seccomp.ts. Where it is missing or cannot make namespaces (macOS and Windows always, some
// containers), nothing is run: the check says so, and the caller shows "not checked: no sandbox on this machine".
//
// Pyodide was measured and not chosen: in Node its FFI reaches the host (`pyodide_js.constructor.constructor(...)`
// returns a function of the host realm, so `process.env` and every Node module are one call away), so it is a
// boundary only inside another one; and a fresh interpreter per program takes about 2.5 s to load here.
import { execFile, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { seccompArch, seccompFilter } from './seccomp';

/** The program's folder inside the sandbox: its cwd, HOME and TMPDIR, and the only place it can write. */
export const SANDBOX_DIR = '/sandbox';

export interface Isolator {
  kind: 'bwrap';
  /** bwrap and the arguments that set up the sandbox, up to (not including) the command. */
  command: string;
  args: string[];
  /** The interpreter's real path, as it is inside the sandbox too. */
  python: string;
  /** The seccomp filter, handed to bwrap on an inherited file descriptor. */
  filter: Buffer;
  /** Folders the boot script puts on sys.path (where the packages let in are). */
  sitePaths: string[];
}

export interface NoIsolator {
  kind: 'none';
  /** Why no sandbox could be made here, for the log and `svd check`. */
  reason: string;
}

export type Isolation = Isolator | NoIsolator;

/**
 * Third-party packages a program may import, when installed: numpy, as the judges of AtCoder and Codeforces allow
 * it (LiveCodeBench's problems come from there). Read-only, like the standard library; nothing else of
 * site-packages is in the sandbox.
 */
export const SANDBOX_PACKAGES = ['numpy'] as const;

interface Interpreter {
  executable: string;
  /** The standard library folders (pure and platform). */
  stdlib: string[];
  /** Folders of third-party packages inside the standard library's folder, hidden again. */
  hidden: string[];
  /** The third-party folders on sys.path, where the packages let in are found. */
  site: string[];
  /** The packages let in that are installed: their folders (and the `<name>.libs` folder of a wheel's libraries). */
  packages: string[];
}

function run(command: string, args: string[], timeout = 10_000): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' }, maxBuffer: 4 << 20 }, (error, stdout, stderr) =>
      resolve({ ok: !error, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

const DESCRIBE = String.raw`
import json, os, sys, sysconfig
paths = sysconfig.get_paths()
stdlib = sorted({os.path.realpath(paths['stdlib']), os.path.realpath(paths['platstdlib'])})
site = {os.path.realpath(paths['purelib']), os.path.realpath(paths['platlib'])}
hidden = sorted(p for p in site if any(p.startswith(s + os.sep) for s in stdlib) and os.path.isdir(p))
import importlib.util
packages = []
for name in sys.argv[1:]:
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        continue
    for where in (spec.submodule_search_locations or []) if spec else []:
        where = os.path.realpath(where)
        packages.append(where)
        if os.path.isdir(where + '.libs'):
            packages.append(where + '.libs')
print(json.dumps({'executable': os.path.realpath(sys.executable), 'stdlib': stdlib, 'hidden': hidden, 'site': sorted(site), 'packages': packages}))
`;

async function describeInterpreter(python: string): Promise<Interpreter | string> {
  // Without -S: the packages let in live in site-packages.
  const found = await run(python, ['-I', '-c', DESCRIBE, ...SANDBOX_PACKAGES]);
  if (!found.ok) return `${python} could not be started${found.stderr ? `: ${found.stderr.trim().split('\n').at(-1)}` : ''}`;
  try {
    return JSON.parse(found.stdout) as Interpreter;
  } catch {
    return `${python} did not describe itself`;
  }
}

/** The folders of the shared libraries the interpreter and its extension modules load, as the loader names them. */
async function sharedLibraries(interpreter: Interpreter): Promise<string[]> {
  const objects = [interpreter.executable];
  for (const dir of interpreter.stdlib) {
    const dynload = path.join(dir, 'lib-dynload');
    if (existsSync(dynload)) {
      const listed = await run('find', [dynload, '-maxdepth', '1', '-name', '*.so']);
      objects.push(...listed.stdout.split('\n').filter((line) => line !== ''));
    }
  }
  const linked = await run('ldd', objects);
  const libraries = new Set<string>();
  for (const match of linked.stdout.matchAll(/(?:=>\s*)?(\/[^\s:]+)\s+\(0x/g)) libraries.add(match[1]!);
  if (libraries.size === 0) {
    // No ldd: the system's library folders whole, read-only.
    return ['/lib', '/lib64', '/usr/lib', '/usr/lib64'].filter((dir) => existsSync(dir));
  }
  // Their folders, not each file: one bind mount costs about 0.3 ms at every run, and a program loads few of the
  // dozens of libraries its extension modules might need. The folders hold the system's shared libraries only.
  // A folder that holds the standard library (a Python built with --enable-shared keeps libpython beside it) would
  // bring its site-packages back: there the file alone.
  const within = (inner: string, outer: string) => inner === outer || inner.startsWith(outer + path.sep);
  const binds = new Set<string>();
  for (const file of libraries) {
    const dir = path.dirname(file);
    if (interpreter.stdlib.some((stdlib) => within(file, stdlib))) continue;
    binds.add(interpreter.stdlib.some((stdlib) => within(stdlib, dir)) ? file : dir);
  }
  return [...binds];
}

function mountArgs(interpreter: Interpreter, libraries: string[], sandboxBytes: number): string[] {
  const args: string[] = [];
  const bind = (source: string, target = source) => {
    if (existsSync(source)) args.push('--ro-bind', realpathSync(source), target);
  };
  for (const library of libraries) bind(library);
  bind(interpreter.executable);
  for (const dir of interpreter.stdlib) bind(dir);
  for (const dir of interpreter.hidden) args.push('--tmpfs', dir);
  for (const dir of interpreter.packages) bind(dir);
  // The loader's cache of library paths (not secret; without it some libraries are not found).
  bind('/etc/ld.so.cache');
  for (const device of ['/dev/null', '/dev/zero', '/dev/urandom', '/dev/random']) args.push('--dev-bind', device, device);
  args.push('--proc', '/proc', '--size', String(sandboxBytes), '--tmpfs', SANDBOX_DIR);
  // The root bwrap builds is a tmpfs of its own, with no size limit: read-only once everything is mounted.
  args.push('--remount-ro', '/', '--chdir', SANDBOX_DIR);
  return args;
}

const BASE_ARGS = ['--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--clearenv'];
// As root, the program still runs as an unprivileged user: root's uid would own (and so could write) the sandbox's
// own root and /dev, and would ignore the limits that do not apply to root.
const USER_ARGS = ['--unshare-user', '--uid', '65534', '--gid', '65534'];

// The probe is the checks the sandbox promises, run in it once; any surprise means it is not used.
const PROBE = String.raw`
import os, socket, sys
assert os.getcwd() == '${SANDBOX_DIR}', os.getcwd()
assert os.getuid() != 0, 'runs as root'
assert sorted(os.environ) == ['HOME', 'LANG', 'PATH', 'PWD', 'TMPDIR'], sorted(os.environ)
open('probe', 'w').write('ok')
for target in ('/probe', '/dev/probe', '/proc/probe'):
    try:
        open(target, 'w')
    except OSError:
        pass
    else:
        raise AssertionError('could write ' + target)
for attempt in (os.fork, socket.socket):
    try:
        attempt()
    except OSError:
        pass
    else:
        os._exit(7)
print('sandbox-ok')
`;

/** The arguments for one program run: the isolator's, then the environment it gets. */
export function environmentArgs(): string[] {
  return ['--setenv', 'PATH', '/usr/bin:/bin', '--setenv', 'LANG', 'C.UTF-8', '--setenv', 'HOME', SANDBOX_DIR, '--setenv', 'TMPDIR', SANDBOX_DIR];
}

/** Spawns `python -I -S -c code` in the isolator; resolves with what it printed, or why it failed. */
function tryIsolator(isolator: Isolator, code: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      isolator.command,
      [...isolator.args, '--seccomp', '3', ...environmentArgs(), isolator.python, '-I', '-S', '-c', code],
      { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeout: 10_000 },
    );
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    (child.stdio[3] as NodeJS.WritableStream).on('error', () => undefined);
    (child.stdio[3] as NodeJS.WritableStream).end(isolator.filter);
    child.once('error', (error) => resolve({ ok: false, output: error.message }));
    child.once('close', (code) => resolve({ ok: code === 0 && output.includes('sandbox-ok'), output: output.trim() }));
  });
}

async function find(python: string, sandboxBytes: number): Promise<Isolation> {
  if (process.platform !== 'linux') return { kind: 'none', reason: `no isolator for ${process.platform} (bubblewrap is Linux only)` };
  const arch = seccompArch();
  if (!arch) return { kind: 'none', reason: `no seccomp filter for ${process.arch}` };
  const bwrap = (await run('sh', ['-c', 'command -v bwrap'])).stdout.trim();
  if (bwrap === '') return { kind: 'none', reason: 'bubblewrap (bwrap) is not installed' };
  const interpreter = await describeInterpreter(python);
  if (typeof interpreter === 'string') return { kind: 'none', reason: interpreter };
  const mounts = mountArgs(interpreter, await sharedLibraries(interpreter), sandboxBytes);
  const filter = seccompFilter(arch);
  const variants = [USER_ARGS, ...(process.getuid?.() === 0 ? [] : [[]])];
  let why = '';
  for (const user of variants) {
    const isolator: Isolator = {
      kind: 'bwrap',
      command: bwrap,
      args: [...BASE_ARGS, ...user, ...mounts],
      python: interpreter.executable,
      filter,
      sitePaths: interpreter.site,
    };
    const probe = await tryIsolator(isolator, PROBE);
    if (probe.ok) return isolator;
    why = probe.output.split('\n').at(-1) ?? '';
  }
  return { kind: 'none', reason: `bubblewrap cannot make a sandbox here${why ? ` (${why})` : ''}` };
}

const found = new Map<string, Promise<Isolation>>();

/** The sandbox for programs run by `python` with a folder of `sandboxBytes`, found once per pair. */
export function findIsolation(python: string, sandboxBytes: number): Promise<Isolation> {
  const key = `${python}\0${sandboxBytes}\0${process.env.PATH ?? ''}`;
  let isolation = found.get(key);
  if (!isolation) {
    isolation = find(python, sandboxBytes);
    found.set(key, isolation);
  }
  return isolation;
}
