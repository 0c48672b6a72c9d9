// The run's training in the review: its state in one line and the loss per step as a small SVG line chart, drawn
// from the points the host sends. Plain SVG attributes (the panel's CSP allows no inline style) and no chart
// library, so the first render of the review costs nothing for it.
import { html, nothing, svg, type TemplateResult } from 'lit';
import type { TrainingPoint, TrainingView } from '../../src/protocol/review';

/** The chart's own units; the SVG stretches to the panel's width, lines keep their width. */
const WIDTH = 600;
const HEIGHT = 120;
const MARGIN = 4;

export interface LossGeometry {
  /** `x,y x,y ...` for the train loss and the eval loss ('' when there is none). */
  loss: string;
  evalLoss: string;
  minLoss: number;
  maxLoss: number;
  firstStep: number;
  lastStep: number;
  /** Points with a train loss. */
  count: number;
}

/** Where each point goes in a WIDTH x HEIGHT box: steps left to right, lower loss lower. Undefined without a loss. */
export function lossGeometry(points: readonly TrainingPoint[]): LossGeometry | undefined {
  const train = points.filter((p): p is TrainingPoint & { loss: number } => p.loss !== undefined);
  const evals = points.filter((p): p is TrainingPoint & { evalLoss: number } => p.evalLoss !== undefined);
  const losses = [...train.map((p) => p.loss), ...evals.map((p) => p.evalLoss)];
  if (losses.length === 0) return undefined;
  const steps = [...train, ...evals].map((p) => p.step);
  const minLoss = Math.min(...losses);
  const maxLoss = Math.max(...losses);
  const firstStep = Math.min(...steps);
  const lastStep = Math.max(...steps);
  const lossSpan = maxLoss - minLoss || Math.abs(maxLoss) || 1;
  const stepSpan = lastStep - firstStep;
  const x = (step: number) => (stepSpan === 0 ? WIDTH / 2 : ((step - firstStep) / stepSpan) * WIDTH);
  const y = (loss: number) => MARGIN + (1 - (loss - minLoss) / lossSpan) * (HEIGHT - 2 * MARGIN);
  const line = (pairs: [number, number][]) => {
    // One point alone would draw nothing: a short level stroke shows it.
    const drawn = pairs.length === 1 ? [[Math.max(0, pairs[0]![0] - 6), pairs[0]![1]], [Math.min(WIDTH, pairs[0]![0] + 6), pairs[0]![1]]] : pairs;
    return drawn.map(([px, py]) => `${px!.toFixed(1)},${py!.toFixed(1)}`).join(' ');
  };
  return {
    loss: train.length > 0 ? line(train.map((p) => [x(p.step), y(p.loss)])) : '',
    evalLoss: evals.length > 0 ? line(evals.map((p) => [x(p.step), y(p.evalLoss)])) : '',
    minLoss,
    maxLoss,
    firstStep,
    lastStep,
    count: train.length,
  };
}

function formatLoss(loss: number): string {
  return String(Number(loss.toPrecision(3)));
}

export function lossChartTemplate(points: readonly TrainingPoint[]): TemplateResult {
  const g = lossGeometry(points);
  if (!g) return html`<p class="loss-empty muted">No loss reported yet.</p>`;
  let last: number | undefined;
  for (const p of points) if (p.loss !== undefined) last = p.loss;
  const label = `Training loss from ${formatLoss(g.maxLoss)} to ${formatLoss(g.minLoss)} (lowest) over steps ${g.firstStep} to ${g.lastStep}`;
  return html`<figure class="loss-chart" data-points=${g.count}>
    <svg class="loss-plot" viewBox="0 0 ${WIDTH} ${HEIGHT}" preserveAspectRatio="none" role="img" aria-label=${label}>
      ${svg`<line class="loss-grid" x1="0" y1=${MARGIN} x2=${WIDTH} y2=${MARGIN} vector-effect="non-scaling-stroke"></line>
        <line class="loss-grid" x1="0" y1=${HEIGHT - MARGIN} x2=${WIDTH} y2=${HEIGHT - MARGIN} vector-effect="non-scaling-stroke"></line>
        ${g.evalLoss ? svg`<polyline class="eval-line" points=${g.evalLoss} vector-effect="non-scaling-stroke"></polyline>` : nothing}
        ${g.loss ? svg`<polyline class="loss-line" points=${g.loss} vector-effect="non-scaling-stroke"></polyline>` : nothing}`}
    </svg>
    <figcaption class="loss-axis muted">
      <span>step ${g.firstStep}</span>
      <span class="loss-range">loss ${formatLoss(g.minLoss)}–${formatLoss(g.maxLoss)}${last !== undefined ? html` · last <span class="loss-last">${formatLoss(last)}</span>` : nothing}${g.evalLoss ? html` · <span class="eval-key">eval</span>` : nothing}</span>
      <span>step ${g.lastStep}</span>
    </figcaption>
  </figure>`;
}

const ICONS: Record<string, string> = {
  succeeded: 'pass',
  failed: 'error',
  cancelled: 'circle-slash',
  interrupted: 'debug-pause',
  queued: 'watch',
};

/** The training section above the list; nothing when the run was never trained. */
export function trainingTemplate(training: TrainingView | undefined): TemplateResult {
  if (!training) return html``;
  const icon = ICONS[training.status] ?? 'loading';
  const spin = training.active ? ' codicon-modifier-spin' : '';
  return html`<section class="training state-${training.status}" aria-label="Training" data-status=${training.status}>
    <div class="training-head">
      <span class="codicon codicon-${icon}${spin}" aria-hidden="true"></span>
      <strong>Training</strong>
      <span class="muted">${training.trainer} · ${training.baseModel}</span>
      <span class="training-summary" role="status">${training.summary}</span>
    </div>
    ${training.lastEvent && training.active ? html`<div class="training-event muted">${training.lastEvent}</div>` : nothing}
    ${lossChartTemplate(training.points)}
  </section>`;
}
