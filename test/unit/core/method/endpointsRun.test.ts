// Runs over several scripted replicas: one killed mid-run, one throttling. Both must end with the accepted set of a
// run against one healthy server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRunConfig } from '../../../../src/core/base/config';
import type { RunEvent } from '../../../../src/core/record/events';
import { runPipeline, type Endpoint, type Progress } from '../../../../src/core/method/pipeline';
import { RunStore } from '../../../../src/core/record/store';
import { endpointsLines, readEndpoints } from '../../../../src/cli/endpointsStatus';
import { methodHandler, startScriptedServer, type ScriptedServer, type ScriptedServerOptions, type SeedScript } from '../../../fixtures/scripted-server';

const PROMPTS = path.resolve(__dirname, '../../../fixtures/prompts');

const SCRIPTS: SeedScript[] = Array.from({ length: 18 }, (_, i) => ({
  question: `Replica seed ${i}: what is ${i} + ${i + 1}?`,
  answers: i % 3 === 0 ? ['wrong', 'right', 'wrong', 'right'] : i % 3 === 1 ? ['wrong', 'wrong', 'wrong', 'wrong'] : ['right', 'right', 'right', 'right'],
  ...(i % 5 === 0 ? { correctness: ['Y', 'N', 'Y'] as ('Y' | 'N')[] } : {}),
}));

function seedsFile(dir: string): string {
  const file = path.join(dir, 'seeds.jsonl');
  writeFileSync(file, SCRIPTS.map((s, i) => JSON.stringify({ id: `r${i}`, domain: 'math', question: s.question })).join('\n') + '\n');
  return file;
}

function replica(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  return startScriptedServer({ models: ['scripted'], handler: methodHandler(SCRIPTS), ...options });
}

interface Outcome {
  accepted: Record<string, string[]>;
  errors: number;
  state: string;
  last?: Progress;
  /** What `svd status` prints of the servers. */
  statusLines: string[];
}

/** A run in a folder of its own (its own response cache too), over the given servers. */
async function runOver(servers: ScriptedServer[], during?: () => Promise<void>): Promise<Outcome> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-replicas-'));
  try {
    const endpoint: Endpoint = {
      baseURL: servers[0]!.url,
      model: 'scripted',
      engine: 'server',
      ...(servers.length > 1 ? { replicas: servers.map((s) => ({ url: s.url, model: 'scripted', weight: 1 })) } : {}),
    };
    let last: Progress | undefined;
    const running = runPipeline({
      seedsFile: seedsFile(dir),
      runsDir: path.join(dir, 'runs'),
      config: parseRunConfig({ promptsDir: PROMPTS, candidates: 4, votes: 3, concurrency: 16, selection: 'keep_all', maxRetries: 2 }),
      endpoint,
      onProgress: (p) => {
        last = p;
      },
    });
    await during?.();
    const result = await running;
    const store = RunStore.open(result.dir, { readOnly: true });
    const events: RunEvent[] = [...store.events()];
    store.close();
    const accepted: Record<string, string[]> = {};
    for (const e of events) if (e.type === 'outcome') accepted[e.seedId] = [...e.acceptedCandidateIds].sort();
    const statusLines = endpointsLines(readEndpoints(result.dir));
    return { accepted, errors: events.filter((e) => e.type === 'error').length, state: result.state, statusLines, ...(last ? { last } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('a run over several replicas', () => {
  test('a replica killed mid-run loses nothing: the accepted set is that of one healthy server', async () => {
    const healthy = await replica();
    const baseline = await runOver([healthy]);
    await healthy.close();
    assert.equal(Object.keys(baseline.accepted).length, SCRIPTS.length);
    assert.ok(Object.values(baseline.accepted).some((ids) => ids.length === 0), 'some seeds are rejected');
    assert.ok(Object.values(baseline.accepted).some((ids) => ids.length > 0), 'some seeds are accepted');

    const doomed = await replica({ latencyMs: 15 });
    const survivor = await replica({ latencyMs: 15 });
    const outcome = await runOver([doomed, survivor], async () => {
      // Killed with requests in flight, once it has served a share of the run.
      await until(() => doomed.countBy() >= 20 && doomed.inFlight > 0, 'the first replica to be busy');
      await doomed.close();
    });
    await survivor.close();
    assert.equal(outcome.state, 'finished');
    assert.equal(outcome.errors, 0);
    assert.deepEqual(outcome.accepted, baseline.accepted);
    assert.ok(survivor.countBy() > 0);
    const [first, second] = outcome.last!.endpoints!;
    assert.notEqual(first!.state, 'up');
    assert.ok(first!.errors > 0);
    assert.equal(second!.state, 'up');
    // `svd status` shows each server as the session left it.
    assert.equal(outcome.statusLines.length, 3, outcome.statusLines.join('\n'));
    assert.match(outcome.statusLines[1]!, new RegExp(`${doomed.url}\\s+(down|probing)\\s+requests \\d+\\s+errors [1-9]`));
    assert.match(outcome.statusLines[2]!, new RegExp(`${survivor.url}\\s+up\\s+requests [1-9]\\d*\\s+errors 0`));
  });

  test('a 429 storm on one replica: the run completes and that replica takes fewer requests at once', async () => {
    const healthy = await replica();
    const baseline = await runOver([healthy]);
    await healthy.close();

    const stormy = await replica({ latencyMs: 10, throttleAbove: 2 });
    const calm = await replica({ latencyMs: 10 });
    const outcome = await runOver([stormy, calm]);
    await Promise.all([stormy.close(), calm.close()]);
    assert.equal(outcome.state, 'finished');
    assert.equal(outcome.errors, 0);
    assert.deepEqual(outcome.accepted, baseline.accepted);
    assert.ok(stormy.throttled > 0, 'the replica throttled');
    const [throttled, other] = outcome.last!.endpoints!;
    assert.ok(throttled!.throttled > 0);
    assert.ok(throttled!.limit < throttled!.maxConcurrency, `limit ${throttled!.limit} of ${throttled!.maxConcurrency}`);
    assert.equal(other!.throttled, 0);
    assert.ok(other!.requests > throttled!.requests - throttled!.throttled);
  });
});
