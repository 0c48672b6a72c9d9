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
});
