import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { z } from 'zod';
import { AppendLog } from '../../../../src/core/record/appendLog';

const ROOT = path.resolve(__dirname, '../../../..');
const Entry = z.object({ id: z.string(), n: z.number() });
type Entry = z.infer<typeof Entry>;

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'svd-appendlog-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'log.jsonl');
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const lines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);

describe('AppendLog with deferred writes', () => {
  it("writes one turn's lines together, in order, and counts them at once", async () => {
    const file = tempFile();
    const counted: string[] = [];
    const log = AppendLog.open<Entry>(file, { schema: Entry, keyOf: (e) => e.id, deferWrites: 'exclusive', onIndex: (e) => counted.push(e.id) });
    log.exclusive = true;
    for (let i = 0; i < 50; i++) assert.equal(log.append({ id: `e${i}`, n: i }).written, true);
    assert.equal(log.append({ id: 'e7', n: 99 }).written, false, 'a key waiting to be written is already recorded');
    assert.equal(fs.statSync(file).size, 0);
    assert.equal(log.size, 50);
    assert.deepEqual(log.read('e49'), { id: 'e49', n: 49 });
    assert.equal(counted.length, 50);
    await turn();
    assert.deepEqual(lines(file).map((line) => (JSON.parse(line) as Entry).id), Array.from({ length: 50 }, (_, i) => `e${i}`));
    assert.deepEqual(log.read('e7'), { id: 'e7', n: 7 });
    log.close();
  });

  it('writes what is pending before it is streamed, when it stops being the only writer, and on close', () => {
    const file = tempFile();
    const log = AppendLog.open<Entry>(file, { schema: Entry, keyOf: (e) => e.id, deferWrites: 'exclusive' });
    log.exclusive = true;
    log.append({ id: 'a', n: 1 });
    assert.deepEqual([...log.entries()], [{ id: 'a', n: 1 }]);
    log.append({ id: 'b', n: 2 });
    log.exclusive = false;
    assert.equal(lines(file).length, 2);
    // Not the only writer: each line is written as it comes.
    log.append({ id: 'c', n: 3 });
    assert.equal(lines(file).length, 3);
    log.exclusive = true;
    log.append({ id: 'd', n: 4 });
    log.close();
    assert.equal(lines(file).length, 4);
    const again = AppendLog.open<Entry>(file, { schema: Entry, keyOf: (e) => e.id });
    assert.deepEqual([...again.entries()].map((e) => e.id), ['a', 'b', 'c', 'd']);
    again.close();
  });

  it('writes pending lines when the process exits, and loses a killed turn whole, never part of a line', () => {
    const file = tempFile();
    const script = (end: string) => `
      const { AppendLog } = require(${JSON.stringify(path.join(ROOT, 'src/core/record/appendLog.ts'))});
      const { z } = require('zod');
      const log = AppendLog.open(${JSON.stringify(file)}, { schema: z.object({ id: z.string(), n: z.number() }), keyOf: (e) => e.id, deferWrites: 'always' });
      for (let i = 0; i < 1000; i++) log.append({ id: 'p' + process.pid + '-' + i, n: i });
      ${end}`;
    const exit = spawnSync(process.execPath, ['--import', 'tsx', '-e', script('process.exit(0);')], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(exit.status, 0, exit.stderr);
    assert.equal(lines(file).length, 1000);
    const killed = spawnSync(process.execPath, ['--import', 'tsx', '-e', script("process.kill(process.pid, 'SIGKILL');")], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(killed.signal, 'SIGKILL');
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.endsWith('\n'), 'no torn line');
    assert.equal(lines(file).length, 1000, 'the killed turn wrote nothing');
  });
});
