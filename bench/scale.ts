// Scale benchmark: `svd run` on 10^4 and 10^5 seeds against a zero-latency scripted server in its own process,
// the CLI in a child process whose peak RSS it reports on exit; then `svd status` and `svd export` timed on the
// largest run. n=4 candidates and v=1 vote keep the largest run to minutes on a small machine; every answer is right,
// so each seed's first candidate passes the whole cascade (1 generation request of n=4, then 4 judge requests).
// Usage: npm run bench:scale [-- --seeds 10000,100000] [--concurrency 32] [--dir DIR]
// --dir keeps the runs in DIR, and a later call with the same DIR reuses a finished run's figures and times only
// status and export again (a 10^5 run takes long on a busy machine).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';

const ROOT = path.resolve(__dirname, '..');
const PROMPTS = path.join(ROOT, 'test/fixtures/prompts');
const CLI = path.join(ROOT, 'dist/cli.js');

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

const SIZES = (flag('--seeds') ?? '10000,100000').split(',').map(Number);
const CONCURRENCY = Number(flag('--concurrency') ?? 32);
const N = 4;
const V = 1;

const question = (i: number) => `Scale seed ${i}: what is ${i} + ${i + 1}?`;

async function writeSeeds(file: string, count: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < count; i++) {
    if (!out.write(`${JSON.stringify({ id: `s${i}`, domain: 'math', question: question(i) })}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function startServer(dir: string, count: number): Promise<{ url: string; close(): Promise<void> }> {
  const spec = path.join(dir, `server-${count}.json`);
  writeFileSync(spec, JSON.stringify({ latencyMs: 0, seeds: Array.from({ length: count }, (_, i) => ({ question: question(i) })) }));
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'serve-scripted.ts'), spec], { cwd: ROOT });
  child.stderr.pipe(process.stderr);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('the scripted server did not start');
  return {
    url: first.value,
    close: async () => {
      child.stdin.end();
      await once(child, 'close');
    },
  };
}

/** Runs the CLI with a preload that prints the process's peak RSS on exit; returns seconds, peak MB and stdout. */
async function cli(preload: string, args: string[]): Promise<{ seconds: number; peakMb: number; stdout: string }> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--require', preload, CLI, ...args], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peak = /svd-peak-rss-kb=(\d+)/.exec(stderr);
  if (code !== 0 || !peak) throw new Error(`svd ${args[0]} exited with ${code}: ${stderr.slice(-2000)}`);
  return { seconds, peakMb: Number(peak[1]) / 1024, stdout };
}

async function main(): Promise<void> {
  const built = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('the build failed');
  const kept = flag('--dir');
  if (kept) mkdirSync(kept, { recursive: true });
  const dir = kept ? path.resolve(kept) : mkdtempSync(path.join(os.tmpdir(), 'svd-scale-'));
  const preload = path.join(dir, 'peak-rss.cjs');
  // maxRSS is in kilobytes on Linux and macOS.
  writeFileSync(preload, "process.on('exit', () => require('node:fs').writeSync(2, `svd-peak-rss-kb=${process.resourceUsage().maxRSS}\\n`));\n");
  let last: { seeds: number; peakMb: number; statusS: number; exportS: number } | undefined;
  try {
    for (const seeds of SIZES) {
      const seedsFile = path.join(dir, `seeds-${seeds}.jsonl`);
      const runsDir = path.join(dir, `runs-${seeds}`);
      const runId = `scale-${seeds}`;
      const saved = path.join(dir, `run-${seeds}.json`);
      let run: { seconds: number; peakMb: number; stdout: string };
      if (kept && existsSync(saved)) {
        run = JSON.parse(readFileSync(saved, 'utf8')) as typeof run;
      } else {
        rmSync(runsDir, { recursive: true, force: true });
        rmSync(path.join(dir, 'cache'), { recursive: true, force: true });
        await writeSeeds(seedsFile, seeds);
        const server = await startServer(dir, seeds);
        try {
          run = await cli(preload, [
            'run', seedsFile, '--base-url', server.url, '--model', 'bench', '--candidates', String(N), '--votes', String(V),
            '--concurrency', String(CONCURRENCY), '--prompts', PROMPTS, '--runs-dir', runsDir, '--run', runId, '--audit', 'off', '--json',
          ]);
        } finally {
          await server.close();
        }
        if (kept) writeFileSync(saved, JSON.stringify(run));
      }
      const result = JSON.parse(run.stdout) as { funnel: { seedsDone: number; accepted: number } };
      if (result.funnel.seedsDone !== seeds) throw new Error(`the run finished ${result.funnel.seedsDone} of ${seeds} seeds`);
      const eventsMb = statSync(path.join(runsDir, runId, 'events.jsonl')).size / 2 ** 20;
      const status = await cli(preload, ['status', runId, '--runs-dir', runsDir, '--json']);
      const out = path.join(dir, `export-${seeds}.jsonl`);
      const exported = await cli(preload, ['export', runId, '--format', 'openai', '--runs-dir', runsDir, '--out', out, '--json']);
      const rows = (JSON.parse(exported.stdout) as { rows: number }).rows;
      if (rows !== result.funnel.accepted) throw new Error(`export wrote ${rows} rows for ${result.funnel.accepted} accepted`);
      console.log(
        `scale-run: seeds=${seeds} n=${N} v=${V} concurrency=${CONCURRENCY} run_s=${run.seconds.toFixed(1)} peak_rss_mb=${run.peakMb.toFixed(0)} ` +
          `events_mb=${eventsMb.toFixed(0)} status_s=${status.seconds.toFixed(2)} status_rss_mb=${status.peakMb.toFixed(0)} ` +
          `export_s=${exported.seconds.toFixed(2)} export_rss_mb=${exported.peakMb.toFixed(0)} rows=${rows}`,
      );
      last = { seeds, peakMb: run.peakMb, statusS: status.seconds, exportS: exported.seconds };
      rmSync(out, { force: true });
      if (!kept) {
        rmSync(runsDir, { recursive: true, force: true });
        rmSync(path.join(dir, 'cache'), { recursive: true, force: true });
      }
    }
  } finally {
    if (!kept) rmSync(dir, { recursive: true, force: true });
  }
  if (last) console.log(`scale: seeds=${last.seeds} peak_rss_mb=${last.peakMb.toFixed(0)} status_s=${last.statusS.toFixed(2)} export_s=${last.exportS.toFixed(2)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
