// The review index on disk: built by streaming the record, saved beside the run, followed from the byte where it
// stopped, a torn last line left for later, rebuilt when the record no longer matches, overrides applied.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunEvent } from '../../../../src/core/record/events';
import { makeOverride } from '../../../../src/core/record/overrides';
import { REVIEW_INDEX_FILE, ReviewIndex, type SeedSummarizer } from '../../../../src/core/record/reviewIndex';
import { appendOverride, RunStore } from '../../../../src/core/record/store';
import { parseRunConfig } from '../../../../src/core/base/config';
import { EventLog, sampleRun } from '../../../fixtures/events';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'svd-review-index-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let runs = 0;

/** A row that says what the summarizer saw: the seed's event ids, in order. */
interface Seen {
  ids: string[];
}
const summarizer: SeedSummarizer<Seen> = {
  version: 'test-1',
  summarize: (events) => (events.some((event) => event.type === 'seed') ? { ids: events.map((event) => event.id) } : undefined),
};

function lines(events: readonly RunEvent[]): string {
  return events.map((event) => `${JSON.stringify(event)}\n`).join('');
}

/** A run folder holding `events` (overrides in their own file, as the store keeps them). */
function runDir(events: readonly RunEvent[]): string {
  const dir = path.join(scratch, `run-${++runs}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'events.jsonl'), lines(events.filter((event) => event.type !== 'override')));
  writeFileSync(path.join(dir, 'overrides.jsonl'), lines(events.filter((event) => event.type === 'override')));
  return dir;
}

/** What a whole-record fold groups by seed, for comparison: each seed's event ids, pipeline file first. */
function expected(events: readonly RunEvent[]): Map<string, string[]> {
  const ordered = [...events.filter((e) => e.type !== 'override'), ...events.filter((e) => e.type === 'override')];
  const bySeed = new Map<string, string[]>();
  for (const event of ordered) {
    const seedId =
      'seedId' in event && event.seedId !== undefined ? event.seedId : 'candidateId' in event && event.candidateId ? event.candidateId.slice(0, event.candidateId.lastIndexOf('#')) : undefined;
    if (seedId === undefined) continue;
    const list = bySeed.get(seedId) ?? [];
    if (!list.includes(event.id)) list.push(event.id);
    bySeed.set(seedId, list);
  }
  return bySeed;
}

function rows(index: ReviewIndex<Seen>): Map<string, string[]> {
  return new Map(index.seeds().map((seed) => [seed.id, seed.row.ids]));
}

test('a build streams the record into rows by seed, in seed-file order, and is saved beside the run', () => {
  const events = sampleRun().events;
  const dir = runDir(events);
  const index = ReviewIndex.open(dir, summarizer);
  assert.equal(index.loaded, false);
  const changes = index.advance();
  assert.ok(index.complete);
  const want = expected(events);
  assert.deepEqual(rows(index), new Map([...want].filter(([id]) => events.some((e) => e.type === 'seed' && e.seedId === id))));
  assert.deepEqual(index.seeds().map((seed) => seed.line), [...index.seeds().map((seed) => seed.line)].sort((a, b) => a - b));
  assert.equal(changes.seeds.size, want.size);
  assert.equal(index.errors, events.filter((e) => e.type === 'error').length);
  // The seed's events come back from disk whole, texts included.
  const first = index.seeds()[0]!;
  assert.deepEqual(index.seedEvents(first.id), events.filter((e) => want.get(first.id)!.includes(e.id)).sort((a, b) => Number(a.type === 'override') - Number(b.type === 'override')));
  assert.ok(index.save());
  index.close();

  const again = ReviewIndex.open(dir, summarizer);
  assert.equal(again.loaded, true);
  assert.deepEqual(rows(again), rows(index));
  assert.equal(again.advance().seeds.size, 0, 'nothing new: nothing read again');
  assert.equal(again.errors, index.errors);
  assert.deepEqual(again.runEvents(), index.runEvents());
  again.close();
});

test('a growing record is followed from the byte the index stopped at; a torn last line waits for its end', () => {
  const events = sampleRun().events.filter((e) => e.type !== 'override');
  const half = Math.floor(events.length / 2);
  const dir = runDir(events.slice(0, half));
  const index = ReviewIndex.open(dir, summarizer);
  index.advance();
  index.save();
  index.close();

  const reopened = ReviewIndex.open(dir, summarizer);
  assert.equal(reopened.loaded, true);
  const rest = lines(events.slice(half));
  const cut = rest.length - 7;
  appendFileSync(path.join(dir, 'events.jsonl'), rest.slice(0, cut));
  const changes = reopened.advance();
  const progress = reopened.progress();
  assert.equal(progress.total - progress.indexed, Buffer.byteLength(rest.slice(rest.lastIndexOf('\n', cut - 1) + 1, cut)), 'the torn line is not indexed');
  // Only the seeds of the appended events changed.
  const appended = expected(events.slice(half));
  for (const id of changes.seeds) assert.ok(appended.has(id), id);
  appendFileSync(path.join(dir, 'events.jsonl'), rest.slice(cut));
  reopened.advance();
  const full = ReviewIndex.open(runDir(events), summarizer);
  full.advance();
  assert.deepEqual(rows(reopened), rows(full));
  assert.deepEqual(reopened.runEvents(), full.runEvents());
  reopened.close();
  full.close();
});

test('an index that no longer matches its record is rebuilt', () => {
  const events = sampleRun().events;
  const dir = runDir(events);
  const index = ReviewIndex.open(dir, summarizer);
  index.advance();
  index.save();
  index.close();
  // The record replaced by another of the same size: the head bytes differ.
  const file = path.join(dir, 'events.jsonl');
  const size = statSync(file).size;
  const other = new EventLog();
  other.seed('zz', { line: 1, question: 'x'.repeat(50) });
  let text = lines(other.events);
  text += `${' '.repeat(Math.max(0, size - text.length - 1))}\n`;
  writeFileSync(file, text);
  const reopened = ReviewIndex.open(dir, summarizer);
  assert.equal(reopened.loaded, false);
  reopened.advance();
  assert.deepEqual([...rows(reopened).keys()], ['zz']);
  // A record cut short while an index was open: the next look starts again.
  reopened.save();
  writeFileSync(file, '');
  const changes = reopened.advance();
  assert.equal(changes.reset, true);
  assert.equal(reopened.seeds().length, 0);
  reopened.close();
  // An index saved by another row version is not read.
  writeFileSync(file, lines(events.filter((e) => e.type !== 'override')));
  const built = ReviewIndex.open(dir, summarizer);
  built.advance();
  built.save();
  built.close();
  assert.equal(ReviewIndex.open(dir, { ...summarizer, version: 'test-2' }).loaded, false);
  assert.ok(readFileSync(path.join(dir, REVIEW_INDEX_FILE)).length > 0);
});

test('overrides land in their seed after its events, and a later override is picked up', () => {
  const events = sampleRun().events;
  const dir = runDir(events);
  const index = ReviewIndex.open(dir, summarizer);
  index.advance();
  const seed = index.seeds()[0]!;
  const candidateId = `${seed.id}#0`;
  const override = makeOverride(() => true, candidateId, 'accept', 'by hand') as RunEvent;
  appendFileSync(path.join(dir, 'overrides.jsonl'), lines([override]));
  const changes = index.advance();
  assert.deepEqual([...changes.seeds], [seed.id]);
  assert.equal(index.seed(seed.id)!.row.ids.at(-1), override.id);
  assert.equal(index.seedEvents(seed.id).at(-1)?.type, 'override');
  index.close();
});

test('a complete line that is not a run event is an error naming the file and line', () => {
  const events = sampleRun().events.filter((e) => e.type !== 'override');
  const dir = runDir(events);
  const file = path.join(dir, 'events.jsonl');
  const text = readFileSync(file, 'utf8').split('\n');
  text.splice(3, 0, '{"type":"seed","id":"seed:x","seedId":"x"}');
  writeFileSync(file, text.join('\n'));
  const index = ReviewIndex.open(dir, summarizer);
  assert.throws(() => index.advance(), (error: Error) => error.message.includes(`${file}:4: line`));
  index.close();
  // The same line last in the file is taken for torn: left until it is complete.
  writeFileSync(file, `${lines(events)}{"type":"vote"\n`);
  const torn = ReviewIndex.open(dir, summarizer);
  torn.advance();
  assert.equal(torn.seeds().length, new Set(events.filter((e) => e.type === 'seed').map((e) => e.id)).size);
  torn.close();
});

test('a budget stops the build early; the seeds read so far are there, and the next calls go on', () => {
  const log = new EventLog();
  for (let s = 0; s < 400; s++) {
    log.seed(`s${s}`, { line: s + 1 });
    log.candidate(`s${s}`, 0, { text: 'x'.repeat(4000) });
  }
  const dir = runDir(log.events);
  const index = ReviewIndex.open(dir, summarizer);
  index.advance(0);
  assert.equal(index.complete, false);
  const partial = index.seeds().length;
  assert.ok(partial > 0 && partial < 400, `${partial}`);
  assert.equal(index.save(), false, 'a partial index is not saved');
  while (!index.complete) assert.equal(index.advance(5).reset, false);
  assert.equal(index.seeds().length, 400);
  assert.deepEqual([...(index.seedsWithText('xxxx') ?? [])].length, 400);
  assert.deepEqual([...(index.seedsWithText('s17') ?? [])].sort(), ['s17', 's170', 's171', 's172', 's173', 's174', 's175', 's176', 's177', 's178', 's179'].sort());
  assert.equal(index.seedsWithText('a"b'), undefined);
  index.close();
});

test('a text search finds a text in a line longer than the chunks it reads, and one cut by a chunk boundary', () => {
  const log = new EventLog();
  log.seed('long', { line: 1 });
  // Several times the search's 64 KiB chunk, the needle at the very end of the line.
  log.candidate('long', 0, { text: `${'y'.repeat(300_000)}needle-at-the-end` });
  for (let s = 0; s < 40; s++) {
    log.seed(`s${s}`, { line: s + 2 });
    log.candidate(`s${s}`, 0, { text: `${'z'.repeat(5_000 + s * 97)} marker${s}x` });
  }
  const dir = runDir(log.events);
  const index = ReviewIndex.open(dir, summarizer);
  index.advance();
  assert.deepEqual([...(index.seedsWithText('needle-at-the-end') ?? [])], ['long']);
  for (let s = 0; s < 40; s++) assert.deepEqual([...(index.seedsWithText(`marker${s}x`) ?? [])], [`s${s}`], `marker${s}x`);
  index.close();
});

test('appendOverride records a decision in overrides.jsonl without opening the record, once per id', () => {
  const dir = path.join(scratch, `run-${++runs}`);
  const store = RunStore.create(dir, {
    version: 1,
    id: path.basename(dir),
    createdAt: '2025-03-01T10:00:00.000Z',
    seedFile: { path: '/data/seeds.jsonl', fingerprint: 'abc', format: 'jsonl', rows: 9 },
    model: { model: 'm', baseURL: 'http://127.0.0.1:1/v1', engine: 'server' },
    config: parseRunConfig({ candidates: 4, votes: 3 }),
    methodFingerprint: 'f',
  });
  for (const event of sampleRun().events.filter((e) => e.type !== 'override')) store.append(event);
  store.close();
  const index = ReviewIndex.open(dir, summarizer);
  index.advance();
  const override = makeOverride(() => true, 's1#0', 'reject', 'no');
  assert.equal(appendOverride(dir, override)?.id, override.id);
  assert.equal(appendOverride(dir, override), undefined, 'the same decision twice is written once');
  assert.throws(() => appendOverride(path.join(scratch, 'nowhere'), override), /no run at/);
  index.advance();
  assert.equal(index.seed('s1')!.row.ids.filter((id) => id === override.id).length, 1);
  // The store reads it back as its own.
  const reopened = RunStore.open(dir, { readOnly: true });
  assert.equal(reopened.get(override.id)?.type, 'override');
  reopened.close();
  index.close();
});
