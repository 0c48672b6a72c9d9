import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Progress } from '../../../src/core/method/pipeline';
import { foldRun, type Funnel } from '../../../src/core/record/runview';
import type { SeedProblem } from '../../../src/core/base/types';
import { formatDuration } from '../../../src/core/record/status';
import {
  displayState,
  escapeMarkdown,
  funnelLines,
  runDescription,
  runListing,
  runNotification,
  runTooltipMarkdown,
  statusBarText,
  statusBarTooltip,
  type RunListing,
} from '../../../src/vscode/runs/present';
import { isSeedFilePath, isSeedText, problemMessage, seedDiagnostics, seedLenses, skippedRowsQuestion } from '../../../src/vscode/seeds/present';

function funnel(values: Partial<Funnel> = {}): Funnel {
  return {
    seeds: 40,
    seedsDone: 12,
    candidates: 48,
    valid: 40,
    verified: 30,
    passedCycle: 20,
    passedFactuality: 15,
    passedCorrectness: 10,
    accepted: 9,
    acceptedFinal: 9,
    overridden: 0,
    unparseableVotes: 0,
    invalidByReason: {},
    errors: 0,
    seedsPending: 28,
    ...values,
  };
}

function listing(values: Partial<RunListing> = {}): RunListing {
  return {
    state: 'running',
    funnel: funnel(),
    wallMs: 65_000,
    requests: 1234,
    cachedSamples: 0,
    promptTokens: 100_000,
    completionTokens: 23_456,
    ...values,
  };
}

describe('the seed-file rule', () => {
  test('JSON Lines always; JSON and CSV only when the name says seed', () => {
    const cases: [string, boolean][] = [
      ['/w/data/questions.jsonl', true],
      ['/w/data/questions.NDJSON', true],
      ['/w/data/seeds.json', true],
      ['/w/data/My_Seed_Questions.CSV', true],
      ['/w/data/questions.json', false],
      ['/w/data/questions.csv', false],
      ['/w/data/seeds.txt', false],
      ['C:\\w\\data\\seeds.csv', true],
    ];
    for (const [file, expected] of cases) assert.equal(isSeedFilePath(file), expected, file);
  });

  test('never package.json, tsconfig*.json, .vscode, the runs folder or an excluded folder', () => {
    const cases: string[] = [
      '/w/package.json',
      '/w/tsconfig.seed.json',
      '/w/tsconfig.json',
      '/w/.vscode/seeds.json',
      '/w/.vscode/tasks.jsonl',
      'C:\\w\\.vscode\\seeds.jsonl',
      '/w/.svd/runs/seeds-1a2b3c4d/events.jsonl',
      '/w/.svd/cache/samples.jsonl',
      '/w/node_modules/pkg/seeds.jsonl',
      '/w/custom-runs/r1/events.jsonl',
    ];
    for (const file of cases) {
      assert.equal(isSeedFilePath(file, { excludedFolders: ['/w/custom-runs'] }), false, file);
    }
    assert.equal(isSeedFilePath('/w/custom-runs-not/seeds.jsonl', { excludedFolders: ['/w/custom-runs'] }), true);
  });

  test("the project's own outputs: an export by its name or its rows, a run's train/ folder wherever the run is", () => {
    assert.equal(isSeedFilePath('/w/seeds-1a2b3c4d.openai.jsonl'), false);
    assert.equal(isSeedFilePath('/w/out/data.trl.train.jsonl'), false);
    // A run's folder outside any runs folder the settings name (a runs folder used before, say).
    const run = mkdtempSync(path.join(os.tmpdir(), 'svd-run-folder-'));
    writeFileSync(path.join(run, 'run.json'), '{}');
    assert.equal(isSeedFilePath(path.join(run, 'train', 'metrics.jsonl')), false);
    assert.equal(isSeedFilePath(path.join(path.dirname(run), 'data', 'train', 'seeds.jsonl')), true, 'a train/ folder of the user');
    rmSync(run, { recursive: true, force: true });
    // By its rows, whatever its name: chat rows are exported data, question rows are seeds.
    const exported = JSON.stringify({ conversations: [{ from: 'human', value: 'q' }, { from: 'gpt', value: 'a' }] });
    assert.equal(isSeedText(`${exported}\n${exported}\n`), false);
    assert.equal(isSeedText(JSON.stringify({ id: 'q1', domain: 'math', question: 'What is 1 + 1?' })), true);
    assert.equal(isSeedText('{"id": "q1", "question": '), true, 'a broken seed file is still a seed file, with its problems');
  });

  test('before a run that skips rows: how many of how many, the first few with their lines', () => {
    const problems: SeedProblem[] = [
      { file: 'seeds.jsonl', line: 2, message: 'not valid JSON' },
      { file: 'seeds.jsonl', line: 5, field: 'domain', message: 'unknown domain "art"' },
    ];
    const question = skippedRowsQuestion('/w/data/seeds.jsonl', 3, 8, problems);
    assert.equal(question.message, '3 of 8 rows of seeds.jsonl are no usable seeds: the run will skip them.');
    assert.equal(question.detail, 'line 2: not valid JSON\nline 5: field "domain": unknown domain "art"\n… and 1 more\n\nShow Problems lists each on its line.');
  });

  test('anyName: a JSON or CSV file the user picked counts whatever its name', () => {
    assert.equal(isSeedFilePath('/w/data/questions.csv', { anyName: true }), true);
    assert.equal(isSeedFilePath('/w/data/questions.json', { anyName: true }), true);
    assert.equal(isSeedFilePath('/w/package.json', { anyName: true }), false);
    assert.equal(isSeedFilePath('/w/notes.md', { anyName: true }), false);
  });
});

describe('seed diagnostics', () => {
  const problem = (line: number, message: string, field?: string): SeedProblem => ({
    file: 'seeds.jsonl',
    line,
    message,
    ...(field === undefined ? {} : { field }),
  });

  test('a warning per bad row on its 0-based line, the field named', () => {
    const specs = seedDiagnostics({
      seeds: 3,
      problems: [problem(2, 'not valid JSON: Unexpected token'), problem(5, 'unknown domain "history"', 'domain')],
      problemCount: 2,
    });
    assert.deepEqual(specs, [
      { line: 1, message: 'not valid JSON: Unexpected token', severity: 'warning' },
      { line: 4, message: 'field "domain": unknown domain "history"', severity: 'warning' },
    ]);
    assert.equal(problemMessage(problem(1, 'missing', 'question')), 'field "question": missing');
  });

  test('no usable row: one error on the first line, before the row warnings', () => {
    assert.deepEqual(seedDiagnostics({ seeds: 0, problems: [], problemCount: 0 }), [
      { line: 0, message: 'no seed rows in the file', severity: 'error' },
    ]);
    const specs = seedDiagnostics({ seeds: 0, problems: [problem(3, 'the question is empty', 'question')], problemCount: 1 });
    assert.deepEqual(specs[0], { line: 0, message: 'no usable seed row (1 row skipped)', severity: 'error' });
    assert.equal(specs.length, 2);
  });

  test('a file that cannot be read as a whole: its message as the error', () => {
    const specs = seedDiagnostics({
      seeds: 0,
      problems: [],
      problemCount: 0,
      fatal: 'seeds.json:1: expected a JSON array of seed rows, found "{"',
    });
    assert.deepEqual(specs, [
      { line: 0, message: 'seeds.json:1: expected a JSON array of seed rows, found "{"', severity: 'error' },
    ]);
  });

  test('problems beyond those listed are counted in one more warning', () => {
    const specs = seedDiagnostics({ seeds: 1, problems: [problem(2, 'x')], problemCount: 1501 });
    assert.deepEqual(specs.at(-1), { line: 0, message: '1,500 more rows are skipped (not listed)', severity: 'warning' });
  });
});

describe('runs view text', () => {
  test('description: state, seeds done of all, accepted after overrides', () => {
    const display = displayState('running', { process: false, lock: true });
    assert.equal(runDescription(display, funnel({ acceptedFinal: 11 })), 'running · 12/40 seeds · 11 accepted');
    assert.equal(
      runDescription(displayState('finished', { process: false, lock: false }), funnel({ seeds: 1200, seedsDone: 1200 })),
      'finished · 1,200/1,200 seeds · 9 accepted',
    );
  });

  test('state: a live process wins; a running record without a lock holder was interrupted', () => {
    assert.deepEqual(displayState('failed', { process: true, lock: false }), { state: 'running', interrupted: false });
    assert.deepEqual(displayState('running', { process: false, lock: false }), { state: 'stopped', interrupted: true });
    assert.deepEqual(displayState('new', { process: false, lock: true }), { state: 'running', interrupted: false });
    assert.deepEqual(displayState('new', { process: false, lock: false }), { state: 'new', interrupted: false });
    assert.deepEqual(displayState('stopped', { process: false, lock: true }), { state: 'stopped', interrupted: false });
    assert.equal(
      runDescription(displayState('running', { process: false, lock: false }), funnel()),
      'interrupted · 12/40 seeds · 9 accepted',
    );
  });

  test('funnel lines: every step, errors and unparseable votes only when there are some, usage totals', () => {
    const quiet = funnelLines(listing());
    assert.deepEqual(
      quiet.map((line) => line.label),
      ['seeds', 'candidates', 'valid', 'passed cycle', 'passed factuality', 'passed correctness', 'accepted', 'requests', 'tokens'],
    );
    assert.deepEqual(
      quiet.map((line) => line.description),
      [
        '12 of 40 done',
        '48',
        '40 · 83%',
        '20 · 67%',
        '15 · 75%',
        '10 · 67%',
        '9',
        '1,234',
        '123,456 (100,000 prompt · 23,456 completion)',
      ],
    );
    const noisy = funnelLines(
      listing({ funnel: funnel({ errors: 2, unparseableVotes: 5, acceptedFinal: 10 }), cachedSamples: 7 }),
    );
    const byLabel = new Map(noisy.map((line) => [line.label, line.description]));
    assert.equal(byLabel.get('errors'), '2');
    assert.equal(byLabel.get('unparseable votes'), '5');
    assert.equal(byLabel.get('accepted'), '10 (9 by the method)');
    assert.equal(byLabel.get('requests'), '1,234 · 7 from the cache');
    // Skipped rows are never silent: a line after the seeds, with where to see them.
    const skipped = funnelLines(listing(), 3);
    assert.deepEqual(skipped[1], { label: 'skipped rows', description: "3: not usable seeds (see the seed file's Problems)", icon: 'warning' });
  });

  test('runListing keeps the funnel and sums usage over purposes', () => {
    const view = foldRun([], 5);
    view.usage.generate.requests = 3;
    view.usage.cycle.requests = 4;
    view.usage.cycle.promptTokens = 10;
    const result = runListing(view);
    assert.equal(result.requests, 7);
    assert.equal(result.promptTokens, 10);
    assert.equal(result.funnel.seeds, 5);
    assert.equal(result.state, 'new');
  });

  test('markdown escaping: no link, image, HTML, code or command survives', () => {
    const hostile = '[click](command:svd.deleteRun) ![x](http://e/x.png) <img src=x onerror=alert(1)> `code` *b* $(zap)\nnext';
    const escaped = escapeMarkdown(hostile);
    assert.ok(!/(^|[^\\])[[\]()<>`*$!]/.test(escaped), escaped);
    assert.ok(!escaped.includes('\n'));
    assert.equal(escapeMarkdown('plain text 42'), 'plain text 42');
  });

  test('tooltip: manifest and funnel facts, every run value escaped', () => {
    const markdown = runTooltipMarkdown({
      runId: 'seeds_[1]',
      display: { state: 'failed', interrupted: false },
      listing: listing({ state: 'failed', lastMessage: '<b>server said</b> [x](command:y)' }),
      manifest: {
        version: 1,
        id: 'seeds_[1]',
        createdAt: '2025-01-01T00:00:00.000Z',
        seedFile: { path: '/w/data/seeds.jsonl', fingerprint: 'f', format: 'jsonl', rows: 40, skippedRows: 3 },
        model: { model: 'qwen*3', baseURL: 'http://localhost:8000/v1', engine: 'server' },
        config: {
          candidates: 4,
          votes: 3,
          selection: 'first_valid',
          generation: { temperature: 0.8, topP: 0.95, maxTokens: 100 },
          judge: { temperature: 0.6, topP: 0.95, maxTokens: 100 },
          concurrency: 8,
          requestTimeoutMs: 1000,
          maxRetries: 1,
          batchSamples: true,
        },
        methodFingerprint: 'm',
      },
    });
    assert.match(markdown, /^\*\*seeds\\_\\\[1\\\]\*\* · failed/);
    assert.ok(markdown.includes('Model: qwen\\*3 on http\\:\\/\\/localhost\\:8000\\/v1'));
    assert.ok(markdown.includes('(40 seeds, 3 rows skipped)'), markdown);
    assert.ok(markdown.includes('n = 4 candidates, v = 3 votes'));
    assert.ok(markdown.includes('Accepted: 9'));
    assert.ok(markdown.includes('Wall time: 1m 05s'));
    assert.ok(markdown.includes('Last message: \\<b\\>server said\\<\\/b\\> \\[x\\]\\(command\\:y\\)'));
    assert.ok(!markdown.includes('<b>'));
  });
});

describe('code lenses', () => {
  test('trusted: run, resume a stopped or failed newest run, review it', () => {
    assert.deepEqual(
      seedLenses(true, undefined).map((lens) => lens.command),
      ['svd.run'],
    );
    const stopped = seedLenses(true, { runId: 'r1', state: 'stopped' });
    assert.deepEqual(
      stopped.map((lens) => [lens.title, lens.command, lens.runId]),
      [
        ['$(play) Run Self-Verified Distillation', 'svd.run', undefined],
        ['$(debug-continue) Resume r1', 'svd.resume', 'r1'],
        ['$(preview) Review r1', 'svd.openReview', 'r1'],
      ],
    );
    assert.deepEqual(
      seedLenses(true, { runId: 'r2', state: 'finished' }).map((lens) => lens.command),
      ['svd.run', 'svd.openReview'],
    );
    assert.deepEqual(
      seedLenses(true, { runId: 'r3', state: 'running' }).map((lens) => lens.command),
      ['svd.run', 'svd.openReview'],
    );
  });

  test('untrusted: review only', () => {
    assert.deepEqual(seedLenses(false, undefined), []);
    assert.deepEqual(
      seedLenses(false, { runId: 'r1', state: 'failed' }).map((lens) => lens.command),
      ['svd.openReview'],
    );
  });
});

describe('status bar', () => {
  const progress = (values: Partial<Progress> = {}): Progress => ({
    seedsTotal: 40,
    seedsDone: 12,
    accepted: 9,
    candidates: 48,
    requests: 300,
    requestsPerSecond: 2.345,
    elapsedMs: 125_000,
    ...values,
  });

  test('hidden without runs; one run; several show the count and the most recent', () => {
    assert.equal(statusBarText([]), undefined);
    assert.equal(statusBarTooltip([]), undefined);
    assert.equal(statusBarText([{ runId: 'a', progress: progress() }]), '$(sync~spin) SVD 12/40 · 9 accepted');
    assert.equal(
      statusBarText([
        { runId: 'a', progress: progress() },
        { runId: 'b', progress: progress({ seedsDone: 1, seedsTotal: 5, accepted: 0 }) },
      ]),
      '$(sync~spin) SVD 2 runs · 1/5 · 0 accepted',
    );
  });

  test('tooltip: pace and ETA of the most recent run, the others by name', () => {
    const early = statusBarTooltip([{ runId: 'a', progress: progress() }]) ?? '';
    assert.match(early, /2\.3 req\/s · 300 requests · 2m 05s elapsed · ETA after the first seed/);
    const tooltip =
      statusBarTooltip([
        { runId: 'a', progress: progress() },
        { runId: 'b', progress: progress({ etaMs: 600_000 }) },
      ]) ?? '';
    assert.match(tooltip, /^Self-Verified Distillation: b\n/);
    assert.match(tooltip, /ETA 10m 00s/);
    assert.match(tooltip, /Also running: a \(12\/40\)/);
  });

  test('a run over several servers: how many are up, and each one in the tooltip', () => {
    const server = (url: string, state: 'up' | 'down', errors: number) => ({ url, state, requests: 50, errors, throttled: 0, inFlight: 2, limit: 8, maxConcurrency: 8 });
    const runs = [{ runId: 'a', progress: progress({ endpoints: [server('http://a/v1', 'up', 0), server('http://b/v1', 'down', 3)] }) }];
    assert.equal(statusBarText(runs), '$(sync~spin) SVD 12/40 · 9 accepted · 1/2 servers up');
    const tooltip = statusBarTooltip(runs) ?? '';
    assert.match(tooltip, /Servers:\nhttp:\/\/a\/v1\s+up\s+requests 50\s+errors 0\s+in flight 2\/8\nhttp:\/\/b\/v1\s+down\s+requests 50\s+errors 3/);
  });
});

describe('a run\'s notification', () => {
  test('says the run, then its seeds and ETA with the bar at its share, then downloads; other events say nothing', () => {
    const start = { type: 'start', runId: 'seeds-1a2b', dir: '/r', resumed: true, seedsTotal: 40, skippedRows: 0, fileRows: 40, alreadyFinished: false } as const;
    assert.deepEqual(runNotification(start), { message: 'run seeds-1a2b (resuming): 40 seeds' });
    // Skipped rows are said at the start, with where to see them.
    assert.deepEqual(runNotification({ ...start, resumed: false, seedsTotal: 5, skippedRows: 3, fileRows: 8 }), {
      message: 'run seeds-1a2b: 5 seeds · 3 of 8 rows skipped (see Problems)',
    });
    assert.deepEqual(runNotification({ ...start, alreadyFinished: true }), { message: 'run seeds-1a2b is finished already: nothing to ask the model' });
    const progress = { type: 'progress', seedsTotal: 40, seedsDone: 10, accepted: 7, candidates: 20, requests: 30, requestsPerSecond: 2, elapsedMs: 1000 } as const;
    assert.deepEqual(runNotification(progress), { message: '10/40 seeds, 7 accepted', percent: 25 });
    assert.equal(runNotification({ ...progress, etaMs: 90_000 })?.message, `10/40 seeds, 7 accepted, ETA ${formatDuration(90_000)}`);
    assert.equal(runNotification({ ...progress, seedsTotal: 0, seedsDone: 0 })?.percent, 0);
    assert.deepEqual(runNotification({ type: 'download', received: 5e6, total: 40e6, resumedFrom: 0 }), { message: 'downloading the default model: 5/40 MB' });
    assert.equal(runNotification({ type: 'notice', message: 'x' } as never), undefined);
    assert.deepEqual(runNotification({ type: 'engine', model: 'Qwen3-0.6B-Q8_0', pid: 9, backend: 'CPU, 2 threads' }), {
      message: 'embedded engine ready: CPU, 2 threads',
    });
  });
});
