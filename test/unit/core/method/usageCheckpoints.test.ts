// A running session's usage in the record: checkpoints written only when the counts moved, and a live run whose
// requests a reader of the record sees grow before the run ends, counted once when it has ended.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseRunConfig } from '../../../../src/core/base/config';
import { PURPOSES } from '../../../../src/core/base/types';
import type { NewRunEvent, RunEvent } from '../../../../src/core/record/events';
import { foldRun } from '../../../../src/core/record/runview';
import { RunStore } from '../../../../src/core/record/store';
import { runPipeline } from '../../../../src/core/method/pipeline';
import { USAGE_CHECKPOINT_MS, UsageCheckpoints } from '../../../../src/core/method/usageCheckpoints';
import { methodHandler, startScriptedServer, type SeedScript } from '../../../fixtures/scripted-server';
import { usageOf } from '../../../fixtures/events';

const PROMPTS = path.resolve(__dirname, '../../../fixtures/prompts');

describe('UsageCheckpoints', () => {
  it('records the totals when they moved, and nothing when they did not', () => {
    const written: NewRunEvent[] = [];
    let usage = usageOf({ generate: { requests: 1 } });
    const checkpoints = new UsageCheckpoints({ append: (event) => (written.push(event), undefined) }, () => usage, Date.now() - 500);
    checkpoints.write();
    checkpoints.write();
    assert.equal(written.length, 1);
    usage = usageOf({ generate: { requests: 1 }, cycle: { requests: 2 } });
    checkpoints.write();
    assert.equal(written.length, 2);
    const last = written[1]!;
    assert.equal(last.type, 'usage');
    assert.ok(last.type === 'usage' && last.usage.cycle.requests === 2 && last.wallMs >= 500);
    assert.notEqual(written[0]!.id, last.id);
  });
});

describe('a live run', () => {
  it("shows its requests in the record while it runs, and counts them once when it has ended", async () => {
    // Slow enough for a few checkpoints: 8 seeds, one request slot, 40 ms a request.
    const server = await startScriptedServer({ models: ['scripted'], latencyMs: 40 });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-usage-'));
    try {
      const scripts: SeedScript[] = Array.from({ length: 8 }, (_, i) => ({ question: `What is ${i} + ${i}?`, answers: ['wrong', 'right'] }));
      server.setHandler(methodHandler(scripts));
      const seeds = path.join(dir, 'seeds.jsonl');
      writeFileSync(seeds, scripts.map((s, i) => JSON.stringify({ id: `q${i}`, domain: 'math', question: s.question })).join('\n') + '\n');
      let runDir: string | undefined;
      const run = runPipeline({
        seedsFile: seeds,
        runsDir: path.join(dir, 'runs'),
        config: parseRunConfig({ promptsDir: PROMPTS, candidates: 2, votes: 2, concurrency: 1, batchSamples: false }),
        endpoint: { baseURL: server.url, model: 'scripted', engine: 'server' },
        onStart: (info) => (runDir = info.dir),
      });
      let ended = false;
      void run.finally(() => (ended = true));
      // A reader of the record, as the review panel is: what it saw of requests while the run said "running".
      const seen: number[] = [];
      let store: RunStore | undefined;
      const events: RunEvent[] = [];
      while (!ended) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        if (!runDir) continue;
        if (!store) {
          store = RunStore.open(runDir, { readOnly: true });
          events.push(...store.events());
        } else events.push(...store.refresh());
        const view = foldRun(events);
        if (view.state === 'running') seen.push(PURPOSES.reduce((sum, p) => sum + view.usage[p].requests, 0));
      }
      const result = await run;
      events.push(...store!.refresh());
      store!.close();
      assert.ok(seen.some((requests) => requests > 0), `requests seen while running: ${seen.join(', ')} (a checkpoint every ${USAGE_CHECKPOINT_MS} ms)`);
      assert.ok(events.some((event) => event.type === 'usage'));
      const final = foldRun(events);
      for (const purpose of PURPOSES) assert.deepEqual(final.usage[purpose].requests, result.usage[purpose].requests, purpose);
      assert.equal(final.usage.generate.requests, 16, 'one request a candidate, counted once');
    } finally {
      await server.close();
    }
  });
});
