import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { parseRunConfig } from '../../../../src/core/base/config';
import type { RunEvent } from '../../../../src/core/record/events';
import { foldRun } from '../../../../src/core/record/runview';
import { formatFunnel, funnelJson } from '../../../../src/core/record/status';
import { RunStore, type RunManifest } from '../../../../src/core/record/store';
import { foldRunStreaming } from '../../../../src/core/record/streamFold';
import { sampleRun } from '../../../fixtures/events';
import { interleavedRun } from '../../../fixtures/interleaved';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function manifest(): RunManifest {
  return {
    version: 1,
    id: 'stream',
    createdAt: '2025-01-01T00:00:00.000Z',
    seedFile: { path: '/seeds.jsonl', fingerprint: 'abc', format: 'jsonl', rows: 40 },
    model: { model: 'qwen3', engine: 'server' },
    config: parseRunConfig({}),
    methodFingerprint: 'f00d',
  };
}

/** The events written through a store, as a run writes them (overrides land in their own file). */
function storeOf(events: readonly RunEvent[]): RunStore {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'svd-stream-'));
  const store = RunStore.create(dir, manifest());
  for (const event of events) store.append(event);
  cleanups.push(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

/** The old fold and the streamed one agree on what status prints and on its JSON. */
function assertSameStatus(store: RunStore, total?: number): void {
  const whole = foldRun(store.events(), total);
  const streamed = foldRunStreaming(store, total, { audit: true });
  assert.deepEqual(funnelJson(streamed), funnelJson(whole));
  assert.equal(formatFunnel(streamed), formatFunnel(whole));
}

describe('foldRunStreaming', () => {
  it('gives the status of the whole fold on the sample run', () => {
    assertSameStatus(storeOf(sampleRun().events), 7);
  });

  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`gives the status of the whole fold on interleaved seeds with late truths and overrides (case ${seed})`, () => {
      const events = interleavedRun(seed);
      const store = storeOf(events);
      assertSameStatus(store, 45);
      // The case exercises what it claims: a truth written after its seed's outcome, and an audit.
      const outcomeAt = new Map(events.flatMap((e, i) => (e.type === 'outcome' ? [[e.seedId, i] as const] : [])));
      assert.ok(events.some((e, i) => e.type === 'truth' && i > (outcomeAt.get(e.seedId) ?? Infinity)));
      assert.ok(foldRunStreaming(store, 45, { audit: true }).audit);
    });
  }

  it('hands each seed over once, with the view the whole fold has of it', () => {
    const store = storeOf(interleavedRun(11));
    const whole = new Map(foldRun(store.events()).seeds.map((s) => [s.seed.seedId, s]));
    const handed = new Map<string, unknown>();
    foldRunStreaming(store, undefined, {
      onSeed: (seed) => {
        assert.equal(handed.has(seed.seed.seedId), false);
        handed.set(seed.seed.seedId, seed);
      },
    });
    assert.equal(handed.size, whole.size);
    // Truths may come after the outcome: the handed view is the record as far as the seed's outcome.
    const strip = (s: unknown) => JSON.parse(JSON.stringify(s, (key, value: unknown) => (key === 'truth' || key === 'errors' ? undefined : value))) as unknown;
    for (const [id, seed] of whole) assert.deepEqual(strip(handed.get(id)), strip(seed));
  });
});
