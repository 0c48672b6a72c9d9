import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { isSvdError } from '../../../../src/core/base/errors';
import { processStart, processState, thisProcess } from '../../../../src/core/record/process';
import { RUN_LOCK_FILE, readRunLock, releaseRunLock, runLockHeld, takeRunLock } from '../../../../src/core/record/runLock';
import { zombie } from '../../../fixtures/processes';

const cleanups: (() => void)[] = [];

afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'svd-lock-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeLock(dir: string, lock: { pid: number; host?: string; start?: string }): void {
  fs.writeFileSync(path.join(dir, RUN_LOCK_FILE), JSON.stringify({ host: os.hostname(), at: new Date().toISOString(), ...lock }));
}

async function liveChild(): Promise<number> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  cleanups.push(() => child.kill('SIGKILL'));
  await new Promise((resolve) => child.once('spawn', resolve));
  return child.pid!;
}

const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;

describe('processState', () => {
  it('tells this process, a dead one and another host apart', () => {
    assert.equal(processState(thisProcess()), 'alive');
    assert.equal(processState({ pid: deadPid() }), 'gone', 'no host: this host');
    assert.equal(processState({ pid: deadPid(), host: 'another-host' }), 'elsewhere');
  });

  it('a live pid with another start stamp is gone (the pid was reused)', { skip: process.platform === 'win32' }, async () => {
    const pid = await liveChild();
    assert.equal(processState({ pid, start: processStart(pid) }), 'alive');
    assert.equal(processState({ pid, start: processStart() }), 'gone');
  });
});

describe('run lock', () => {
  it('is taken, read, held and released', () => {
    const dir = tempDir();
    assert.equal(runLockHeld(dir), false);
    takeRunLock(dir, 'r');
    const holder = readRunLock(dir);
    assert.equal(holder?.pid, process.pid);
    assert.equal(holder?.host, os.hostname());
    assert.equal(holder?.start, processStart());
    assert.equal(runLockHeld(dir), true);
    releaseRunLock(dir);
    assert.equal(fs.existsSync(path.join(dir, RUN_LOCK_FILE)), false);
  });

  it('is refused while a live process holds it, naming the run and the process', async () => {
    const dir = tempDir();
    const pid = await liveChild();
    writeLock(dir, { pid });
    assert.equal(runLockHeld(dir), true);
    assert.throws(
      () => takeRunLock(dir, 'my-run'),
      (e) => isSvdError(e, 'run_locked') && e.message.startsWith(`run my-run is being written by process ${pid} (remove `),
    );
    releaseRunLock(dir);
    assert.equal(readRunLock(dir)?.pid, pid, 'a lock this process does not hold is never removed');
  });

  it('names the host of a lock from another host, which is never taken over', () => {
    const dir = tempDir();
    writeLock(dir, { pid: deadPid(), host: 'another-host' });
    assert.equal(runLockHeld(dir), true);
    assert.throws(() => takeRunLock(dir, 'r'), (e) => isSvdError(e, 'run_locked') && e.message.includes(' on another-host '));
  });

  it('left by a dead process, a zombie or a reused pid is stale and taken over', async () => {
    const stale: { pid: number; start?: string }[] = [{ pid: deadPid() }];
    if (process.platform !== 'win32') stale.push({ pid: await liveChild(), start: processStart() });
    if (process.platform === 'linux') {
      const { pid, parent } = await zombie();
      cleanups.push(() => parent.kill('SIGKILL'));
      stale.push({ pid });
    }
    for (const lock of stale) {
      const dir = tempDir();
      writeLock(dir, lock);
      assert.equal(runLockHeld(dir), false, JSON.stringify(lock));
      takeRunLock(dir, 'r');
      assert.equal(readRunLock(dir)?.pid, process.pid);
      assert.deepEqual(fs.readdirSync(dir), [RUN_LOCK_FILE], 'no temp or set-aside file is left');
    }
  });

  it('an unreadable lock is not held and is taken over', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, RUN_LOCK_FILE), '{"pid":');
    assert.equal(runLockHeld(dir), false);
    takeRunLock(dir, 'r');
    assert.equal(readRunLock(dir)?.pid, process.pid);
  });
});
