// The sandbox under attack: each program of the escape corpus tries to reach outside (files, sockets, processes,
// the parent's secrets, the machine's memory and disk) and must have no effect there, in every isolation mode the
// code has: bubblewrap, no isolator on PATH, and an isolator that cannot make namespaces (where nothing runs).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CodeRunner } from '../../src/core/check/code';
import { NOT_CHECKED } from '../../src/core/base/checker';
import { describeIsolation, detectIsolation, resolvePython, runPython, type SandboxResult } from '../../src/core/check/sandbox';
import { isSvdError } from '../../src/core/base/errors';

const SECRET = `sk-parent-${randomBytes(8).toString('hex')}`;
const FILE_SECRET = `file-secret-${randomBytes(8).toString('hex')}`;

/** Processes whose name (/proc/PID/comm) starts with `tag`. */
function processesNamed(tag: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').startsWith(tag)) found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (condition()) return true;
    await sleep(50);
  }
  return condition();
}

/** What the attacks aim at, made fresh for each mode: a folder outside, listeners, a secret file. */
interface Targets {
  outside: string;
  secretFile: string;
  tcpPort: number;
  udpPort: number;
  unixPath: string;
  abstractName: string;
  hits: { tcp: number; udp: number; unix: number; abstract: number };
  close(): Promise<void>;
}

async function makeTargets(): Promise<Targets> {
  const outside = mkdtempSync(path.join(os.tmpdir(), 'svd-outside-'));
  chmodSync(outside, 0o777);
  const secretFile = path.join(outside, 'secret.txt');
  writeFileSync(secretFile, FILE_SECRET, { mode: 0o644 });
  const hits = { tcp: 0, udp: 0, unix: 0, abstract: 0 };
  const tcp = net.createServer((socket) => {
    hits.tcp++;
    socket.end();
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const udp = dgram.createSocket('udp4');
  udp.on('message', () => hits.udp++);
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const unixPath = path.join(outside, 'host.sock');
  const unix = net.createServer((socket) => {
    hits.unix++;
    socket.end();
  });
  await new Promise<void>((resolve) => unix.listen(unixPath, resolve));
  chmodSync(unixPath, 0o777);
  const abstractName = `svd-abstract-${randomBytes(4).toString('hex')}`;
  const abstract = net.createServer((socket) => {
    hits.abstract++;
    socket.end();
  });
  await new Promise<void>((resolve) => abstract.listen(`\0${abstractName}`, resolve));
  return {
    outside,
    secretFile,
    tcpPort: (tcp.address() as net.AddressInfo).port,
    udpPort: (udp.address() as net.AddressInfo).port,
    unixPath,
    abstractName,
    hits,
    async close() {
      await Promise.all([tcp, unix, abstract].map((server) => new Promise((resolve) => server.close(resolve))));
      udp.close();
      rmSync(outside, { recursive: true, force: true });
    },
  };
}

interface Attack {
  name: string;
  /** The program, after the prelude that names the targets (OUT, TAG, ...). */
  code: string;
  timeoutMs?: number;
  /** Checks while the program runs (sampled), e.g. how many of its processes exist. */
  watch?: boolean;
  /** Extra checks on what the program printed, in a mode that ran it. */
  ran?: (result: SandboxResult) => void;
}

const WRITE_OUT = (name: string) => `open(OUT + '/${name}', 'w').write('escaped')`;

const ATTACKS: Attack[] = [
  {
    name: 'reaching the boot script through sys.modules["__main__"]',
    code: `import sys\nmain = sys.modules['__main__']\nfor key in list(vars(main)):\n    if key.startswith('_') and not key.startswith('__'):\n        setattr(main, key, lambda *a, **k: None)\n${WRITE_OUT('boot.txt')}\n`,
  },
  {
    name: "replacing a function's __code__",
    code: `import sys\nmain = sys.modules['__main__']\nfor value in list(vars(main).values()):\n    if hasattr(value, '__code__'):\n        value.__code__ = (lambda *a, **k: None).__code__\n${WRITE_OUT('code.txt')}\n`,
  },
  {
    name: '_posixsubprocess.fork_exec',
    code: [
      'import _posixsubprocess, subprocess, sys',
      '# fork_exec called directly, with the arguments this version of subprocess passes it.',
      'real = _posixsubprocess.fork_exec',
      'calls = []',
      'def direct(*args):',
      '    calls.append(len(args))',
      '    return real(*args)',
      "if hasattr(subprocess, '_fork_exec'):",
      '    subprocess._fork_exec = direct',
      'else:',
      '    _posixsubprocess.fork_exec = direct',
      'try:',
      `    subprocess.Popen([sys.executable, '-c', "open(%r, 'w').write('escaped')" % (OUT + '/fork_exec.txt')]).wait()`,
      'except OSError as e:',
      "    print('refused', e)",
      "print('fork_exec called', calls)",
    ].join('\n'),
    ran: (result) => assert.match(result.output, /refused .*\n.*fork_exec called \[\d+\]/),
  },
  {
    name: 'os.posix_spawn',
    code: `import os, sys\nos.posix_spawn(sys.executable, [sys.executable, '-c', "open(%r, 'w').write('escaped')" % (OUT + '/spawn.txt')], {})\nimport time; time.sleep(0.5)\n`,
  },
  {
    name: 'ctypes: system()',
    code: `import ctypes\nlibc = ctypes.CDLL(None)\nprint('system', libc.system(("echo escaped > %s/ctypes_system.txt" % OUT).encode()))\n`,
  },
  {
    name: 'ctypes: open() outside',
    code: `import ctypes, os\nlibc = ctypes.CDLL(None)\nfd = libc.open((OUT + '/ctypes_open.txt').encode(), os.O_WRONLY | os.O_CREAT, 0o644)\nprint('fd', fd)\nif fd >= 0:\n    libc.write(fd, b'escaped', 7)\n`,
  },
  {
    name: 'os.system',
    code: `import os\nprint('system', os.system('echo escaped > ' + OUT + '/os_system.txt'))\n`,
  },
  {
    name: 'subprocess',
    code: `import subprocess, sys\nsubprocess.run([sys.executable, '-c', "open(%r, 'w').write('escaped')" % (OUT + '/subprocess.txt')])\n`,
  },
  {
    name: 'a TCP connection to a listener on 127.0.0.1',
    code: `import socket\ns = socket.create_connection(('127.0.0.1', TCP_PORT), timeout=2)\ns.sendall(b'hello')\n`,
  },
  {
    name: 'a UDP datagram to a listener on 127.0.0.1',
    code: `import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor _ in range(5):\n    s.sendto(b'hello', ('127.0.0.1', UDP_PORT))\n`,
  },
  {
    name: "a Unix socket at a host path",
    code: `import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect(UNIX_PATH)\ns.sendall(b'hello')\n`,
  },
  {
    name: 'an abstract Unix socket',
    code: `import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('\\0' + ABSTRACT)\ns.sendall(b'hello')\n`,
  },
  {
    name: 'a file read outside the folder',
    code: `for target in (SECRET_FILE, '/etc/passwd', '/etc/shadow', '/proc/1/root' + SECRET_FILE):\n    try:\n        print(target, open(target).read())\n    except OSError as e:\n        print(target, 'refused', e)\n`,
  },
  {
    name: "/proc/*/environ and other processes",
    code: [
      'import os',
      "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:",
      '    for what in ("environ", "cmdline"):',
      '        try:',
      "            print(pid, what, open('/proc/%s/%s' % (pid, what), 'rb').read())",
      '        except OSError as e:',
      "            print(pid, what, 'refused', e)",
    ].join('\n'),
    ran: (result) => assert.doesNotMatch(result.output, /node|tsx/, 'a process of the parent is visible'),
  },
  {
    name: 'a setsid double-fork survivor',
    timeoutMs: 1500,
    code: [
      'import ctypes, os, time',
      'libc = ctypes.CDLL(None)',
      'libc.prctl(15, TAG.encode(), 0, 0, 0)',
      'for fork in (os.fork, libc.fork):',
      '    try:',
      '        pid = fork()',
      '    except OSError as e:',
      "        print('refused', e)",
      '        continue',
      '    if pid == 0:',
      '        os.setsid()',
      '        if fork() == 0:',
      '            time.sleep(2)',
      `            ${WRITE_OUT('survivor.txt')}`,
      '        os._exit(0)',
      "    print('forked', pid)",
    ].join('\n'),
  },
  {
    name: 'mkfifo outside',
    code: `import os\nos.mkfifo(OUT + '/fifo')\n`,
  },
  {
    name: 'a fork bomb',
    timeoutMs: 3000,
    watch: true,
    code: `import ctypes, os\nctypes.CDLL(None).prctl(15, TAG.encode(), 0, 0, 0)\nlibc = ctypes.CDLL(None)\nwhile True:\n    os.fork() if libc.fork() < 0 else None\n`,
  },
  {
    name: 'memory held across forks',
    timeoutMs: 3000,
    watch: true,
    code: [
      'import ctypes, os, time',
      'libc = ctypes.CDLL(None)',
      'libc.prctl(15, TAG.encode(), 0, 0, 0)',
      'children = 0',
      'for _ in range(8):',
      '    pid = libc.fork()',
      '    if pid == 0:',
      '        hold = bytearray(400 << 20)',
      '        time.sleep(10)',
      '        os._exit(0)',
      '    children += pid > 0',
      "print('children', children)",
      'hold = [bytearray(100 << 20) for _ in range(20)]',
    ].join('\n'),
    ran: (result) => assert.match(result.output, /children 0|MemoryError/),
  },
  {
    name: 'a disk filled across many files',
    timeoutMs: 8000,
    code: [
      'import os',
      'written = 0',
      'try:',
      '    for i in range(400):',
      "        with open('f%d' % i, 'wb') as f:",
      "            f.write(b'x' * (1 << 20))",
      '        written += 1',
      'except OSError as e:',
      "    print('stopped', e)",
      "print('written MB', written)",
      "for target in ('/big', '/dev/big', '/dev/shm/big', '/proc/big', OUT + '/big'):",
      '    try:',
      "        open(target, 'wb').write(b'x' * (1 << 20))",
      "        print('wrote', target)",
      '    except OSError as e:',
      "        print('refused', target)",
    ].join('\n'),
    ran: (result) => {
      const written = Number(/written MB (\d+)/.exec(result.output)?.[1]);
      assert.ok(written < 64, `wrote ${written} MB into a 64 MB folder`);
      assert.doesNotMatch(result.output, /^wrote /m);
    },
  },
];

function prelude(targets: Targets, tag: string): string {
  const names: Record<string, string | number> = {
    OUT: targets.outside,
    SECRET_FILE: targets.secretFile,
    TCP_PORT: targets.tcpPort,
    UDP_PORT: targets.udpPort,
    UNIX_PATH: targets.unixPath,
    ABSTRACT: targets.abstractName,
    TAG: tag,
  };
  return `print('ATTEMPTED', flush=True)\n${Object.entries(names).map(([name, value]) => `${name} = ${JSON.stringify(value)}`).join('\n')}\n`;
}

interface Mode {
  name: string;
  /** The PATH the sandbox is looked for on; undefined: this machine's. */
  path?: () => string;
  runs: boolean;
}

let fakeBins: string | undefined;

/** A folder with python3 and sh, and optionally a bwrap that cannot make namespaces (as in many containers). */
function fakeBin(python: string, withBrokenBwrap: boolean): string {
  fakeBins ??= mkdtempSync(path.join(os.tmpdir(), 'svd-bins-'));
  const dir = path.join(fakeBins, withBrokenBwrap ? 'broken-bwrap' : 'no-bwrap');
  if (!existsSync(dir)) {
    mkdirSync(dir);
    symlinkSync(python, path.join(dir, 'python3'));
    symlinkSync('/bin/sh', path.join(dir, 'sh'));
    if (withBrokenBwrap) {
      writeFileSync(path.join(dir, 'bwrap'), '#!/bin/sh\necho "bwrap: No permissions to create new namespace" >&2\nexit 1\n', { mode: 0o755 });
    }
  }
  return dir;
}

describe('the escape corpus', () => {
  let python = '';
  before(async () => {
    python = await resolvePython('python3');
  });
  after(() => {
    if (fakeBins) rmSync(fakeBins, { recursive: true, force: true });
  });

  const modes: Mode[] = [
    { name: 'bubblewrap', runs: true },
    { name: 'no isolator on PATH', path: () => fakeBin(python, false), runs: false },
    { name: 'an isolator that cannot make namespaces', path: () => fakeBin(python, true), runs: false },
  ];

  for (const mode of modes) {
    describe(mode.name, () => {
      let targets: Targets;
      const savedPath = process.env.PATH;
      const savedKey = process.env.SVD_API_KEY;
      let skip: string | undefined;

      before(async () => {
        targets = await makeTargets();
        process.env.SVD_API_KEY = SECRET;
        if (mode.path) process.env.PATH = mode.path();
        const isolation = await detectIsolation({ python });
        if (mode.runs && isolation.kind !== 'bwrap') {
          // CI installs bubblewrap: there a missing sandbox is a failure, not a skip.
          if (process.env.CI) throw new Error(`no sandbox in CI: ${describeIsolation(isolation)}`);
          skip = describeIsolation(isolation);
        }
        if (!mode.runs) assert.equal(isolation.kind, 'none');
      });
      after(async () => {
        process.env.PATH = savedPath;
        if (savedKey === undefined) delete process.env.SVD_API_KEY;
        else process.env.SVD_API_KEY = savedKey;
        await targets.close();
      });

      if (!mode.runs) {
        test('a coding check reads "not checked" and runs nothing', async () => {
          const runner = new CodeRunner({ workers: 1, python });
          try {
            const result = await runner.check(`\`\`\`python\n${WRITE_OUT('check.txt')}\n\`\`\``, { tests: `OUT = ${JSON.stringify(targets.outside)}` });
            assert.equal(result.outcome, 'unchecked');
            assert.equal(result.correct, false);
            assert.match(result.detail, /^not checked: no sandbox on this machine \(.+\)$/);
            assert.deepEqual(readdirSync(targets.outside).sort(), ['host.sock', 'secret.txt']);
          } finally {
            await runner.close();
          }
        });
      }

      for (const attack of ATTACKS) {
        test(attack.name, async (t) => {
          if (skip) return t.skip(`no sandbox here: ${skip}`);
          const tag = `svdx${randomBytes(3).toString('hex')}`;
          let most = 0;
          let watching = true;
          const watcher = (async () => {
            while (watching && attack.watch) {
              most = Math.max(most, processesNamed(tag).length);
              await sleep(20);
            }
          })();
          const result = await runPython(prelude(targets, tag) + attack.code, { timeoutMs: attack.timeoutMs ?? 5000, python });
          watching = false;
          await watcher;
          t.diagnostic(`${result.status}: ${result.output.split('\n').filter(Boolean).slice(-2).join(' | ').slice(0, 200)}`);

          if (mode.runs) {
            assert.match(result.output, /ATTEMPTED/, `the attack did not run: ${result.status} ${result.output}`);
            attack.ran?.(result);
          } else {
            assert.equal(result.status, 'unsandboxed');
            assert.doesNotMatch(result.output, /ATTEMPTED/);
            assert.ok(result.output.startsWith(NOT_CHECKED), result.output);
          }
          // No effect outside: nothing written there, no listener reached, no secret printed, nothing left running.
          assert.deepEqual(readdirSync(targets.outside).sort(), ['host.sock', 'secret.txt']);
          assert.deepEqual(targets.hits, { tcp: 0, udp: 0, unix: 0, abstract: 0 });
          assert.doesNotMatch(result.output, new RegExp(`${SECRET}|${FILE_SECRET}|root:x:0`));
          assert.ok(most <= 1, `${most} processes of the program ran at once`);
          assert.ok(await until(() => processesNamed(tag).length === 0, 3000), `left running: ${processesNamed(tag).join(', ')}`);
          if (attack.name.includes('survivor')) {
            // The survivor would write after 2 s.
            await sleep(2200);
            assert.deepEqual(readdirSync(targets.outside).sort(), ['host.sock', 'secret.txt']);
          }
        });
      }
    });
  }
});

describe('the sandbox on honest programs', () => {
  let skip: string | undefined;
  before(async () => {
    const isolation = await detectIsolation();
    if (isolation.kind !== 'bwrap') {
      if (process.env.CI) throw new Error(`no sandbox in CI: ${describeIsolation(isolation)}`);
      skip = describeIsolation(isolation);
    }
  });

  test('isolation is found once', async (t) => {
    if (skip) return t.skip(skip);
    assert.equal(await detectIsolation(), await detectIsolation());
    t.diagnostic(describeIsolation(await detectIsolation()));
  });

  test('an infinite loop times out', async (t) => {
    if (skip) return t.skip(skip);
    const started = performance.now();
    const result = await runPython('while True:\n    pass\n', { timeoutMs: 1000 });
    assert.equal(result.status, 'timeout');
    assert.ok(performance.now() - started < 4000);
  });

  test('a memory hog fails fast under the memory limit', async (t) => {
    if (skip) return t.skip(skip);
    const started = performance.now();
    const hog = await runPython('chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024 * 1024))\n', { timeoutMs: 10_000, memoryMb: 256 });
    assert.ok(hog.status === 'exception' || hog.status === 'killed', `${hog.status}: ${hog.output}`);
    assert.match(hog.output, /MemoryError|^$/);
    const huge = await runPython('x = bytearray(10 ** 11)\n', { timeoutMs: 10_000 });
    assert.equal(huge.status, 'exception');
    assert.match(huge.output, /MemoryError/);
    assert.ok(performance.now() - started < 8000);
  });

  test('threads work; only new processes are refused', async (t) => {
    if (skip) return t.skip(skip);
    const result = await runPython(
      'import threading, concurrent.futures as cf\nwith cf.ThreadPoolExecutor(4) as pool:\n    assert list(pool.map(lambda x: x * x, range(8))) == [x * x for x in range(8)]\nprint("threads ok")\n',
      { timeoutMs: 5000 },
    );
    assert.equal(result.status, 'finished', result.output);
    assert.match(result.output, /threads ok/);
  });

  test('stdin is given; a program that reads past it sees end of file', async (t) => {
    if (skip) return t.skip(skip);
    const result = await runPython('import sys\nprint(sys.stdin.readline().strip().upper())\nprint(repr(sys.stdin.read()))\n', { stdin: 'abc\n', timeoutMs: 5000 });
    assert.equal(result.status, 'finished', result.output);
    assert.equal(result.output, "ABC\n''\n");
  });

  test('a program that prints without end is stopped at the output limit', async (t) => {
    if (skip) return t.skip(skip);
    const started = performance.now();
    const result = await runPython('while True:\n    print("x" * 1000)\n', { outputLimit: 1 << 20, timeoutMs: 10_000 });
    assert.equal(result.status, 'output');
    assert.ok(performance.now() - started < 5000);
    assert.ok(result.output.length < 10_000, 'the output kept is cut');
  });

  test("the parent's environment is not the program's", async (t) => {
    if (skip) return t.skip(skip);
    const saved = process.env.SVD_API_KEY;
    process.env.SVD_API_KEY = SECRET;
    try {
      const result = await runPython('import os\nprint(sorted(os.environ))\n', { timeoutMs: 5000 });
      assert.equal(result.status, 'finished', result.output);
      assert.equal(result.output.trim(), "['HOME', 'LANG', 'PATH', 'PWD', 'TMPDIR']");
    } finally {
      if (saved === undefined) delete process.env.SVD_API_KEY;
      else process.env.SVD_API_KEY = saved;
    }
  });

  test('the program writes in its own folder, gone afterwards', async (t) => {
    if (skip) return t.skip(skip);
    const first = await runPython('import os\nopen("inside.txt", "w").write("x")\nprint(os.getcwd(), os.listdir("."))\n', { timeoutMs: 5000 });
    assert.equal(first.status, 'finished', first.output);
    assert.match(first.output, /^\/sandbox .*inside\.txt/);
    const second = await runPython('import os\nprint(os.listdir("."))\n', { timeoutMs: 5000 });
    assert.doesNotMatch(second.output, /inside\.txt/);
  });

  test('an abort signal stops a run; the check rejects as aborted', async (t) => {
    if (skip) return t.skip(skip);
    const runner = new CodeRunner({ workers: 1, timeoutMs: 20_000 });
    const controller = new AbortController();
    const started = performance.now();
    const fence = (code: string) => `\`\`\`python\n${code}\n\`\`\``;
    const pending = runner.check(fence('import time\ntime.sleep(20)'), { tests: '' }, { signal: controller.signal });
    const queued = runner.check(fence('x = 1'), { tests: '' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    const [running, waiting] = await Promise.allSettled([pending, queued]);
    for (const settled of [running, waiting]) assert.ok(settled!.status === 'rejected' && isSvdError(settled!.reason, 'aborted'));
    assert.ok(performance.now() - started < 5000);
    await runner.close();
  });

  test('at most `workers` programs run at once; close() stops the rest', async (t) => {
    if (skip) return t.skip(skip);
    const runner = new CodeRunner({ workers: 2, timeoutMs: 20_000 });
    const fence = (code: string) => `\`\`\`python\n${code}\n\`\`\``;
    const started = performance.now();
    const quick = await Promise.all([1, 2, 3, 4].map(() => runner.check(fence('import time\ntime.sleep(0.4)'), { tests: '' })));
    const elapsed = performance.now() - started;
    assert.ok(quick.every((r) => r.correct));
    assert.ok(elapsed >= 800, `4 runs of 0.4 s on 2 workers took ${elapsed.toFixed(0)} ms`);
    const slow = Promise.allSettled([1, 2, 3].map(() => runner.check(fence('import time\ntime.sleep(20)'), { tests: '' })));
    await sleep(300);
    const closing = performance.now();
    await runner.close();
    for (const settled of await slow) assert.ok(settled.status === 'rejected' && isSvdError(settled.reason, 'aborted'));
    assert.ok(performance.now() - closing < 3000);
  });
});
