import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { parseRunConfig } from '../../../../src/core/base/config';
import { isSvdError } from '../../../../src/core/base/errors';
import { isProcessAlive, processStart } from '../../../../src/core/record/process';
import { zombie } from '../../../fixtures/processes';
import type { NewRunEvent, RunEvent } from '../../../../src/core/record/events';
import {
  RUN_ID_MAX_LENGTH,
  RunStore,
  appendOverride,
  checkRunId,
  defaultRunsDir,
  listRuns,
  resolveRunDir,
  runIdStem,
  type RunManifest,
} from '../../../../src/core/record/store';
import { writeFileAtomic } from '../../../../src/core/record/atomicFile';

const repoRoot = path.resolve(__dirname, '../../../..');
const cleanups: (() => void)[] = [];

afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'svd-store-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function manifest(id = 'run-1', createdAt = '2025-01-01T00:00:00.000Z'): RunManifest {
  return {
    version: 1,
    id,
    createdAt,
    seedFile: { path: '/seeds.jsonl', fingerprint: 'abc', format: 'jsonl', rows: 3 },
    model: { model: 'qwen3', baseURL: 'http://localhost:8080/v1', engine: 'server' },
    config: parseRunConfig({}),
    methodFingerprint: 'f00d',
  };
}

function seedEvent(n: number, question = `question ${n}`): NewRunEvent {
  return {
    id: `seed:${n}`,
    type: 'seed',
    seedId: String(n),
    line: n + 1,
    domain: 'math',
    question,
    prompt: [{ role: 'user', content: question }],
  };
}

function open(dir: string, options?: { readOnly?: boolean }): RunStore {
  const store = RunStore.open(dir, options);
  cleanups.push(() => store.close());
  return store;
}

function create(dir: string, m = manifest()): RunStore {
  const store = RunStore.create(dir, m);
  cleanups.push(() => store.close());
  return store;
}

function eventsFile(dir: string): string {
  return path.join(dir, 'events.jsonl');
}

function idsOf(events: Iterable<RunEvent>): string[] {
  return [...events].map((e) => e.id);
}

describe('RunStore create/open', () => {
  it('round-trips the manifest and events', () => {
    const dir = path.join(tempDir(), 'nested', 'run-1');
    const store = create(dir);
    assert.equal(store.dir, dir);
    assert.deepEqual(store.manifest, manifest());
    assert.equal(store.droppedTail, false);
    const a = store.append(seedEvent(1));
    assert.ok(a);
    assert.match(a.at, /^\d{4}-\d\d-\d\dT/);
    store.append({ ...seedEvent(2), at: '2020-02-02T00:00:00.000Z' });
    store.close();

    const again = open(dir);
    assert.deepEqual(again.manifest, manifest());
    assert.equal(again.size, 2);
    assert.deepEqual(again.get('seed:1'), a);
    assert.equal(again.get('seed:2')?.at, '2020-02-02T00:00:00.000Z');
    assert.equal(again.get('seed:3'), undefined);
    assert.equal(again.has('seed:2'), true);
    assert.equal(again.has('seed:3'), false);
  });

  it('refuses to create over an existing run', () => {
    const dir = tempDir();
    create(dir).close();
    assert.throws(() => RunStore.create(dir, manifest()), (e) => isSvdError(e, 'bad_config') && e.message.includes(dir));
  });

  it('reports a missing run as not_found', () => {
    assert.throws(() => RunStore.open(path.join(tempDir(), 'nope')), (e) => isSvdError(e, 'not_found'));
  });

  it('names the file and the field of an invalid manifest', () => {
    const dir = tempDir();
    create(dir).close();
    const file = path.join(dir, 'run.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    json.seedFile.rows = 'three';
    fs.writeFileSync(file, JSON.stringify(json));
    assert.throws(
      () => RunStore.open(dir),
      (e) => isSvdError(e, 'internal') && e.message.includes(file) && e.message.includes('seedFile.rows'),
    );
  });

  it('writes the manifest pretty-printed and leaves no temp files', () => {
    const dir = tempDir();
    create(dir).close();
    assert.deepEqual(fs.readdirSync(dir).sort(), ['events.jsonl', 'overrides.jsonl', 'run.json']);
    assert.match(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'), /^\{\n {2}"version": 1,/);
  });

  it('defaults the runs folder under .svd', () => {
    assert.equal(defaultRunsDir('/ws'), path.join('/ws', '.svd', 'runs'));
  });
});

describe('RunStore append', () => {
  it('is idempotent: the same id twice writes one line', () => {
    const dir = tempDir();
    const store = create(dir);
    assert.ok(store.append(seedEvent(1)));
    assert.equal(store.append(seedEvent(1, 'another question')), undefined);
    const lines = fs.readFileSync(eventsFile(dir), 'utf8').split('\n');
    assert.equal(lines.length, 2);
    assert.equal(lines[1], '');
    const event = store.get('seed:1');
    assert.equal(event?.type === 'seed' ? event.question : '', 'question 1');
  });

  it('validates events', () => {
    const store = create(tempDir());
    const bad = { ...seedEvent(1), domain: 'art' } as unknown as NewRunEvent;
    assert.throws(() => store.append(bad), (e) => isSvdError(e, 'internal') && e.message.includes('domain'));
    assert.equal(store.size, 0);
  });

  it('keeps each event on one line whatever its text holds', () => {
    const dir = tempDir();
    const store = create(dir);
    store.append(seedEvent(1, 'line one\nline two\r\n\u2028 "quoted" \\ done'));
    store.close();
    const again = open(dir);
    const event = again.get('seed:1');
    assert.equal(event?.type === 'seed' ? event.question : '', 'line one\nline two\r\n\u2028 "quoted" \\ done');
    assert.equal(fs.readFileSync(eventsFile(dir), 'utf8').split('\n').length, 2);
  });

  it('counts events per type and notifies listeners until disposed', () => {
    const store = create(tempDir());
    const heard: string[] = [];
    const subscription = store.onEvent((e) => heard.push(e.id));
    store.append(seedEvent(1));
    store.append({ id: 'outcome:1', type: 'outcome', seedId: '1', status: 'no_valid', acceptedCandidateIds: [] });
    store.append(seedEvent(1));
    subscription.dispose();
    store.append(seedEvent(2));
    assert.deepEqual(heard, ['seed:1', 'outcome:1']);
    const counts = store.countsByType();
    assert.equal(counts.seed, 2);
    assert.equal(counts.outcome, 1);
    assert.equal(counts.vote, 0);
  });

  it('refuses to append when read-only', () => {
    const dir = tempDir();
    create(dir).close();
    const store = open(dir, { readOnly: true });
    assert.throws(() => store.append(seedEvent(1)), (e) => isSvdError(e, 'internal'));
  });
});

describe('RunStore torn and corrupt records', () => {
  function runWithTwoEvents(): string {
    const dir = tempDir();
    const store = create(dir);
    store.append(seedEvent(1));
    store.append(seedEvent(2));
    store.close();
    return dir;
  }

  it('drops a torn last line, truncates it, and appends cleanly after it', () => {
    const dir = runWithTwoEvents();
    const goodSize = fs.statSync(eventsFile(dir)).size;
    const line = JSON.stringify({ ...seedEvent(3), at: 'now' });
    fs.appendFileSync(eventsFile(dir), line.slice(0, Math.floor(line.length / 2)));

    const store = open(dir);
    assert.equal(store.droppedTail, true);
    assert.equal(store.size, 2);
    assert.equal(fs.statSync(eventsFile(dir)).size, goodSize);
    assert.ok(store.append(seedEvent(3)));
    store.close();

    const again = open(dir);
    assert.equal(again.droppedTail, false);
    assert.deepEqual(idsOf(again.events()), ['seed:1', 'seed:2', 'seed:3']);
  });

  it('drops a complete but invalid last line', () => {
    const dir = runWithTwoEvents();
    const goodSize = fs.statSync(eventsFile(dir)).size;
    fs.appendFileSync(eventsFile(dir), '{"id":"x","type":"nonsense"}\n');
    const store = open(dir);
    assert.equal(store.droppedTail, true);
    assert.equal(store.size, 2);
    assert.equal(fs.statSync(eventsFile(dir)).size, goodSize);
  });

  it('leaves a torn tail in place when read-only', () => {
    const dir = runWithTwoEvents();
    fs.appendFileSync(eventsFile(dir), '{"id":"seed:3","ty');
    const size = fs.statSync(eventsFile(dir)).size;
    const store = open(dir, { readOnly: true });
    assert.equal(store.droppedTail, true);
    assert.equal(store.size, 2);
    assert.equal(fs.statSync(eventsFile(dir)).size, size);
  });

  it('rejects an invalid line in the middle, naming its line number', () => {
    const dir = runWithTwoEvents();
    const lines = fs.readFileSync(eventsFile(dir), 'utf8').split('\n');
    lines.splice(1, 0, '{"id":"broken",');
    fs.writeFileSync(eventsFile(dir), lines.join('\n'));
    assert.throws(
      () => RunStore.open(dir),
      (e) => isSvdError(e, 'internal') && /events\.jsonl:2: invalid JSON/.test(e.message),
    );
    lines[1] = JSON.stringify({ ...seedEvent(9), domain: 'art', at: 'now' });
    fs.writeFileSync(eventsFile(dir), lines.join('\n'));
    assert.throws(
      () => RunStore.open(dir, { readOnly: true }),
      (e) => isSvdError(e, 'internal') && /events\.jsonl:2: .*domain/.test(e.message),
    );
  });

  it('ignores blank lines and later duplicates of an id', () => {
    const dir = runWithTwoEvents();
    const first = fs.readFileSync(eventsFile(dir), 'utf8').split('\n')[0]!;
    const duplicate = JSON.stringify({ ...JSON.parse(first), question: 'changed' });
    fs.appendFileSync(eventsFile(dir), `\n${duplicate}\n`);
    const store = open(dir);
    assert.equal(store.size, 2);
    assert.equal(store.countsByType().seed, 2);
    assert.deepEqual(idsOf(store.events()), ['seed:1', 'seed:2']);
    const event = store.get('seed:1');
    assert.equal(event?.type === 'seed' ? event.question : '', 'question 1');
  });
});

describe('RunStore reading', () => {
  it('streams the record and the overrides another writer added once streamOnly lets the indexes go', () => {
    const dir = tempDir();
    const store = create(dir);
    for (let n = 0; n < 5; n++) store.append(seedEvent(n));
    // A reviewer's decision from another process, after the writer opened the run.
    appendOverride(dir, { id: 'override:x', type: 'override', candidateId: '1#0', action: 'reject' });
    store.streamOnly();
    assert.deepEqual([...store.events()].map((e) => e.id), ['seed:0', 'seed:1', 'seed:2', 'seed:3', 'seed:4', 'override:x']);
    assert.equal(store.size, 6);
    assert.throws(() => store.get('seed:1'), /index was let go/);
    assert.throws(() => store.append(seedEvent(5)), /index was let go/);
    store.close();
    assert.equal(open(dir).size, 6, 'nothing written after streamOnly');
  });

  it('streams events in file order across read chunks and very long lines', () => {
    const dir = tempDir();
    const store = create(dir);
    const expected: string[] = [];
    for (let n = 0; n < 300; n++) {
      // Varying sizes put line ends at every position relative to the 1 MiB read chunks.
      store.append(seedEvent(n, 'x'.repeat((n * 7919) % 12000)));
      expected.push(`seed:${n}`);
    }
    store.append(seedEvent(300, 'y'.repeat(3_000_000)));
    expected.push('seed:300');
    store.append(seedEvent(301));
    expected.push('seed:301');
    store.close();

    const again = open(dir);
    assert.equal(again.size, 302);
    const seen: string[] = [];
    for (const event of again.events()) {
      seen.push(event.id);
      if (event.id === 'seed:300') assert.equal(event.type === 'seed' && event.question.length, 3_000_000);
    }
    assert.deepEqual(seen, expected);
    const long = again.get('seed:300');
    assert.equal(long?.type === 'seed' && long.question, 'y'.repeat(3_000_000));
  });

  it('refresh sees lines another instance appended, and a partial line only once complete', () => {
    const dir = tempDir();
    const writer = create(dir);
    writer.append(seedEvent(1));
    const observer = open(dir, { readOnly: true });
    const heard: string[] = [];
    observer.onEvent((e) => heard.push(e.id));
    assert.deepEqual(observer.refresh(), []);

    writer.append(seedEvent(2));
    writer.append(seedEvent(3));
    assert.deepEqual(idsOf(observer.refresh()), ['seed:2', 'seed:3']);
    assert.deepEqual(observer.refresh(), []);
    assert.deepEqual(heard, ['seed:2', 'seed:3']);

    const line = `${JSON.stringify({ ...seedEvent(4), at: 'now' })}\n`;
    fs.appendFileSync(eventsFile(dir), line.slice(0, 20));
    assert.deepEqual(observer.refresh(), []);
    assert.equal(observer.has('seed:4'), false);
    fs.appendFileSync(eventsFile(dir), line.slice(20));
    assert.deepEqual(idsOf(observer.refresh()), ['seed:4']);
    assert.equal(observer.get('seed:4')?.id, 'seed:4');
    assert.deepEqual(idsOf(observer.events()), ['seed:1', 'seed:2', 'seed:3', 'seed:4']);
  });

  it('an append first picks up what other writers appended, so their ids are not written twice; overrides live in their own file', () => {
    const dir = tempDir();
    const pipeline = create(dir);
    const reviewer = open(dir);
    pipeline.append(seedEvent(1));
    assert.ok(reviewer.append({ id: 'override:1', type: 'override', candidateId: '1#0', action: 'accept' }));
    const heard: string[] = [];
    pipeline.onEvent((e) => heard.push(e.id));
    assert.equal(pipeline.append({ id: 'override:1', type: 'override', candidateId: '1#0', action: 'reject' }), undefined);
    assert.ok(pipeline.append(seedEvent(2)));
    assert.deepEqual(heard, ['override:1', 'seed:2']);
    assert.equal(fs.readFileSync(eventsFile(dir), 'utf8').trimEnd().split('\n').length, 2);
    assert.equal(fs.readFileSync(path.join(dir, 'overrides.jsonl'), 'utf8').trimEnd().split('\n').length, 1);
    assert.deepEqual(idsOf(reviewer.refresh()), ['seed:1', 'seed:2']);
    assert.deepEqual(idsOf([...pipeline.events()]), ['seed:1', 'seed:2', 'override:1']);
  });

  it('refuses to read after close', () => {
    const dir = tempDir();
    const store = create(dir);
    store.append(seedEvent(1));
    store.close();
    assert.throws(() => store.get('seed:1'), (e) => isSvdError(e, 'internal'));
  });
});

describe('RunStore lock', () => {
  function lockFile(dir: string): string {
    return path.join(dir, 'run.lock');
  }

  function writeLock(dir: string, pid: number, start?: string): void {
    fs.writeFileSync(lockFile(dir), JSON.stringify({ pid, host: os.hostname(), at: new Date().toISOString(), start }));
  }

  /** A long-lived child, killed when the test ends. */
  async function liveChild(): Promise<number> {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    cleanups.push(() => child.kill('SIGKILL'));
    await new Promise((resolve) => child.once('spawn', resolve));
    return child.pid!;
  }

  it('takes and releases the lock', () => {
    const dir = tempDir();
    const store = create(dir);
    store.lock();
    store.lock();
    assert.equal(JSON.parse(fs.readFileSync(lockFile(dir), 'utf8')).pid, process.pid);
    store.unlock();
    assert.equal(fs.existsSync(lockFile(dir)), false);
    store.lock();
    store.close();
    assert.equal(fs.existsSync(lockFile(dir)), false);
  });

  it('refuses a lock another store holds', () => {
    const dir = tempDir();
    create(dir).lock();
    const other = open(dir);
    assert.throws(() => other.lock(), (e) => isSvdError(e, 'run_locked') && e.message.includes(`process ${process.pid}`));
  });

  it('refuses a lock held by a live process', async () => {
    const dir = tempDir();
    const store = create(dir);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: 'ignore' });
    cleanups.push(() => child.kill('SIGKILL'));
    await new Promise((resolve) => child.once('spawn', resolve));
    const pid = child.pid!;
    writeLock(dir, pid);
    assert.throws(
      () => store.lock(),
      (e) => isSvdError(e, 'run_locked') && e.message.includes(`run run-1 is being written by process ${pid}`),
    );
    assert.equal(JSON.parse(fs.readFileSync(lockFile(dir), 'utf8')).pid, pid);
    store.close();
    assert.equal(fs.existsSync(lockFile(dir)), true, 'close must not remove a lock it does not hold');
  });

  it('takes over a stale lock left by a dead process', () => {
    const dir = tempDir();
    const store = create(dir);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeLock(dir, dead);
    store.lock();
    assert.equal(JSON.parse(fs.readFileSync(lockFile(dir), 'utf8')).pid, process.pid);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['events.jsonl', 'overrides.jsonl', 'run.json', 'run.lock']);
  });

  it('takes over a lock whose process is a zombie (killed, not yet reaped)', { skip: process.platform !== 'linux' }, async () => {
    const dir = tempDir();
    const store = create(dir);
    const { pid, parent } = await zombie();
    cleanups.push(() => parent.kill('SIGKILL'));
    assert.doesNotThrow(() => process.kill(pid, 0), 'a zombie still answers kill(0)');
    writeLock(dir, pid);
    store.lock();
    assert.equal(JSON.parse(fs.readFileSync(lockFile(dir), 'utf8')).pid, process.pid);
  });

  it('takes over a lock whose pid now belongs to another process (its start time differs)', { skip: process.platform === 'win32' }, async () => {
    const dir = tempDir();
    const store = create(dir);
    const pid = await liveChild();
    // The lock names the live pid, but the start time of a different process: the pid was reused since.
    const otherStart = processStart(process.pid);
    assert.ok(otherStart && processStart(pid) && otherStart !== processStart(pid));
    writeLock(dir, pid, otherStart);
    store.lock();
    const lock = JSON.parse(fs.readFileSync(lockFile(dir), 'utf8')) as { pid: number; start?: string };
    assert.equal(lock.pid, process.pid);
    assert.equal(lock.start, otherStart, 'the new lock records its own start time');
  });

  it('refuses a lock whose live process has the recorded start time', { skip: process.platform === 'win32' }, async () => {
    const dir = tempDir();
    const store = create(dir);
    const pid = await liveChild();
    writeLock(dir, pid, processStart(pid));
    assert.throws(() => store.lock(), (e) => isSvdError(e, 'run_locked') && e.message.includes(`process ${pid}`));
  });

  it('takes over an unreadable lock', () => {
    const dir = tempDir();
    const store = create(dir);
    fs.writeFileSync(lockFile(dir), '');
    store.lock();
    assert.equal(JSON.parse(fs.readFileSync(lockFile(dir), 'utf8')).pid, process.pid);
  });
});

describe('finding runs', () => {
  it('resolves a run by id and by folder', () => {
    const runsDir = path.join(tempDir(), 'runs');
    create(path.join(runsDir, 'alpha')).close();
    assert.equal(resolveRunDir('alpha', runsDir), path.join(runsDir, 'alpha'));
    assert.equal(resolveRunDir(path.join(runsDir, 'alpha'), '/elsewhere'), path.join(runsDir, 'alpha'));
  });

  it('says where it looked when a run is missing', () => {
    const runsDir = path.join(tempDir(), 'runs');
    assert.throws(
      () => resolveRunDir('ghost', runsDir),
      (e) =>
        isSvdError(e, 'not_found') &&
        e.message.includes(path.resolve('ghost')) &&
        e.message.includes(path.join(runsDir, 'ghost')),
    );
  });

  it('lists runs oldest first and skips folders that are not runs', () => {
    const runsDir = path.join(tempDir(), 'runs');
    assert.deepEqual(listRuns(runsDir), []);
    create(path.join(runsDir, 'b'), manifest('b', '2025-03-01T00:00:00.000Z')).close();
    create(path.join(runsDir, 'a'), manifest('a', '2025-05-01T00:00:00.000Z')).close();
    create(path.join(runsDir, 'c'), manifest('c', '2025-01-01T00:00:00.000Z')).close();
    fs.mkdirSync(path.join(runsDir, 'empty'));
    fs.mkdirSync(path.join(runsDir, 'broken'));
    fs.writeFileSync(path.join(runsDir, 'broken', 'run.json'), '{"version":2}');
    fs.writeFileSync(path.join(runsDir, 'stray.txt'), 'x');
    const runs = listRuns(runsDir);
    assert.deepEqual(
      runs.map((r) => r.id),
      ['c', 'b', 'a'],
    );
    assert.equal(runs[0]!.dir, path.join(runsDir, 'c'));
    assert.equal(runs[0]!.manifest.createdAt, '2025-01-01T00:00:00.000Z');
  });
});

describe('writeFileAtomic', () => {
  it('writes and replaces whole files without leaving temp files', () => {
    const dir = tempDir();
    const file = path.join(dir, 'out.json');
    writeFileAtomic(file, 'first');
    assert.equal(fs.readFileSync(file, 'utf8'), 'first');
    writeFileAtomic(file, new Uint8Array([104, 105]));
    assert.equal(fs.readFileSync(file, 'utf8'), 'hi');
    assert.deepEqual(fs.readdirSync(dir), ['out.json']);
  });

  it('fails without touching the target when the folder is missing', () => {
    const file = path.join(tempDir(), 'missing', 'out.json');
    assert.throws(() => writeFileAtomic(file, 'x'), /ENOENT/);
  });
});

describe('RunStore after SIGKILL', () => {
  // The child continues the run from where the last one stopped, re-appending its previous event each time to
  // exercise the duplicate check, and reports once it is writing.
  const childSource = `
const { RunStore } = require(${JSON.stringify(path.join(repoRoot, 'src', 'core', 'record', 'store.ts'))});
const store = RunStore.open(process.env.SVD_TEST_RUN_DIR);
let n = store.size;
let announced = false;
for (;;) {
  const question = 'q'.repeat(Math.floor(Math.random() * 20000));
  const event = { id: 'seed:' + n, type: 'seed', seedId: String(n), line: n + 1, domain: 'math', question,
    prompt: [{ role: 'user', content: question }] };
  store.append(event);
  if (store.append(event) !== undefined) throw new Error('duplicate written');
  n++;
  if (!announced && n % 20 === 0) { announced = true; process.stdout.write('writing\\n'); }
}
`;

  function startChild(dir: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', childSource], {
      cwd: repoRoot,
      env: { ...process.env, SVD_TEST_RUN_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      child.stdout!.once('data', () => resolve(child));
      child.once('exit', (code) => reject(new Error(`writer exited early (${code}): ${stderr}`)));
    });
  }

  it('reopens with every complete line intact and no duplicate ids, kill after kill', { timeout: 120_000 }, async () => {
    const dir = path.join(tempDir(), 'run');
    create(dir).close();

    for (const delay of [0, 7, 23, 61, 150]) {
      const child = await startChild(dir);
      await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * 20));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;

      const raw = fs.readFileSync(eventsFile(dir));
      const text = raw.toString('utf8');
      const cut = text.lastIndexOf('\n') + 1;
      const complete = text.slice(0, cut).split('\n').slice(0, -1);
      const ids = complete.map((line) => (JSON.parse(line) as { id: string }).id);
      assert.equal(new Set(ids).size, ids.length, 'duplicate ids on disk');
      assert.deepEqual(
        ids,
        ids.map((_, n) => `seed:${n}`),
        'events lost or out of order',
      );

      const store = RunStore.open(dir);
      try {
        assert.equal(store.droppedTail, cut < raw.length);
        assert.equal(fs.statSync(eventsFile(dir)).size, Buffer.byteLength(text.slice(0, cut)));
        assert.equal(store.size, ids.length);
        assert.deepEqual(idsOf(store.events()), ids);
        for (const [n, line] of complete.entries()) assert.deepEqual(store.get(`seed:${n}`), JSON.parse(line));
      } finally {
        store.close();
      }
    }

    const final = open(dir);
    assert.ok(final.size >= 100, `the writers got only ${final.size} events down`);
    assert.ok(final.append(seedEvent(final.size)));
  });
});

describe('process liveness', () => {
  it('tells a live process, a dead one and a reused pid apart', { skip: process.platform === 'win32' }, () => {
    const mine = processStart();
    assert.ok(mine, 'this platform gives a start stamp');
    assert.equal(isProcessAlive(process.pid), true);
    assert.equal(isProcessAlive(process.pid, mine), true);
    assert.equal(isProcessAlive(process.pid, `${mine}0`), false);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    assert.equal(isProcessAlive(dead), false);
    assert.equal(processStart(dead), undefined);
  });
});

describe('run ids', () => {
  const bad: [string, RegExp][] = [
    ['', /cannot be empty/],
    ['x'.repeat(300), /at most 120 characters \(this one has 300\)/],
    ['../../x', /path separator/],
    ['a\\b', /path separator/],
    ['..', /cannot contain "\.\."/],
    ['a..b', /cannot contain "\.\."/],
    ['.', /the runs folder itself/],
    ['-x', /cannot start with "-"/],
    ['a\u0000b', /control characters/],
  ];

  it('names the rule a bad id breaks, as a bad_config error', () => {
    for (const [id, rule] of bad) {
      assert.throws(() => checkRunId(id, { source: '--run' }), (e) => isSvdError(e, 'bad_config') && rule.test(e.message) && e.message.startsWith('--run: '), id);
    }
    assert.equal(checkRunId('x'.repeat(RUN_ID_MAX_LENGTH)), 'x'.repeat(RUN_ID_MAX_LENGTH));
    assert.equal(checkRunId('seeds-1a2b3c4d'), 'seeds-1a2b3c4d');
    assert.equal(checkRunId('.hidden_run'), '.hidden_run');
  });

  it('admits a nested id only when asked, each part checked', () => {
    assert.throws(() => checkRunId('sweep-x/n4v3'), (e) => isSvdError(e, 'bad_config') && /path separator/.test(e.message));
    assert.equal(checkRunId('sweep-x/n4v3', { nested: true }), 'sweep-x/n4v3');
    for (const id of ['../x', 'a/../b', 'a/', '/a', 'a/-b']) {
      assert.throws(() => checkRunId(id, { nested: true }), (e) => isSvdError(e, 'bad_config'), id);
    }
  });

  it('refuses to create a run whose manifest id is bad, leaving nothing behind', () => {
    const runsDir = path.join(tempDir(), 'runs');
    fs.mkdirSync(runsDir);
    for (const [id] of bad) {
      const dir = path.join(runsDir, 'target');
      assert.throws(() => RunStore.create(dir, manifest(id)), (e) => isSvdError(e, 'bad_config') && /bad run id/.test(e.message), id);
    }
    assert.deepEqual(fs.readdirSync(runsDir), []);
  });

  it('derives a valid stem from any seed file name', () => {
    for (const name of ['-rf.jsonl', 'a..b.jsonl', `${'long'.repeat(80)}.jsonl`, '....jsonl', '---.csv', 'ünïcode seeds.json']) {
      const id = `${runIdStem(name)}-1a2b3c4d`;
      assert.equal(checkRunId(id), id, name);
      assert.equal(checkRunId(`sweep-${id}`), `sweep-${id}`, name);
    }
    assert.equal(runIdStem('/data/math seeds.jsonl'), 'math-seeds');
  });
});
