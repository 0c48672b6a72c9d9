import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { z } from 'zod';
import { AppendLog } from '../../../../src/core/record/appendLog';
import { KeyIndex, hashKey } from '../../../../src/core/record/keyIndex';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'svd-keyindex-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'log.jsonl');
}

describe('KeyIndex', () => {
  it('finds every slot of a hash, oldest first, across the growth of its arrays and table', () => {
    const index = new KeyIndex();
    for (let i = 0; i < 5000; i++) index.add([i % 7, i % 3], i * 10, i);
    assert.equal(index.size, 5000);
    const slots = index.slots([2, 1]);
    const expected = Array.from({ length: 5000 }, (_, i) => i).filter((i) => i % 7 === 2 && i % 3 === 1);
    assert.deepEqual(slots, expected);
    assert.deepEqual(slots.slice(0, 3).map((slot) => [index.offset(slot), index.length(slot)]), expected.slice(0, 3).map((i) => [i * 10, i]));
    assert.deepEqual(index.slots([7, 1]), []);
  });

  it('finds colliding hashes across chunk boundaries and segment growth, with each slot\'s offset and length', () => {
    const index = new KeyIndex();
    const total = 200_000; // three full chunks and part of a fourth
    // Every 997th entry shares one of two hashes (in two segments); the rest have hashes of their own.
    const shared = (i: number): [number, number] => (i % 2 === 0 ? [0x12345678, 42] : [0xfedcba98, 42]);
    const hashOf = (i: number): [number, number] => (i % 997 === 0 ? shared(i / 997) : hashKey(`id-${i}`));
    for (let i = 0; i < total; i++) index.add(hashOf(i), i * 1e7, i % 4096);
    assert.equal(index.size, total);
    for (const parity of [0, 1]) {
      const expected = Array.from({ length: total }, (_, i) => i).filter((i) => i % 997 === 0 && (i / 997) % 2 === parity);
      const slots = index.slots(shared(parity));
      assert.deepEqual(slots, expected);
      assert.ok(expected.some((i) => i >= 65_536 * 3), 'the shared hash reaches the last chunk');
      for (const slot of slots) {
        assert.equal(index.offset(slot), slot * 1e7);
        assert.equal(index.length(slot), slot % 4096);
      }
    }
    for (const i of [0, 1, 65_535, 65_536, 65_537, 131_071, 131_072, 199_999]) {
      if (i % 997 === 0) continue;
      assert.deepEqual(index.slots(hashKey(`id-${i}`)), [i]);
      assert.equal(index.offset(i), i * 1e7);
      assert.equal(index.length(i), i % 4096);
    }
    assert.deepEqual(index.slots(hashKey('id-absent')), []);
  });

  it('grows by small steps: no add allocates more than a chunk and a segment, and an entry costs under 40 bytes', () => {
    const index = new KeyIndex();
    let before = index.bytes;
    let largestStep = 0;
    for (let i = 0; i < 600_000; i++) {
      index.add(hashKey(`cand:s${i}#0`), i * 300, 300);
      const now = index.bytes;
      largestStep = Math.max(largestStep, now - before);
      before = now;
    }
    // A doubling index would take a step of megabytes near 2^19 entries (its arrays and table copied whole).
    assert.ok(largestStep <= 1.5 * 2 ** 20, `largest step ${largestStep} bytes`);
    assert.ok(index.bytes / index.size < 40, `${(index.bytes / index.size).toFixed(1)} bytes an entry`);
  });

  it('hashes 200,000 event ids of a large run without a 64-bit collision', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 20_000; seed++) {
      for (const id of [`seed:s${seed}`, `outcome:s${seed}`, `cand:s${seed}#0`, `cand:s${seed}#1`, `vote:s${seed}#0:cycle:infer:0`, `vote:s${seed}#0:cycle:compare:0`, `stage:s${seed}#0:cycle`, `stage:s${seed}#0:factuality`, `vote:s${seed}#0:factuality:judge:0`, `vote:s${seed}#1:factuality:judge:0`]) {
        const [a, b] = hashKey(id);
        seen.add(`${a}:${b}`);
      }
    }
    assert.equal(seen.size, 200_000);
  });
});

describe('AppendLog over a hash index', () => {
  const Entry = z.object({ k: z.string(), v: z.number() });
  type Entry = z.infer<typeof Entry>;
  // Every key shares one of two hashes: each lookup must tell keys apart by the lines on disk.
  const weak = (key: string): [number, number] => [0, key.length % 2];

  it('tells apart keys that share a hash, after reopening too, and keeps the first of a repeated key', () => {
    const file = tempFile();
    const log = AppendLog.open<Entry>(file, { schema: Entry, keyOf: (e) => e.k, hash: weak });
    for (let i = 0; i < 50; i++) assert.equal(log.append({ k: `key-${i}`, v: i }).written, true);
    assert.equal(log.append({ k: 'key-7', v: 700 }).written, false);
    log.close();
    // A racing writer's duplicate line: in the file, not in the record.
    fs.appendFileSync(file, `${JSON.stringify({ k: 'key-8', v: 800 })}\n`);
    const again = AppendLog.open<Entry>(file, { schema: Entry, keyOf: (e) => e.k, hash: weak });
    cleanups.push(() => again.close());
    assert.equal(again.size, 50);
    for (let i = 0; i < 50; i++) assert.deepEqual(again.read(`key-${i}`), { k: `key-${i}`, v: i });
    assert.equal(again.has('key-50'), false);
    assert.equal(again.read('key-51'), undefined);
    assert.deepEqual([...again.entries()].map((e) => e.v), Array.from({ length: 50 }, (_, i) => i));
  });

  it('streams every entry once its index is let go, and refuses lookups and appends then', () => {
    const file = tempFile();
    const log = AppendLog.open<Entry>(file, { schema: Entry, keyOf: (e) => e.k, hash: weak });
    cleanups.push(() => log.close());
    for (let i = 0; i < 20; i++) log.append({ k: `key-${i}`, v: i });
    // A racing writer's duplicate: still left out of the stream without the index.
    fs.appendFileSync(file, `${JSON.stringify({ k: 'key-3', v: 300 })}\n`);
    log.refresh();
    log.releaseIndex();
    assert.equal(log.size, 20);
    assert.deepEqual([...log.entries()].map((e) => e.v), Array.from({ length: 20 }, (_, i) => i));
    assert.throws(() => log.read('key-1'), /index was let go/);
    assert.throws(() => log.append({ k: 'key-20', v: 20 }), /index was let go/);
    assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 21, 'nothing written after the index went');
  });
});

