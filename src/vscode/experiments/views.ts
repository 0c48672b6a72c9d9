// The experiment views' HTML: a budget sweep (a heat grid per figure over n x v, and a table per cell) and an
// evaluation (pass@1 per domain, models and their test-time baselines side by side). Pure: the host passes the
// parsed result file, the webview's CSP source and the stylesheet's URI.
//
// The page runs no script at all, so the policy is `default-src 'none'` plus the extension's stylesheet. Charts are
// SVG elements whose look comes from classes in media/experiments.css (no style attribute: the policy forbids
// inline style), and every string read from a file (ids, models, paths) is escaped.
import type { EvalModelResult, EvalResult, Pass } from '../../core/experiments/evaluate';
import type { SweepCell, SweepResult } from '../../core/experiments/sweep';

export interface ExperimentHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** `webview.asWebviewUri(<extension>/media/experiments.css)`, as a string. */
  styleUri: string;
}

const DOMAIN_NAMES = ['math', 'science', 'coding'] as const;
// As in the review's html.ts: host sources or 'self', never quotes, semicolons or commas.
const CSP_SOURCE = /^(?:'self'|[A-Za-z0-9+.\-*:/[\]@%_~]+)(?: (?:'self'|[A-Za-z0-9+.\-*:/[\]@%_~]+))*$/;

export function experimentsCsp(cspSource: string): string {
  return `default-src 'none'; style-src ${cspSource}`;
}

export function sweepTitle(result: Pick<SweepResult, 'id'>): string {
  return `Sweep: ${result.id}`;
}

export function evaluationTitle(result: Pick<EvalResult, 'id'>): string {
  return `Evaluation: ${result.id}`;
}

// ---- sweep -------------------------------------------------------------------------------------------------------

/** @throws Error when the CSP source could break out of the policy. */
export function sweepHtml(result: SweepResult, options: ExperimentHtmlOptions): string {
  const done = result.cells.filter((cell) => cell.state !== 'pending').length;
  const facts: [string, string][] = [
    ['model', result.model],
    ['seed file', result.seedFile.path],
    ['state', `${result.state}, ${done} of ${result.cells.length} cells`],
    ...(result.limit !== undefined ? ([['limit', `first ${result.limit} seeds`]] as [string, string][]) : []),
    ['updated', result.updatedAt],
    ['folder', result.dir],
  ];
  const grids = [
    heatGrid(result, 'accepted', 'Accepted answers', (cell) => cell.accepted, count),
    result.audited
      ? heatGrid(result, 'precision', 'Precision (accepted answers that are right)', (cell) => cell.precision, percent, { absolute: true })
      : '',
    result.audited ? heatGrid(result, 'recall', 'Recall (right answers that were accepted)', (cell) => cell.recall, percent, { absolute: true }) : '',
    heatGrid(result, 'requests', 'Requests to the model (cost)', (cell) => cell.requests, count),
  ].filter(Boolean);
  const note = result.audited
    ? ''
    : '<p class="note">Precision and recall need seeds with gold answers or tests.</p>';
  const body = `<h1>Budget sweep <span class="id">${esc(result.id)}</span></h1>
${factList(facts)}
${note}
<section class="charts" aria-label="figures per budget">
${grids.join('\n')}
</section>
<h2>Cells</h2>
${sweepTable(result)}
<p class="note">Cells run cheapest first; requests count what was sent to the model (samples served from the cache are not requests).</p>`;
  return page(sweepTitle(result), body, options);
}

function sweepTable(result: SweepResult): string {
  const header = ['cell', 'n', 'v', 'state', 'seeds', 'accepted', 'precision', 'recall', 'false acc.', 'false rej.', 'requests', 'cached', 'tokens', 'time'];
  const audited = (text: string) => (result.audited ? text : '–');
  const rows = result.cells.map((cell) => [
    esc(cell.name),
    String(cell.candidates),
    String(cell.votes),
    `<span class="state state-${cssName(cell.state)}">${esc(cell.state)}</span>`,
    `${count(cell.seedsDone)}/${count(cell.seeds)}`,
    count(cell.accepted),
    audited(percent(cell.precision)),
    audited(percent(cell.recall)),
    audited(count(cell.falseAccepts)),
    audited(count(cell.falseRejects)),
    count(cell.requests),
    count(cell.cachedSamples),
    count(cell.promptTokens + cell.completionTokens),
    duration(cell.wallMs),
  ]);
  return table(header, rows, 'sweep-cells');
}

interface GridOptions {
  /** Shade by the value itself (a share from 0 to 1) rather than by its share of the largest value. */
  absolute?: boolean;
}

const CELL_W = 64;
const CELL_H = 40;
const LEFT = 44;
const TOP = 26;

/** One figure over the grid: columns n, rows v, each cell shaded by its value and labelled with it. */
function heatGrid(
  result: SweepResult,
  metric: string,
  caption: string,
  value: (cell: SweepCell) => number | null,
  format: (value: number | null) => string,
  options: GridOptions = {},
): string {
  const ns = [...result.candidates].sort((a, b) => a - b);
  const vs = [...result.votes].sort((a, b) => a - b);
  const byName = new Map(result.cells.map((cell) => [cell.name, cell]));
  const values = result.cells.filter((cell) => cell.state !== 'pending').map(value).filter((v): v is number => v !== null);
  const max = Math.max(0, ...values);
  const width = LEFT + ns.length * CELL_W + 2;
  const height = TOP + vs.length * CELL_H + 2;
  const parts: string[] = [];
  ns.forEach((n, col) => {
    parts.push(`<text class="axis" x="${num(LEFT + col * CELL_W + CELL_W / 2)}" y="${num(TOP - 8)}" text-anchor="middle">n=${n}</text>`);
  });
  vs.forEach((v, row) => {
    parts.push(`<text class="axis" x="${num(LEFT - 6)}" y="${num(TOP + row * CELL_H + CELL_H / 2 + 4)}" text-anchor="end">v=${v}</text>`);
    ns.forEach((n, col) => {
      const cell = byName.get(`n${n}v${v}`);
      const x = LEFT + col * CELL_W;
      const y = TOP + row * CELL_H;
      const shown = cell && cell.state !== 'pending' ? value(cell) : null;
      const label = !cell || cell.state === 'pending' ? '…' : format(shown);
      const shade = shown === null ? 0 : options.absolute ? shown : max > 0 ? shown / max : 0;
      const opacity = shown === null ? 0 : 0.12 + 0.78 * Math.min(1, Math.max(0, shade));
      const state = cell ? cssName(cell.state) : 'pending';
      const tip = `n=${n}, v=${v}: ${label}${cell ? ` (${cell.state})` : ''}`;
      parts.push(
        `<g class="heat-cell state-${state}"><title>${esc(tip)}</title>` +
          `<rect class="heat-back" x="${num(x + 1)}" y="${num(y + 1)}" width="${CELL_W - 2}" height="${CELL_H - 2}" rx="3"></rect>` +
          `<rect class="heat heat-${metric}" x="${num(x + 1)}" y="${num(y + 1)}" width="${CELL_W - 2}" height="${CELL_H - 2}" rx="3" fill-opacity="${num(opacity)}"></rect>` +
          `<text class="heat-label" x="${num(x + CELL_W / 2)}" y="${num(y + CELL_H / 2 + 4)}" text-anchor="middle">${esc(label)}</text></g>`,
      );
    });
  });
  return `<figure class="grid grid-${metric}" data-metric="${metric}">
<figcaption>${esc(caption)}</figcaption>
<svg class="heat-grid" viewBox="0 0 ${num(width)} ${num(height)}" width="${num(width)}" height="${num(height)}" role="img" aria-label="${esc(caption)} per n and v">
${parts.join('\n')}
</svg>
</figure>`;
}

// ---- evaluation --------------------------------------------------------------------------------------------------

interface Series {
  label: string;
  /** pass@1 per group key (a domain, or `overall`). */
  pass: (group: string) => Pass | undefined;
}

/** @throws Error when the CSP source could break out of the policy. */
export function evaluationHtml(result: EvalResult, options: ExperimentHtmlOptions): string {
  const skipped = result.skippedNoGold > 0 ? `, ${count(result.skippedNoGold)} row(s) without gold skipped` : '';
  const facts: [string, string][] = [
    ['seed file', result.seedFile.path],
    ['questions', `${count(result.questions)}${skipped}`],
    ['samples', `${result.samples} per question (pass@1 is their mean)`],
    ...(result.limit !== undefined ? ([['limit', `first ${result.limit} labeled questions`]] as [string, string][]) : []),
    ['created', result.createdAt],
    ['folder', result.dir],
  ];
  const domains = DOMAIN_NAMES.filter((domain) => result.models.some((m) => m.passAt1.perDomain[domain] !== undefined));
  const groups = [...domains, 'overall'];
  const series: Series[] = [];
  for (const model of result.models) {
    series.push({ label: model.model, pass: (group) => passOf(model.passAt1, group) });
  }
  for (const model of result.models) {
    const ttc = model.ttc;
    if (ttc) series.push({ label: `${model.model} + test-time cascade (n=${ttc.candidates}, v=${ttc.votes})`, pass: (group) => passOf(ttc.passAt1, group) });
  }
  const body = `<h1>Evaluation <span class="id">${esc(result.id)}</span></h1>
${factList(facts)}
<section class="charts" aria-label="pass@1">
${barChart(groups, series)}
</section>
<h2>pass@1</h2>
${evaluationTable(result, domains)}
${leftOut(result.models)}`;
  return page(evaluationTitle(result), body, options);
}

function passOf(byDomain: EvalModelResult['passAt1'], group: string): Pass | undefined {
  return group === 'overall' ? byDomain.overall : byDomain.perDomain[group as (typeof DOMAIN_NAMES)[number]];
}

function evaluationTable(result: EvalResult, domains: readonly string[]): string {
  const header = ['', ...result.models.map((m) => esc(m.model))];
  const passCell = (pass: Pass | undefined) => (pass ? `${percent(pass.passAt1)} <span class="of">(${count(pass.correct)}/${count(pass.samples)})</span>` : '–');
  const rows: string[][] = [];
  for (const domain of domains) rows.push([domain, ...result.models.map((m) => passCell(m.passAt1.perDomain[domain as (typeof DOMAIN_NAMES)[number]]))]);
  rows.push(['overall', ...result.models.map((m) => passCell(m.passAt1.overall))]);
  rows.push(['requests', ...result.models.map((m) => count(m.requests))]);
  rows.push(['cached samples', ...result.models.map((m) => count(m.cachedSamples))]);
  rows.push(['tokens', ...result.models.map((m) => count(m.promptTokens + m.completionTokens))]);
  if (result.models.some((m) => m.ttc)) {
    const ttc = (pick: (t: NonNullable<EvalModelResult['ttc']>) => string) => result.models.map((m) => (m.ttc ? pick(m.ttc) : '–'));
    rows.push(['<b>test-time cascade</b>', ...ttc((t) => `n=${t.candidates}, v=${t.votes}`)]);
    rows.push(['pass@1', ...ttc((t) => passCell(t.passAt1.overall))]);
    rows.push(['answered unverified', ...ttc((t) => `${percent(t.unverifiedShare)} <span class="of">(${count(t.unverified)}, ${count(t.noAnswer)} without answer)</span>`)]);
    rows.push(['requests per question', ...ttc((t) => t.requestsPerQuestion.toFixed(1))]);
    rows.push(['samples per question', ...ttc((t) => t.samplesPerQuestion.toFixed(1))]);
  }
  return table(header, rows, 'eval-table');
}

function leftOut(models: readonly EvalModelResult[]): string {
  const lines = models.flatMap((m) => {
    const parts: string[] = [];
    if (m.errors > 0) parts.push(`${count(m.errors)} question(s) whose samples could not be drawn`);
    if (m.unchecked > 0) parts.push(`${count(m.unchecked)} question(s) whose gold cannot check their domain`);
    return parts.length > 0 ? [`<li>${esc(m.model)}: left out ${parts.join(', ')}</li>`] : [];
  });
  return lines.length > 0 ? `<ul class="note">${lines.join('')}</ul>` : '';
}

const PLOT_H = 160;
const BAR_W = 20;
const BAR_GAP = 4;
const GROUP_GAP = 28;
const AXIS_W = 40;
const LABEL_H = 22;
const VALUE_H = 16;

/** Grouped bars: one group per domain and overall, one bar per series, pass@1 from 0 to 100%. */
function barChart(groups: readonly string[], series: readonly Series[]): string {
  const groupW = series.length * (BAR_W + BAR_GAP) - BAR_GAP;
  const width = AXIS_W + groups.length * (groupW + GROUP_GAP) + 4;
  const height = VALUE_H + PLOT_H + LABEL_H;
  const y = (share: number) => VALUE_H + PLOT_H * (1 - share);
  const parts: string[] = [];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line class="grid-line" x1="${AXIS_W}" y1="${num(y(tick))}" x2="${num(width)}" y2="${num(y(tick))}"></line>`);
    parts.push(`<text class="axis" x="${AXIS_W - 4}" y="${num(y(tick) + 4)}" text-anchor="end">${tick * 100}%</text>`);
  }
  groups.forEach((group, g) => {
    const x0 = AXIS_W + GROUP_GAP / 2 + g * (groupW + GROUP_GAP);
    series.forEach((s, i) => {
      const pass = s.pass(group);
      const x = x0 + i * (BAR_W + BAR_GAP);
      const share = pass?.passAt1 ?? null;
      const tip = `${s.label}, ${group}: ${pass ? `${percent(share)} (${pass.correct}/${pass.samples} samples)` : 'no question'}`;
      const bar =
        share === null
          ? ''
          : `<rect class="bar series-${i}" x="${num(x)}" y="${num(y(share))}" width="${BAR_W}" height="${num(PLOT_H * share)}"></rect>`;
      parts.push(
        `<g class="bar-group"><title>${esc(tip)}</title>${bar}` +
          `<text class="bar-value" x="${num(x + BAR_W / 2)}" y="${num(y(share ?? 0) - 4)}" text-anchor="middle">${share === null ? '–' : Math.round(share * 100)}</text></g>`,
      );
    });
    parts.push(`<text class="axis group-label" x="${num(x0 + groupW / 2)}" y="${num(VALUE_H + PLOT_H + 16)}" text-anchor="middle">${esc(group)}</text>`);
  });
  const legend = series
    .map((s, i) => `<li><svg class="swatch" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true"><rect class="bar series-${i}" width="12" height="12" rx="2"></rect></svg>${esc(s.label)}</li>`)
    .join('');
  return `<figure class="bars">
<figcaption>pass@1 per domain (%)</figcaption>
<svg class="bar-chart" viewBox="0 0 ${num(width)} ${num(height)}" width="${num(width)}" height="${num(height)}" role="img" aria-label="pass@1 per domain and model">
${parts.join('\n')}
</svg>
<ul class="legend">${legend}</ul>
</figure>`;
}

// ---- shared ------------------------------------------------------------------------------------------------------

function page(title: string, body: string, options: ExperimentHtmlOptions): string {
  if (!CSP_SOURCE.test(options.cspSource)) throw new Error(`experiments html: not a CSP source: ${options.cspSource}`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${esc(experimentsCsp(options.cspSource))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${esc(title)}</title>
<link rel="stylesheet" href="${esc(options.styleUri)}">
</head>
<body class="experiment">
${body}
</body>
</html>
`;
}

function factList(facts: readonly [string, string][]): string {
  return `<dl class="facts">${facts.map(([key, value]) => `<dt>${esc(key)}</dt><dd>${esc(value)}</dd>`).join('')}</dl>`;
}

/** Cells are HTML already (escaped by the caller); header cells too. */
function table(header: readonly string[], rows: readonly (readonly string[])[], className: string): string {
  const head = `<tr>${header.map((cell) => `<th scope="col">${cell}</th>`).join('')}</tr>`;
  const body = rows.map((row) => `<tr>${row.map((cell, i) => (i === 0 ? `<th scope="row">${cell}</th>` : `<td>${cell}</td>`)).join('')}</tr>`).join('\n');
  return `<table class="${className}">\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function count(value: number | null): string {
  return value === null ? '–' : String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)}%`;
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')} s`;
}

/** A number for an SVG attribute: at most two decimals. */
function num(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function cssName(text: string): string {
  return text.replace(/[^a-z0-9-]/gi, '-');
}

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
