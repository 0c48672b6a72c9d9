import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelCallError } from '../../../../src/core/method/model';
import { EndpointPool, type MemberClient, type PoolClock } from '../../../../src/core/method/endpoints';
import { PURPOSES, type Purpose, type Sample, type SampleRequest } from '../../../../src/core/base/types';
import type { UsageCounts } from '../../../../src/core/record/events';

const request: SampleRequest = { purpose: 'generate', messages: [{ role: 'user', content: 'q' }], temperature: 0.8, topP: 0.95, maxTokens: 64 };

/** Time that moves only when the test says so. */
class FakeClock implements PoolClock {
  time = 0;
  private timers: { at: number; fn: () => void }[] = [];
  now = () => this.time;
  after = (ms: number, fn: () => void) => {
    const timer = { at: this.time + ms, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  };
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fn();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}

type Behaviour = (n: number) => Promise<Sample[]> | Sample[];

/** A replica whose answers the test scripts: held until released, or failing. */
class FakeMember implements MemberClient {
  calls: number[] = [];
  pending: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  behaviour: Behaviour | 'hold' = (n) => samples(n);
  alive = true;
  probes = 0;

  complete(_request: SampleRequest, n: number): Promise<Sample[]> {
    this.calls.push(n);
    const behaviour = this.behaviour;
    if (behaviour === 'hold') {
      return new Promise((resolve, reject) => this.pending.push({ resolve: () => resolve(samples(n)), reject }));
    }
    return Promise.resolve().then(() => behaviour(n));
  }
  probe(): Promise<void> {
    return this.alive ? Promise.resolve() : Promise.reject(refused());
  }
  listModels(): Promise<string[]> {
    this.probes++;
    return this.alive ? Promise.resolve(['m']) : Promise.reject(refused());
  }
  usage(): Record<Purpose, UsageCounts> {
    return Object.fromEntries(PURPOSES.map((p) => [p, { requests: 0, promptTokens: 0, completionTokens: 0, cachedSamples: 0, retries: 0 }])) as Record<Purpose, UsageCounts>;
  }
  releaseAll(): void {
    for (const p of this.pending.splice(0)) p.resolve();
  }
}

const samples = (n: number): Sample[] => Array.from({ length: n }, () => ({ text: 'ok', finishReason: 'stop', promptTokens: 1, completionTokens: 1 }));
const refused = () => new ModelCallError('unreachable', 'Cannot reach (ECONNREFUSED)');
const status = (code: number, retryAfterMs?: number) =>
  Object.assign(new ModelCallError('server', `answered ${code}`, { status: code }), retryAfterMs === undefined ? {} : { retryAfterMs });

function pool(members: FakeMember[], options: { weights?: number[]; max?: number[]; concurrency?: number; maxRetries?: number } = {}) {
  const clock = new FakeClock();
  const notices: string[] = [];
  const p = new EndpointPool({
    members: members.map((client, i) => ({
      url: `http://replica-${i}:8000/v1`,
      client,
      ...(options.weights ? { weight: options.weights[i]! } : {}),
      ...(options.max ? { maxConcurrency: options.max[i]! } : {}),
    })),
    concurrency: options.concurrency ?? 64,
    maxRetries: options.maxRetries ?? 2,
    retryBaseMs: 100,
    retryMaxMs: 100,
    clock,
    onNotice: (m) => notices.push(m),
  });
  return { p, clock, notices };
}

describe('EndpointPool routing', () => {
  test('each request goes to the endpoint with the fewest in flight for its weight', async () => {
    const a = new FakeMember();
    const b = new FakeMember();
    a.behaviour = 'hold';
    b.behaviour = 'hold';
    const { p } = pool([a, b], { weights: [1, 3] });
    const done = Array.from({ length: 8 }, () => p.complete(request, 1));
    await settle();
    assert.equal(a.calls.length, 2);
    assert.equal(b.calls.length, 6);
    assert.deepEqual(p.endpoints().map((e) => e.inFlight), [2, 6]);
    a.releaseAll();
    b.releaseAll();
    await Promise.all(done);
    assert.equal(p.inFlight, 0);
  });

  test("a step's n samples are one request on one endpoint", async () => {
    const a = new FakeMember();
    const b = new FakeMember();
    const { p } = pool([a, b]);
    const got = await p.complete(request, 4);
    assert.equal(got.length, 4);
    assert.deepEqual([...a.calls, ...b.calls], [4]);
  });

  test('the pool holds requests beyond its concurrency and hands freed slots on in order', async () => {
    const a = new FakeMember();
    const b = new FakeMember();
    a.behaviour = 'hold';
    b.behaviour = 'hold';
    const { p } = pool([a, b], { concurrency: 3 });
    const done = Array.from({ length: 5 }, () => p.complete(request, 1));
    await settle();
    assert.equal(a.calls.length + b.calls.length, 3);
    a.releaseAll();
    await settle();
    assert.equal(a.calls.length + b.calls.length, 5);
    assert.ok(p.inFlight <= 3);
    a.releaseAll();
    b.releaseAll();
    await settle();
    a.releaseAll();
    b.releaseAll();
    await Promise.all(done);
  });
});

describe('EndpointPool failures', () => {
  test('a refused request fails over to another endpoint; the refusing one is out, then probed back in', async () => {
    const a = new FakeMember();
    const b = new FakeMember();
    a.behaviour = () => {
      throw refused();
    };
    a.alive = false;
    const { p, clock, notices } = pool([a, b]);
    const got = await p.complete(request, 2);
    assert.equal(got.length, 2);
    assert.deepEqual(a.calls, [2]);
    assert.deepEqual(b.calls, [2]);
    assert.equal(p.endpoints()[0]!.state, 'down');
    assert.equal(p.endpoints()[0]!.errors, 1);
    // While out it gets nothing.
    await p.complete(request, 1);
    assert.equal(a.calls.length, 1);
    // Backoff: probed after 1 s, still dead: out again for 2 s.
    await clock.advance(999);
    assert.equal(a.probes, 0);
    await clock.advance(1);
    assert.equal(a.probes, 1);
    assert.equal(p.endpoints()[0]!.state, 'down');
    await clock.advance(1999);
    assert.equal(a.probes, 1);
    a.alive = true;
    a.behaviour = (n) => samples(n);
    await clock.advance(1);
    assert.equal(a.probes, 2);
    assert.equal(p.endpoints()[0]!.state, 'up');
    assert.ok(notices.some((n) => n.includes('back in the pool')), notices.join('\n'));
    await Promise.all([p.complete(request, 1), p.complete(request, 1)]);
    assert.equal(a.calls.length, 2);
    p.close();
  });

  test('a run of 5xx takes an endpoint out; fewer do not', async () => {
    const a = new FakeMember();
    const b = new FakeMember();
    let failures = 2;
    a.behaviour = (n) => {
      if (failures-- > 0) throw status(503);
      return samples(n);
    };
    const { p } = pool([a, b]);
    // Ties go to the first endpoint, so each request tries a first; its 503s fail over to b.
    for (let i = 0; i < 3; i++) assert.equal((await p.complete(request, 1)).length, 1);
    assert.equal(a.calls.length, 3);
    assert.equal(p.endpoints()[0]!.state, 'up');
    assert.equal(p.endpoints()[0]!.errors, 2);
    // A success in between reset the count: three in a row now.
    failures = 3;
    for (let i = 0; i < 3; i++) await p.complete(request, 1);
    assert.equal(p.endpoints()[0]!.state, 'down');
    assert.equal(b.calls.length, 5);
    p.close();
  });

  test('with every endpoint down a request retries after a wait, then fails with the last error', async () => {
    const a = new FakeMember();
    const b = new FakeMember();
    for (const m of [a, b]) {
      m.alive = false;
      m.behaviour = () => {
        throw refused();
      };
    }
    const { p, clock } = pool([a, b], { maxRetries: 1 });
    const outcome = p.complete(request, 1).then(
      () => 'answered',
      (error: unknown) => error,
    );
    await settle();
    assert.equal(a.calls.length + b.calls.length, 2);
    await clock.advance(5000);
    const error = await outcome;
    assert.ok(error instanceof ModelCallError && error.kind === 'unreachable', String(error));
    p.close();
  });

  test('a request waiting while every endpoint is down goes out as soon as one is probed back in', async () => {
    const a = new FakeMember();
    a.alive = false;
    a.behaviour = () => {
      throw refused();
    };
    const { p, clock } = pool([a], { maxRetries: 5 });
    const outcome = p.complete(request, 1);
    await settle();
    a.alive = true;
    a.behaviour = (n) => samples(n);
    await clock.advance(1000);
    assert.equal((await outcome).length, 1);
    p.close();
  });

  test('a rejected key is no endpoint failure: it fails the request at once', async () => {
    const a = new FakeMember();
    a.behaviour = () => {
      throw new ModelCallError('auth', 'answered 401');
    };
    const { p } = pool([a, new FakeMember()]);
    await assert.rejects(p.complete(request, 1), /401/);
    assert.equal(p.endpoints()[0]!.state, 'up');
  });
});

describe('EndpointPool AIMD on 429', () => {
  test('429 halves the limit and Retry-After pauses the endpoint', async () => {
    const a = new FakeMember();
    const b = new FakeMember();
    a.behaviour = () => {
      throw status(429, 2000);
    };
    const { p, clock } = pool([a, b], { max: [8, 8] });
    // a is chosen first (ties go to the first); its 429 fails the request over to b.
    await p.complete(request, 1);
    assert.equal(p.endpoints()[0]!.limit, 4);
    assert.equal(p.endpoints()[0]!.throttled, 1);
    // Paused: everything goes to b until the Retry-After has passed.
    for (let i = 0; i < 3; i++) await p.complete(request, 1);
    assert.equal(a.calls.length, 1);
    await clock.advance(2000);
    await p.complete(request, 1);
    assert.equal(a.calls.length, 2);
    assert.equal(p.endpoints()[0]!.limit, 2);
    p.close();
  });

  test('additive increase: one more slot per window of as many successes as the limit', async () => {
    const a = new FakeMember();
    let throttle = 1;
    a.behaviour = (n) => {
      if (throttle-- > 0) throw status(429);
      return samples(n);
    };
    const { p, clock } = pool([a], { max: [8] });
    const first = p.complete(request, 1);
    await settle();
    // The only endpoint refused it: a retry proper, after the backoff.
    await clock.advance(100);
    await first;
    const limits: number[] = [];
    for (let i = 0; i < 9; i++) {
      await p.complete(request, 1);
      limits.push(p.endpoints()[0]!.limit);
    }
    // 4 after the halving, and the first success already counted in the window.
    assert.deepEqual(limits, [4, 4, 5, 5, 5, 5, 5, 6, 6]);
    assert.deepEqual(p.usage().generate.retries, 1);
    p.close();
  });
});
