// Engine benchmark: (1) the engine's own overhead, as achieved requests/s over the ideal when every request takes
// 100 ms and 64 are in flight; (2) requests and tokens per accepted answer against the naive count (every
// candidate, every stage, every vote as its own request) on a run where half the candidates are wrong.
// With `--replicas N`: the endpoint pool's throughput instead, as achieved requests/s over the ideal when N replicas
// each answer in 100 ms and 64 requests per replica are in flight.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseRunConfig } from '../src/core/base/config';
import { runPipeline } from '../src/core/method/pipeline';
import type { SeedScript } from '../test/fixtures/scripted-server';
import { PURPOSES } from '../src/core/base/types';
import { EndpointPool, type MemberClient } from '../src/core/method/endpoints';

const ROOT = path.resolve(__dirname, '..');
const PROMPTS = path.join(ROOT, 'test/fixtures/prompts');

interface Server {
  url: string;
  requests(): Promise<number>;
  /** CPU seconds the server's process has used so far (Linux; 0 elsewhere). */
  cpuSeconds(): number;
  close(): Promise<void>;
}

async function startServer(dir: string, latencyMs: number, seeds: SeedScript[]): Promise<Server> {
  const spec = path.join(dir, `server-${latencyMs}.json`);
  writeFileSync(spec, JSON.stringify({ latencyMs, seeds }));
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'serve-scripted.ts'), spec], {
    cwd: ROOT,
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('the scripted server did not start');
  return {
    url: first.value,
    requests: async () => {
      child.stdin.write('\n');
      const line = await lines.next();
      return (JSON.parse(line.value as string) as { requests: number }).requests;
    },
    cpuSeconds: () => processCpuSeconds(child.pid),
    close: async () => {
      child.stdin.end();
      await new Promise((resolve) => child.on('close', resolve));
    },
  };
}

function processCpuSeconds(pid: number | undefined): number {
  try {
    // /proc/PID/stat: utime and stime are fields 14 and 15, in clock ticks (100 a second); the name may hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function seedsFile(dir: string, name: string, seeds: SeedScript[]): string {
  const file = path.join(dir, `${name}.jsonl`);
  writeFileSync(file, seeds.map((s, i) => JSON.stringify({ id: `b${i}`, domain: 'math', question: s.question })).join('\n') + '\n');
  return file;
}

async function rate(dir: string): Promise<number> {
  const concurrency = 64;
  const latencyMs = 100;
  // All right answers, n=4, v=3: 7 requests a seed (1 generation, 1 inference, 3 comparisons, 2 judges).
  const seeds: SeedScript[] = Array.from({ length: Math.ceil(2000 / 7) }, (_, i) => ({ question: `Rate seed ${i}: what is ${i} + ${i}?` }));
  const warmup: SeedScript[] = Array.from({ length: 64 }, (_, i) => ({ question: `Warm-up seed ${i}: what is ${i} - 1?` }));
  const server = await startServer(dir, latencyMs, [...seeds, ...warmup]);
  try {
    // A first, small run loads and compiles every module on the path, so the figure is the steady state.
    await runPipeline({
      seedsFile: seedsFile(dir, 'warmup', warmup),
      runsDir: path.join(dir, 'warmup', 'runs'),
      config: parseRunConfig({ promptsDir: PROMPTS, concurrency, candidates: 4, votes: 3 }),
      endpoint: { baseURL: server.url, model: 'bench', engine: 'server' },
      probe: false,
    });
    const before = await server.requests();
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    await runPipeline({
      seedsFile: seedsFile(dir, 'rate', seeds),
      runsDir: path.join(dir, 'rate', 'runs'),
      config: parseRunConfig({ promptsDir: PROMPTS, concurrency, candidates: 4, votes: 3 }),
      endpoint: { baseURL: server.url, model: 'bench', engine: 'server' },
      probe: false,
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    const requests = (await server.requests()) - before;
    console.log(`rate: engine CPU ${(((used.user + used.system) / requests)).toFixed(0)} us per request (load average ${os.loadavg()[0]!.toFixed(2)} on ${os.availableParallelism()} cores)`);
    const achieved = requests / seconds;
    const ideal = concurrency / (latencyMs / 1000);
    console.log(`rate: ${requests} requests in ${seconds.toFixed(2)} s = ${achieved.toFixed(1)} req/s; ideal ${ideal} req/s`);
    return achieved / ideal;
  } finally {
    await server.close();
  }
}

async function cost(dir: string): Promise<{ perAccepted: number; naivePerAccepted: number }> {
  const n = 4;
  const v = 3;
  const seeds: SeedScript[] = Array.from({ length: 100 }, (_, i) => ({
    question: `Cost seed ${i}: what is ${i} * 3?`,
    // Half the candidates are wrong, in varying positions.
    answers: i % 2 === 0 ? ['wrong', 'right', 'wrong', 'right'] : ['right', 'wrong', 'right', 'wrong'],
  }));
  const server = await startServer(dir, 0, seeds);
  try {
    const result = await runPipeline({
      seedsFile: seedsFile(dir, 'cost', seeds),
      runsDir: path.join(dir, 'cost', 'runs'),
      config: parseRunConfig({ promptsDir: PROMPTS, concurrency: 16, candidates: n, votes: v }),
      endpoint: { baseURL: server.url, model: 'bench', engine: 'server' },
      probe: false,
    });
    const requests = await server.requests();
    const tokens = PURPOSES.reduce((sum, p) => sum + result.usage[p].promptTokens + result.usage[p].completionTokens, 0);
    const naiveRequests = seeds.length * n * (1 + 4 * v);
    // Naive tokens: each naive request costs what a request of its purpose cost here, per sample.
    const perSample = (p: (typeof PURPOSES)[number]) => {
      const u = result.usage[p];
      return u.requests > 0 ? (u.promptTokens + u.completionTokens) / Math.max(1, u.requests) : 0;
    };
    const naiveTokens = seeds.length * n * (perSample('generate') + v * (2 * perSample('cycle') + perSample('factuality') + perSample('correctness')));
    const accepted = result.accepted;
    console.log(`cost: ${seeds.length} seeds, n=${n}, v=${v}, half the candidates wrong: ${accepted} accepted`);
    console.log(`cost: ${requests} requests (${(requests / accepted).toFixed(2)} per accepted), naive ${naiveRequests} (${(naiveRequests / accepted).toFixed(2)} per accepted)`);
    console.log(`cost: ${tokens} tokens (${(tokens / accepted).toFixed(0)} per accepted), naive about ${naiveTokens.toFixed(0)} (${(naiveTokens / accepted).toFixed(0)} per accepted)`);
    return { perAccepted: requests / accepted, naivePerAccepted: naiveRequests / accepted };
  } finally {
    await server.close();
  }
}

async function replicaRate(dir: string, replicas: number): Promise<number> {
  const concurrency = 64 * replicas;
  const latencyMs = 100;
  // 7 requests a seed, as in rate(); about 8 s of ideal traffic.
  const seeds: SeedScript[] = Array.from({ length: Math.ceil((concurrency * 10 * 8) / 7) }, (_, i) => ({ question: `Replica seed ${i}: what is ${i} + ${i}?` }));
  const warmup: SeedScript[] = Array.from({ length: concurrency }, (_, i) => ({ question: `Warm-up seed ${i}: what is ${i} - 1?` }));
  const servers = await Promise.all(Array.from({ length: replicas }, () => startServer(dir, latencyMs, [...seeds, ...warmup])));
  const endpoint = {
    baseURL: servers[0]!.url,
    model: 'bench',
    engine: 'server' as const,
    replicas: servers.map((server) => ({ url: server.url, model: 'bench', weight: 1 })),
  };
  const config = parseRunConfig({ promptsDir: PROMPTS, concurrency, candidates: 4, votes: 3 });
  try {
    await runPipeline({ seedsFile: seedsFile(dir, 'replica-warmup', warmup), runsDir: path.join(dir, 'replica-warmup', 'runs'), config, endpoint, probe: false });
    const before = await Promise.all(servers.map((server) => server.requests()));
    const serverCpu = servers.reduce((sum, server) => sum + server.cpuSeconds(), 0);
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    await runPipeline({ seedsFile: seedsFile(dir, 'replicas', seeds), runsDir: path.join(dir, 'replicas', 'runs'), config, endpoint, probe: false });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    const after = await Promise.all(servers.map((server) => server.requests()));
    const serverSeconds = servers.reduce((sum, server) => sum + server.cpuSeconds(), 0) - serverCpu;
    const perReplica = after.map((n, i) => n - before[i]!);
    const requests = perReplica.reduce((a, b) => a + b, 0);
    const achieved = requests / seconds;
    const ideal = concurrency / (latencyMs / 1000);
    const engineUs = (used.user + used.system) / requests;
    const serversUs = (serverSeconds * 1e6) / requests;
    console.log(`endpoints: engine CPU ${engineUs.toFixed(0)} us per request, the replicas' ${serversUs.toFixed(0)} us (load average ${os.loadavg()[0]!.toFixed(2)} on ${os.availableParallelism()} cores)`);
    // What this machine allows whatever the routing: the engine and the replicas share its cores (and the engine's
    // JavaScript runs on one of them, a tighter bound still).
    const ceiling = (os.availableParallelism() * 1e6) / (engineUs + serversUs);
    console.log(`endpoints: CPU bound on this machine ${ceiling.toFixed(0)} req/s = ${(ceiling / (concurrency / (latencyMs / 1000))).toFixed(3)} of ideal`);
    console.log(`endpoints: ${requests} requests in ${seconds.toFixed(2)} s = ${achieved.toFixed(1)} req/s; ideal ${ideal} req/s; per replica ${perReplica.join(', ')}`);
    return achieved / ideal;
  } finally {
    await Promise.all(servers.map((server) => server.close()));
  }
}

/**
 * The pool alone, over replicas that answer in 100 ms without HTTP or a pipeline: what routing itself costs, apart
 * from the engine's CPU per request.
 */
async function poolAlone(replicas: number, seconds = 3): Promise<number> {
  const concurrency = 64 * replicas;
  const latencyMs = 100;
  const none = Object.fromEntries(PURPOSES.map((p) => [p, { requests: 0, promptTokens: 0, completionTokens: 0, cachedSamples: 0, retries: 0 }])) as ReturnType<MemberClient['usage']>;
  const member = (): MemberClient => ({
    complete: (_request, n) => new Promise((resolve) => setTimeout(() => resolve(Array.from({ length: n }, () => ({ text: 'ok', finishReason: 'stop', promptTokens: 1, completionTokens: 1 }))), latencyMs)),
    probe: async () => {},
    listModels: async () => [],
    usage: () => none,
  });
  const pool = new EndpointPool({ members: Array.from({ length: replicas }, (_, i) => ({ url: `http://replica-${i}/v1`, client: member() })), concurrency, maxRetries: 0 });
  const request = { purpose: 'generate' as const, messages: [{ role: 'user' as const, content: 'q' }], temperature: 0.8, topP: 0.95, maxTokens: 8 };
  const end = Date.now() + seconds * 1000;
  let done = 0;
  const started = Date.now();
  // More callers than slots, as the pipeline's seed workers are.
  await Promise.all(Array.from({ length: Math.ceil(concurrency * 1.5) }, async () => {
    while (Date.now() < end) {
      await pool.complete(request, 1);
      done++;
    }
  }));
  pool.close();
  const achieved = done / ((Date.now() - started) / 1000);
  const ideal = concurrency / (latencyMs / 1000);
  console.log(`endpoints: the pool alone (no HTTP, no pipeline): ${achieved.toFixed(1)} req/s of an ideal ${ideal} = ${(achieved / ideal).toFixed(3)}`);
  return achieved / ideal;
}

function replicasFlag(): number | undefined {
  const at = process.argv.indexOf('--replicas');
  if (at === -1) return undefined;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--replicas: expected a whole number from 1, got ${process.argv[at + 1]}`);
  return value;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-bench-'));
  try {
    const replicas = replicasFlag();
    if (replicas !== undefined) {
      await poolAlone(replicas);
      const ratio = await replicaRate(dir, replicas);
      console.log(`endpoints: replicas=${replicas} concurrency=${64 * replicas} rate_ratio=${ratio.toFixed(3)}`);
      return;
    }
    const ratio = await rate(dir);
    const { perAccepted, naivePerAccepted } = await cost(dir);
    console.log(`engine: rate_ratio=${ratio.toFixed(3)} requests_per_accepted=${perAccepted.toFixed(2)} naive_requests_per_accepted=${naivePerAccepted.toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
