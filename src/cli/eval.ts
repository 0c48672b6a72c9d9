// `svd eval SEEDS --base-url URL --model NAME [--model NAME2]`: pass@1 on a labeled file, models side by side (before
// and after training), and with --ttc the test-time baseline that answers with the method's own cascade. Its servers
// are given as `svd run`'s are (--base-url again for each replica, --endpoints FILE).
import path from 'node:path';
import { createAnswerChecker } from '../core/check/index';
import type { RunConfigInput } from '../core/base/config';
import { SvdError } from '../core/base/errors';
import { EVAL_RESULT, runEvaluation, type EvalResult, type Pass } from '../core/experiments/evaluate';
import { count, ratio } from '../core/record/status';
import { DOMAINS } from '../core/base/types';
import type { EvalStreamEvent } from '../protocol/cliEvents';
import { modelEndpoints, serverOptions, type EndpointFlags } from './endpoint';
import { eventStream } from './events';
import type { Io } from './io';
import {
  collect,
  integer,
  methodConfig,
  requestOptions,
  samplingOptions,
  runsDirOf,
  seedReadingOptions,
  withStopSignal,
  type MethodFlags,
  type RegisterCommand,
} from './options';

interface EvalFlags extends MethodFlags, Pick<EndpointFlags, 'endpoints'> {
  baseUrl?: string[];
  model: string[];
  samples?: number;
  ttc?: boolean;
  candidates?: number;
  votes?: number;
  limit?: number;
  runsDir?: string;
  json?: boolean;
  /** JSON lines on stdout as it goes (progress, problem, notice, result), for tools. */
  events?: boolean;
}

export const registerEvalCommand: RegisterCommand = (program, io, setCode) => {
  program
    .command('eval')
    .description('pass@1 of one or more models on a labeled seed file; --ttc adds the test-time baseline (n candidates and the cascade per question)')
    .argument('<seeds>', 'seed file whose rows carry gold (answer or tests); rows without are skipped')
    .include((command) => serverOptions(command, 'OpenAI-compatible server; again for each replica, or once per --model to pair them'))
    .requiredOption('--model <name>', 'model to evaluate; repeat it to compare models side by side', collect)
    .option('--samples <k>', 'samples per question; pass@1 is their mean (default 1)', integer('--samples'))
    .option('--ttc', 'also the test-time baseline: n candidates, the same cascade, the first that passes answers')
    .option('--candidates <n>', 'test-time baseline: candidates per question (default 4)', integer('--candidates'))
    .option('--votes <v>', 'test-time baseline: judge votes per stage (default 3)', integer('--votes'))
    .option('--limit <n>', 'only the first N labeled questions', integer('--limit'))
    .option('--concurrency <c>', 'model requests in flight (default 8)', integer('--concurrency'))
    .option('--config <file>', "a JSON file of the method's parameters (generation sampling, judge sampling, ...)")
    .include(seedReadingOptions)
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs); evaluations go beside it, in evals/')
    .include(samplingOptions)
    .include(requestOptions)
    .option('--json', 'machine-readable output')
    .option('--events', 'JSON lines on stdout as it goes (progress, problem, notice, result), for tools')
    .action(async (seeds: string, flags: EvalFlags) => setCode(await withStopSignal((signal) => commandEval(seeds, flags, io, signal))));
};

async function commandEval(seeds: string, flags: EvalFlags, io: Io, signal: AbortSignal): Promise<number> {
  const models = flags.model ?? [];
  if (models.length === 0) throw new SvdError('bad_config', '--model: required, once per model to evaluate');
  const endpoints = modelEndpoints(flags, models);
  const extra: RunConfigInput = {};
  if (flags.candidates !== undefined) extra.candidates = flags.candidates;
  if (flags.votes !== undefined) extra.votes = flags.votes;
  const config = methodConfig(flags, extra);
  const events = eventStream<EvalStreamEvent>(io, flags.events);
  const quiet = flags.json || flags.events;
  const checker = createAnswerChecker();
  try {
    const result = await runEvaluation({
      seedsFile: seeds,
      seedOptions: { domain: flags.domain, questionField: flags.questionField },
      runsDir: runsDirOf(flags),
      models: endpoints,
      samples: flags.samples,
      limit: flags.limit,
      ttc: flags.ttc,
      config,
      checker,
      signal,
      onProblem: events.onProblem,
      onNotice: events.onNotice,
      onProgress: (p) => {
        events.emit({ type: 'progress', ...p });
        if (!io.isTTY || quiet) return;
        const phase = p.phase === 'ttc' ? 'test-time baseline' : 'sampling';
        process.stderr.write(`\r\x1b[2K${p.model}: ${phase} ${p.done}/${p.total}`);
      },
    });
    if (io.isTTY && !quiet) process.stderr.write('\r\x1b[2K');
    if (flags.events) events.emit({ type: 'result', ...result });
    else if (flags.json) io.out(JSON.stringify(result));
    else {
      io.out(formatEvaluation(result));
      io.out(`result ${path.join(result.dir, EVAL_RESULT)}`);
    }
    return 0;
  } finally {
    await checker.close();
  }
}

/** Models side by side: pass@1 per domain and overall, then the test-time baseline when it ran. */
export function formatEvaluation(result: EvalResult): string {
  const lines: string[] = [];
  const skipped = result.skippedNoGold > 0 ? ` (${count(result.skippedNoGold)} row(s) without gold skipped)` : '';
  lines.push(`eval ${result.id}: ${count(result.questions)} questions${skipped}, ${result.samples} sample(s) each`);
  const header = ['', ...result.models.map((m) => m.model)];
  const rows: string[][] = [];
  const passCell = (pass: Pass | undefined) => (pass ? ratio(pass.passAt1) : '-');
  rows.push(['pass@1', ...result.models.map(() => '')]);
  for (const domain of DOMAINS) {
    const of = result.models.map((m) => m.passAt1.perDomain[domain]);
    if (of.every((pass) => pass === undefined)) continue;
    const questions = Math.max(...of.map((pass) => pass?.questions ?? 0));
    rows.push([`  ${domain} (${count(questions)})`, ...of.map(passCell)]);
  }
  const overall = Math.max(...result.models.map((m) => m.passAt1.overall.questions));
  rows.push([`  overall (${count(overall)})`, ...result.models.map((m) => passCell(m.passAt1.overall))]);
  rows.push(['  requests', ...result.models.map((m) => count(m.requests))]);
  const ttc = result.models.find((m) => m.ttc)?.ttc;
  if (ttc) {
    rows.push([`test-time baseline (n=${ttc.candidates}, v=${ttc.votes})`, ...result.models.map(() => '')]);
    rows.push(['  pass@1', ...result.models.map((m) => passCell(m.ttc?.passAt1.overall))]);
    rows.push(['  unverified', ...result.models.map((m) => (m.ttc ? ratio(m.ttc.unverifiedShare) : '-'))]);
    rows.push(['  requests/question', ...result.models.map((m) => (m.ttc ? m.ttc.requestsPerQuestion.toFixed(1) : '-'))]);
    rows.push(['  samples/question', ...result.models.map((m) => (m.ttc ? m.ttc.samplesPerQuestion.toFixed(1) : '-'))]);
  }
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const render = (cells: string[]) =>
    cells.map((text, column) => (column === 0 ? text.padEnd(widths[0]!) : text.padStart(widths[column]!))).join('  ').trimEnd();
  lines.push(render(header));
  for (const row of rows) lines.push(render(row));
  for (const m of result.models) {
    const left: string[] = [];
    if (m.errors > 0) left.push(`${count(m.errors)} question(s) whose samples could not be drawn`);
    if (m.unchecked > 0) left.push(`${count(m.unchecked)} question(s) whose gold cannot check their domain`);
    if (left.length > 0) lines.push(`${m.model}: left out ${left.join(', ')}`);
  }
  return lines.join('\n');
}
