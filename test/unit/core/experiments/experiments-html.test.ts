// The experiment views' HTML (src/vscode/experiments/views.ts) and the list of saved experiments
// (src/core/experiments/catalog.ts): figures in tables and SVG, no script, no inline style, every file string escaped.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { EvalResultSchema, type EvalResult, type Pass } from '../../../../src/core/experiments/evaluate';
import { SweepResultSchema, type SweepCell, type SweepResult } from '../../../../src/core/experiments/sweep';
import { ExperimentCatalog, evalHeadline, parseBudgetList, sweepHeadline } from '../../../../src/core/experiments/catalog';
import { evaluationHtml, experimentsCsp, sweepHtml } from '../../../../src/vscode/experiments/views';

const HOSTILE = `<script>alert("x")</script><img src=x onerror='alert(1)'>&`;
const OPTIONS = { cspSource: 'https://*.vscode-cdn.net', styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/experiments.css' };

function cell(n: number, v: number, values: Partial<SweepCell> = {}): SweepCell {
  return {
    name: `n${n}v${v}`,
    candidates: n,
    votes: v,
    runId: `sweep-x/n${n}v${v}`,
    state: 'finished',
    seeds: 10,
    seedsDone: 10,
    candidatesGenerated: n * 10,
    valid: n * 9,
    accepted: 0,
    judged: n * 9,
    acceptedCorrect: 0,
    precision: null,
    recall: null,
    falseAccepts: 0,
    falseRejects: 0,
    requests: 0,
    cachedSamples: 0,
    promptTokens: 1000,
    completionTokens: 234,
    samples: 0,
    wallMs: 1500,
    ...values,
  };
}

function sweep(values: Partial<SweepResult> = {}): SweepResult {
  return SweepResultSchema.parse({
    version: 1,
    id: 'sweep-seeds-1a2b3c4d',
    dir: `/work/.svd/runs/sweep-seeds-1a2b3c4d`,
    updatedAt: '2025-01-02T03:04:05.000Z',
    state: 'finished',
    seedFile: { path: `/work/${HOSTILE}.jsonl`, fingerprint: 'abc' },
    model: HOSTILE,
    candidates: [1, 4],
    votes: [1, 3],
    audited: true,
    cells: [
      cell(1, 1, { accepted: 5, precision: 0.6, recall: 1, falseAccepts: 2, requests: 30, acceptedCorrect: 3 }),
      cell(1, 3, { accepted: 4, precision: 0.75, recall: 1, requests: 70 }),
      cell(4, 1, { accepted: 8, precision: 0.875, recall: 0.9, falseRejects: 1, requests: 1234 }),
      cell(4, 3, { state: 'pending', seedsDone: 0 }),
    ],
    ...values,
  });
}

const pass = (correct: number, samples: number, questions: number): Pass => ({ questions, samples, correct, passAt1: questions > 0 ? correct / samples : null });

function evaluation(): EvalResult {
  const model = (name: string, math: Pass, science: Pass, ttc: boolean) => ({
    model: name,
    baseURL: 'http://localhost:8000/v1',
    passAt1: { overall: pass(math.correct + science.correct, math.samples + science.samples, math.questions + science.questions), perDomain: { math, science } },
    requests: 12,
    cachedSamples: 3,
    promptTokens: 100,
    completionTokens: 50,
    errors: 0,
    unchecked: name === HOSTILE ? 1 : 0,
    questions: [],
    ...(ttc
      ? {
          ttc: {
            candidates: 4,
            votes: 3,
            runId: 'ttc',
            runDir: '/work/.svd/evals/ttc/m',
            passAt1: { overall: pass(3, 4, 4), perDomain: { math: pass(2, 2, 2), science: pass(1, 2, 2) } },
            verified: 3,
            unverified: 1,
            unverifiedShare: 0.25,
            noAnswer: 1,
            requests: 82,
            requestsPerQuestion: 20.5,
            samplesPerQuestion: 24.25,
          },
        }
      : {}),
  });
  return EvalResultSchema.parse({
    version: 1,
    id: 'eval-20250102-030405',
    dir: '/work/.svd/evals/eval-20250102-030405',
    createdAt: '2025-01-02T03:04:05.000Z',
    seedFile: { path: '/work/labeled.jsonl', fingerprint: 'abc' },
    samples: 2,
    questions: 4,
    skippedNoGold: 1,
    models: [model(HOSTILE, pass(2, 4, 2), pass(1, 4, 2), true), model('ft:qwen:svd:1', pass(4, 4, 2), pass(3, 4, 2), false)],
  });
}

/** The checks every view passes: a policy without script, no script or inline style anywhere, no raw hostile text. */
function assertSafe(html: string): void {
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src https:\/\/\*\.vscode-cdn\.net">/);
  // Escaped text holds no `<`: every tag found here is a real one.
  const tags = [...html.matchAll(/<[^>]*>/g)].map((m) => m[0]);
  assert.deepEqual(tags.filter((tag) => /^<\/?(script|style|img|iframe|object|embed|foreignObject)\b/i.test(tag)), []);
  assert.deepEqual(tags.filter((tag) => /\s(style|on[a-z]+|href|src)\s*=/i.test(tag) && !tag.startsWith('<link rel="stylesheet"')), [], 'no inline style, handler or link');
  assert.ok(!html.includes(HOSTILE), 'the hostile string is never written as it is');
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'), 'it is written escaped');
  assert.ok(html.includes(`<link rel="stylesheet" href="${OPTIONS.styleUri}">`));
}

describe('sweep view', () => {
  const html = sweepHtml(sweep(), OPTIONS);

  test('is safe: a policy without script, nothing from the file unescaped', () => {
    assertSafe(html);
    assert.equal(experimentsCsp('vscode-resource:'), "default-src 'none'; style-src vscode-resource:");
  });

  test('a table row per cell with its figures', () => {
    const rows = [...html.matchAll(/<tr><th scope="row">(n\dv\d)<\/th>(.*?)<\/tr>/g)].map((m) => [m[1], [...m[2]!.matchAll(/<td>(.*?)<\/td>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, ''))]);
    assert.deepEqual(rows.map((r) => r[0]), ['n1v1', 'n1v3', 'n4v1', 'n4v3']);
    const [, first] = rows[0]! as [string, string[]];
    // n, v, state, seeds, accepted, precision, recall, false acc., false rej., requests, cached, tokens, time
    assert.deepEqual(first, ['1', '1', 'finished', '10/10', '5', '60.0%', '100.0%', '2', '0', '30', '0', '1,234', '1.5 s']);
    const [, third] = rows[2]! as [string, string[]];
    assert.equal(third[5], '87.5%');
    assert.equal(third[9], '1,234');
    const [, pending] = rows[3]! as [string, string[]];
    assert.equal(pending[2], 'pending');
  });

  test('an SVG heat grid per figure, shaded by attributes, one cell per n and v', () => {
    for (const metric of ['accepted', 'precision', 'recall', 'requests']) {
      const figure = new RegExp(`<figure class="grid grid-${metric}"[\\s\\S]*?</figure>`).exec(html)?.[0];
      assert.ok(figure, `a ${metric} grid`);
      assert.match(figure, /<svg class="heat-grid" viewBox="0 0 \d+ \d+"/);
      assert.equal([...figure.matchAll(/<rect class="heat heat-/g)].length, 4, `${metric}: 2 x 2 cells`);
      assert.match(figure, />n=4<\/text>/);
      assert.match(figure, />v=3<\/text>/);
    }
    const accepted = /<figure class="grid grid-accepted"[\s\S]*?<\/figure>/.exec(html)![0];
    // The most accepted cell is the darkest; a pending cell is unshaded and says so.
    assert.match(accepted, /<title>n=4, v=1: 8 \(finished\)<\/title><rect class="heat-back"[^>]*><\/rect><rect class="heat heat-accepted"[^>]* fill-opacity="0.9">/);
    assert.match(accepted, /<title>n=4, v=3: … \(pending\)<\/title>/);
    const precision = /<figure class="grid grid-precision"[\s\S]*?<\/figure>/.exec(html)![0];
    assert.match(precision, />87\.5%<\/text>/);
  });

  test('without gold there is no precision grid and the table says why', () => {
    const plain = sweepHtml(sweep({ audited: false }), OPTIONS);
    assert.doesNotMatch(plain, /grid-precision/);
    assert.match(plain, /Precision and recall need seeds with gold answers or tests/);
    assertSafe(plain);
  });

  test('a CSP source that could break out of the policy is refused', () => {
    assert.throws(() => sweepHtml(sweep(), { ...OPTIONS, cspSource: "x; script-src 'unsafe-inline'" }));
  });
});

describe('evaluation view', () => {
  const result = evaluation();
  const html = evaluationHtml(result, OPTIONS);

  test('is safe: a policy without script, nothing from the file unescaped', () => {
    assertSafe(html);
  });

  test('bars per domain and overall: the models, then the test-time baseline', () => {
    const chart = /<svg class="bar-chart"[\s\S]*?<\/svg>/.exec(html)?.[0];
    assert.ok(chart);
    const groups = [...chart.matchAll(/class="axis group-label"[^>]*>([^<]+)</g)].map((m) => m[1]);
    assert.deepEqual(groups, ['math', 'science', 'overall']);
    // 3 series (two models, one baseline) in 3 groups.
    assert.equal([...chart.matchAll(/<rect class="bar series-\d"/g)].length, 9);
    assert.equal([...chart.matchAll(/<rect class="bar series-2"/g)].length, 3);
    const values = [...chart.matchAll(/class="bar-value"[^>]*>([^<]+)</g)].map((m) => m[1]);
    assert.deepEqual(values, ['50', '100', '100', '25', '75', '50', '38', '88', '75']);
    const legend = /<ul class="legend">([\s\S]*?)<\/ul>/.exec(html)![1]!;
    assert.ok(legend.includes('ft:qwen:svd:1'));
    assert.ok(legend.includes('+ test-time cascade (n=4, v=3)'));
  });

  test('the table: pass@1 per domain and model, the baseline, its unverified share and requests per question', () => {
    const table = /<table class="eval-table">[\s\S]*?<\/table>/.exec(html)![0];
    const row = (name: string) => {
      const match = new RegExp(`<tr><th scope="row">${name}</th>(.*?)</tr>`).exec(table);
      assert.ok(match, `a ${name} row`);
      return [...match[1]!.matchAll(/<td>(.*?)<\/td>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, ''));
    };
    assert.deepEqual(row('math'), ['50.0% (2/4)', '100.0% (4/4)']);
    assert.deepEqual(row('overall'), ['37.5% (3/8)', '87.5% (7/8)']);
    assert.deepEqual(row('pass@1'), ['75.0% (3/4)', '–']);
    assert.deepEqual(row('answered unverified'), ['25.0% (1, 1 without answer)', '–']);
    assert.deepEqual(row('requests per question'), ['20.5', '–']);
    assert.match(html, /left out 1 question\(s\) whose gold cannot check their domain/);
    assert.match(html, /4, 1 row\(s\) without gold skipped/);
  });
});

describe('saved experiments', () => {
  test('lists sweeps among the runs and evaluations beside them, with their headline, newest first', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'svd-experiments-'));
    const runsDir = path.join(root, '.svd', 'runs');
    const s = sweep({ updatedAt: '2025-01-03T00:00:00.000Z' });
    mkdirSync(path.join(runsDir, s.id, 'n1v1'), { recursive: true });
    mkdirSync(path.join(runsDir, 'some-run'), { recursive: true });
    writeFileSync(path.join(runsDir, s.id, 'sweep.json'), JSON.stringify(s));
    const e = evaluation();
    mkdirSync(path.join(root, '.svd', 'evals', e.id), { recursive: true });
    mkdirSync(path.join(root, '.svd', 'evals', 'ttc'), { recursive: true });
    writeFileSync(path.join(root, '.svd', 'evals', e.id, 'result.json'), JSON.stringify(e));
    mkdirSync(path.join(root, '.svd', 'evals', 'broken'), { recursive: true });
    writeFileSync(path.join(root, '.svd', 'evals', 'broken', 'result.json'), '{"version": 1}');

    const catalog = new ExperimentCatalog();
    const listed = catalog.list(runsDir);
    // The unreadable file has only its mtime (now), so it comes first; it says why it cannot be shown.
    assert.deepEqual(listed.map((x) => [x.kind, x.id, x.error === undefined]), [
      ['eval', 'broken', false],
      ['sweep', 'sweep-seeds-1a2b3c4d', true],
      ['eval', 'eval-20250102-030405', true],
    ]);
    assert.match(listed[0]!.error!, /invalid evaluation result/);
    const sweepEntry = listed.find((x) => x.kind === 'sweep')!;
    assert.equal(sweepEntry.description, '4 cells · accepted 4–8 · precision 60.0%–87.5%');
    assert.equal(sweepEntry.file, path.join(runsDir, s.id, 'sweep.json'));
    // An unchanged file is not parsed again: the same entry object comes back.
    assert.equal(catalog.list(runsDir).find((x) => x.kind === 'sweep'), sweepEntry);
  });

  test('headlines', () => {
    assert.equal(sweepHeadline(sweep({ state: 'stopped' })), 'stopped · 3/4 cells · accepted 4–8 · precision 60.0%–87.5%');
    assert.equal(sweepHeadline(sweep({ audited: false })), '4 cells · accepted 4–8');
    assert.equal(evalHeadline(evaluation()), 'pass@1 37.5% → 87.5% · TTC 75.0%');
  });

  test('budget lists as typed', () => {
    assert.deepEqual(parseBudgetList('1, 4,8,4', 'n', 64), [1, 4, 8]);
    assert.match(parseBudgetList('1,,4', 'n', 64) as string, /whole numbers/);
    assert.match(parseBudgetList('0,4', 'n', 64) as string, /from 1 to 64 \(got 0\)/);
    assert.match(parseBudgetList('1,40', 'v', 32) as string, /from 1 to 32 \(got 40\)/);
  });
});
