// Everything around the list: the filter bar, the run's summary (funnel, acceptance per domain, usage per stage, the
// audit against gold), the training, the status line and the help line. Templates, and the parts they render into.
import { html, nothing, render, svg, type TemplateResult } from 'lit';
import {
  PURPOSES,
  STAGES,
  type JudgesWrong,
  type ReviewFilter,
  type ReviewOverride,
  type RunSummary,
  type Show,
  type TrainingView,
} from '../../src/protocol/review';
import { costText } from '../../src/protocol/reviewCost';
import { noteEnterText, type KeyFocus } from './keys';
import { trainingTemplate } from './lossChart';

/** The status line: the latest message, an error or not; `retry` offers to ask the host again for `requestId`. */
export interface Status {
  text: string;
  error: boolean;
  requestId?: number;
  retry?: () => void;
}

export interface ChromeContext {
  run: RunSummary | undefined;
  filter: ReviewFilter;
  /** Seeds and candidates matching the filter, once the host said. */
  total: number | undefined;
  totalCandidates: number | undefined;
  busy: boolean;
  summaryOpen: boolean;
  status: Status | undefined;
  /** The run's latest training job, when it has one. */
  training: TrainingView | undefined;
  /** Where the keyboard is, for the help line; with the decision of the candidate whose note is being typed. */
  keyFocus: KeyFocus;
  noteDecision: ReviewOverride['action'] | undefined;
  onFilter(patch: Partial<ReviewFilter>): void;
  onSearchInput(text: string): void;
  onExport(): void;
  onTrain(): void;
  onSummaryToggle(open: boolean): void;
}

/** The panel's parts above and below the list, drawn again from a `ChromeContext` whenever it changes. */
export class Chrome {
  private readonly toolbar = part('toolbar-host');
  private readonly summary = part('summary-host');
  private readonly training = part('training-host');
  private readonly status = part('status-host');
  private readonly help = part('help-host');

  /** Puts the parts and the list in the panel, in their order. */
  mount(root: HTMLElement, list: HTMLElement): void {
    root.replaceChildren(this.toolbar, this.summary, this.training, this.status, list, this.help);
  }

  render(ctx: ChromeContext): void {
    const run = ctx.run;
    render(toolbarTemplate(ctx), this.toolbar);
    render(summaryTemplate(ctx), this.summary);
    render(trainingTemplate(ctx.training), this.training);
    render(statusTemplate(ctx), this.status);
    render(helpTemplate(run?.canOverride ?? true, run?.domains.some((d) => d.domain === 'coding') ?? false, ctx.keyFocus, ctx.noteDecision), this.help);
  }

  /** Only the help line: the keyboard moved. */
  renderHelp(ctx: ChromeContext): void {
    const run = ctx.run;
    render(helpTemplate(run?.canOverride ?? true, run?.domains.some((d) => d.domain === 'coding') ?? false, ctx.keyFocus, ctx.noteDecision), this.help);
  }

  focusSearch(): void {
    (this.toolbar.querySelector('#search') as HTMLElement | null)?.focus();
  }
}

function part(className: string): HTMLElement {
  const el = document.createElement('div');
  el.className = className;
  return el;
}

export const SHOW_LABEL: Record<Show, string> = {
  all: 'All candidates',
  accepted: 'Accepted',
  rejected: 'Rejected (any stage or by hand)',
  rejected_cycle: 'Rejected at cycle consistency',
  rejected_factuality: 'Rejected at factuality',
  rejected_correctness: 'Rejected at correctness',
  invalid: 'Invalid (static filter)',
  unverified: 'Not verified',
};

export const JUDGES_WRONG_LABEL: Record<JudgesWrong | 'any', string> = {
  any: 'Right or wrong by the gold',
  either: 'Judges wrong (by the gold)',
  false_accept: 'False accepts: accepted, wrong',
  false_reject: 'False rejects: right, not accepted',
};

/** Only where there is gold to be wrong against (or the filter was set before). */
function judgesWrongSelect(ctx: ChromeContext): TemplateResult | typeof nothing {
  if (!ctx.run?.audit && ctx.filter.judgesWrong === undefined) return nothing;
  const value = ctx.filter.judgesWrong ?? 'any';
  return html`<vscode-single-select id="judges-wrong" aria-label="Judges wrong by the gold" .value=${value}
    @change=${(e: Event) => {
      const picked = (e.target as HTMLSelectElement).value as JudgesWrong | 'any';
      ctx.onFilter({ judgesWrong: picked === 'any' ? undefined : picked });
    }}>
    ${Object.entries(JUDGES_WRONG_LABEL).map(([v, label]) => html`<vscode-option value=${v} ?selected=${value === v}>${label}</vscode-option>`)}
  </vscode-single-select>`;
}

export function toolbarTemplate(ctx: ChromeContext): TemplateResult {
  const domains = new Set<string>(ctx.run?.domains.map((d) => d.domain) ?? []);
  if (ctx.filter.domain !== 'all') domains.add(ctx.filter.domain);
  return html`<div class="toolbar" role="search">
    <vscode-textfield id="search" class="search" placeholder="Search questions, answers, thinking, judges' replies, notes (/)"
      .value=${ctx.filter.text} @input=${(e: Event) => ctx.onSearchInput((e.target as HTMLInputElement).value)}
      aria-label="Search"><span slot="content-before" class="codicon codicon-search" aria-hidden="true"></span></vscode-textfield>
    <vscode-single-select id="show" aria-label="Show" .value=${ctx.filter.show}
      @change=${(e: Event) => ctx.onFilter({ show: (e.target as HTMLSelectElement).value as Show })}>
      ${Object.entries(SHOW_LABEL).map(([value, label]) => html`<vscode-option value=${value} ?selected=${ctx.filter.show === value}>${label}</vscode-option>`)}
    </vscode-single-select>
    <vscode-single-select id="domain" aria-label="Domain" .value=${ctx.filter.domain}
      @change=${(e: Event) => ctx.onFilter({ domain: (e.target as HTMLSelectElement).value as ReviewFilter['domain'] })}>
      <vscode-option value="all" ?selected=${ctx.filter.domain === 'all'}>All domains</vscode-option>
      ${[...domains].map((domain) => html`<vscode-option value=${domain} ?selected=${ctx.filter.domain === domain}>${domain}</vscode-option>`)}
    </vscode-single-select>
    <vscode-checkbox id="unparseable" label="Unparseable votes" ?checked=${ctx.filter.unparseable}
      @change=${(e: Event) => ctx.onFilter({ unparseable: (e.target as HTMLInputElement).checked })}></vscode-checkbox>
    <vscode-checkbox id="overridden" label="Overridden" ?checked=${ctx.filter.overridden}
      @change=${(e: Event) => ctx.onFilter({ overridden: (e.target as HTMLInputElement).checked })}></vscode-checkbox>
    ${judgesWrongSelect(ctx)}
    <span class="match-count" role="status">${ctx.busy ? html`<span class="codicon codicon-loading codicon-modifier-spin" aria-hidden="true"></span>` : nothing}
      ${ctx.total === undefined ? '' : `${ctx.total.toLocaleString()} seeds${ctx.totalCandidates === undefined ? '' : `, ${ctx.totalCandidates.toLocaleString()} candidates`}`}</span>
    <span class="grow"></span>
    <vscode-button id="export" secondary @click=${() => ctx.onExport()} ?disabled=${!ctx.run}
      ><span class="codicon codicon-export" aria-hidden="true"></span> Export</vscode-button
    >
    <vscode-button id="train" secondary @click=${() => ctx.onTrain()} ?disabled=${!canTrain(ctx)}
      title=${ctx.training?.active ? 'A training on this run is going' : 'Train a model on the accepted answers'}
      ><span class="codicon codicon-rocket" aria-hidden="true"></span> Start training</vscode-button
    >
  </div>`;
}

/** A finished (or stopped) run with no training going. */
function canTrain(ctx: ChromeContext): boolean {
  return ctx.run !== undefined && ctx.run.state !== 'running' && ctx.run.canOverride && !ctx.training?.active;
}

export function statusTemplate(ctx: ChromeContext): TemplateResult {
  if (!ctx.status) return html``;
  const { retry } = ctx.status;
  return html`<div class="status-line ${ctx.status.error ? 'error' : ''}" role=${ctx.status.error ? 'alert' : 'status'}>
    <span class="codicon codicon-${ctx.status.error ? 'error' : 'info'}" aria-hidden="true"></span> ${ctx.status.text}
    ${retry ? html`<button class="act retry" @click=${() => retry()}><span class="codicon codicon-refresh" aria-hidden="true"></span> Retry</button>` : nothing}
  </div>`;
}

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });

function tokens(n: number): TemplateResult {
  return html`<span title=${n.toLocaleString()}>${n < 10_000 ? n.toLocaleString() : compact.format(n)}</span>`;
}

function pct(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '';
}

function bar(value: number, max: number, kind: string): TemplateResult {
  const width = max > 0 ? Math.max(0, Math.min(100, (100 * value) / max)) : 0;
  return html`<svg class="bar-track" viewBox="0 0 100 10" preserveAspectRatio="none" role="presentation" aria-hidden="true">
    ${svg`<rect class="bar-bg" x="0" y="0" width="100" height="10"></rect><rect class="bar ${kind}" x="0" y="0" width=${width.toFixed(2)} height="10"></rect>`}
  </svg>`;
}

export function summaryTemplate(ctx: ChromeContext): TemplateResult {
  const run = ctx.run;
  if (!run) return html`<div class="summary loading">Waiting for the run…</div>`;
  const f = run.funnel;
  const steps: { label: string; value: number; of: number; kind: string }[] = [
    { label: 'seeds', value: f.seeds, of: f.seeds, kind: 'k-seed' },
    { label: 'candidates', value: f.candidates, of: f.candidates, kind: 'k-cand' },
    { label: 'valid', value: f.valid, of: f.candidates, kind: 'k-cand' },
    { label: 'verified', value: f.verified, of: f.valid, kind: 'k-cand' },
    { label: 'passed cycle', value: f.passedCycle, of: f.verified, kind: 'k-stage' },
    { label: 'passed factuality', value: f.passedFactuality, of: f.passedCycle, kind: 'k-stage' },
    { label: 'passed correctness', value: f.passedCorrectness, of: f.passedFactuality, kind: 'k-stage' },
    { label: 'accepted', value: f.accepted, of: f.passedCorrectness, kind: 'k-accepted' },
  ];
  if (f.overridden > 0 || f.acceptedFinal !== f.accepted) {
    steps.push({ label: 'after overrides', value: f.acceptedFinal, of: f.accepted, kind: 'k-accepted' });
  }
  const max = Math.max(1, f.seeds, f.candidates);
  // The line stays when the rest is hidden: a chevron and a label say it opens and closes, and the state is kept.
  return html`<details class="summary" ?open=${ctx.summaryOpen} @toggle=${(e: Event) => ctx.onSummaryToggle((e.target as HTMLDetailsElement).open)}>
    <summary title=${ctx.summaryOpen ? 'Hide the run summary' : 'Show the run summary'}>
      <span class="codicon codicon-chevron-${ctx.summaryOpen ? 'down' : 'right'} summary-chevron" aria-hidden="true"></span>
      <span class="run-id">${run.runId}</span>
      <span class="tag run-state state-${run.state}">${run.state === 'running' ? html`<span class="codicon codicon-loading codicon-modifier-spin" aria-hidden="true"></span>` : nothing} ${run.state}</span>
      <span class="muted">${f.acceptedFinal.toLocaleString()} accepted · ${f.seedsDone.toLocaleString()} of ${f.seeds.toLocaleString()} seeds done${f.errors ? ` · ${f.errors} errors` : ''}${run.skippedRows ? ` · ${run.skippedRows.toLocaleString()} seed-file rows skipped` : ''}${run.cost ? ` · ${costText(run.cost)}` : ''}${run.lastMessage ? ` · ${run.lastMessage}` : ''}</span>
      <span class="summary-toggle">${ctx.summaryOpen ? 'Hide summary' : 'Show summary'}</span>
    </summary>
    <div class="summary-grid">
      <section class="funnel" aria-label="Funnel">
        <h3>Funnel</h3>
        <div class="funnel-rows">
          ${steps.map(
            (step) => html`<div class="funnel-row" data-step=${step.label}>
              <span class="funnel-label">${step.label}</span>
              ${bar(step.value, max, step.kind)}
              <span class="funnel-value">${step.value.toLocaleString()}</span>
              <span class="funnel-note muted">${step.of !== step.value || step.label === 'accepted' ? pct(step.value, step.of) : ''}</span>
            </div>`,
          )}
        </div>
        ${f.unparseableVotes > 0 ? html`<p class="muted">${f.unparseableVotes} unparseable votes (counted as no).</p>` : nothing}
      </section>
      ${run.audit ? auditTemplate(run.audit) : nothing}
      <section class="domains" aria-label="Acceptance per domain">
        <h3>Acceptance per domain</h3>
        <table>
          <thead><tr><th>domain</th><th>seeds</th><th>accepted</th><th>rate</th><th>candidates</th><th>valid</th></tr></thead>
          <tbody>
            ${run.domains.map(
              (d) => html`<tr data-domain=${d.domain}><td>${d.domain}</td><td>${d.seeds}</td><td>${d.seedsAccepted}</td>
                <td class="rate">${bar(d.seedsAccepted, d.seeds, 'k-accepted')}<span>${pct(d.seedsAccepted, d.seeds) || '–'}</span></td>
                <td>${d.candidates}</td><td>${d.valid}</td></tr>`,
            )}
          </tbody>
        </table>
      </section>
      ${run.screening ? screeningTemplate(run.screening) : nothing}
      <section class="usage" aria-label="Requests and tokens per stage">
        <h3>Requests and tokens per stage</h3>
        <table>
          <thead><tr><th>step</th><th title="Requests the run's sessions sent (a running session's recorded every few seconds)">requests</th><th title="Samples in the record">samples</th><th title="Prompt tokens of the samples in the record">prompt</th><th title="Completion tokens of the samples in the record">completion</th><th title="Samples served from the response cache">cached</th></tr></thead>
          <tbody>
            ${PURPOSES.map((purpose) => {
              const u = run.usage[purpose];
              return html`<tr data-purpose=${purpose}><td>${purpose}</td><td>${u.requests.toLocaleString()}</td><td>${u.samples.toLocaleString()}</td>
                <td>${tokens(u.promptTokens)}</td><td>${tokens(u.completionTokens)}</td><td>${u.cachedSamples.toLocaleString()}</td></tr>`;
            })}
          </tbody>
        </table>
      </section>
    </div>
  </details>`;
}

type Audit = NonNullable<RunSummary['audit']>;

// Seeds left out before the run never become rows: they are listed here, as text (lit escapes it).
function screeningTemplate(screening: NonNullable<RunSummary['screening']>): TemplateResult {
  const more = screening.droppedTotal - screening.dropped.length;
  return html`<section class="screening" aria-label="Seed screening">
    <p>Seed screening: ${screening.flagged} matched an evaluation item, ${screening.duplicates} repeated another seed, ${screening.droppedTotal} left out of the run.</p>
    ${screening.dropped.length > 0
      ? html`<ul class="screening-dropped">${screening.dropped.map((d) => html`<li><code>${d.seed}</code> <span class="muted">${d.why}</span></li>`)}${more > 0 ? html`<li class="muted">and ${more} more</li>` : nothing}</ul>`
      : nothing}
  </section>`;
}
type Confusion = Audit['overall'];

const STAGE_NAME: Record<(typeof STAGES)[number], string> = { cycle: 'cycle consistency', factuality: 'factuality', correctness: 'correctness' };

function share(value: number | null, part: number, whole: number): TemplateResult {
  return html`<span title=${`${part} of ${whole}`}>${value === null ? '–' : `${(100 * value).toFixed(1)}%`}</span> <span class="muted share-count">${part}/${whole}</span>`;
}

function confusionRow(key: string, label: string, c: Confusion): TemplateResult {
  return html`<tr data-audit=${key}><td>${label}</td><td>${c.judged}</td>
    <td class="precision">${share(c.precision, c.acceptedCorrect, c.accepted)}</td>
    <td class="recall">${share(c.recall, c.acceptedCorrect, c.correct)}</td>
    <td class="false-accepts ${c.falseAccepts > 0 ? 'bad' : ''}">${c.falseAccepts}</td>
    <td class="false-rejects ${c.falseRejects > 0 ? 'bad' : ''}">${c.falseRejects}</td></tr>`;
}

/** The judges against the gold: per stage (over the candidates that reached it) and the method overall. */
function auditTemplate(audit: Audit): TemplateResult {
  const o = audit.outcomes;
  return html`<section class="audit" aria-label="Audit against the gold">
    <h3>Audit against the gold</h3>
    <table>
      <thead><tr><th>stage</th><th title="Candidates judged at this stage that have a truth">judged</th>
        <th title="Of those the stage passed (overall: the method accepted), the share right by the gold">precision</th>
        <th title="Of those right by the gold, the share the stage passed (overall: the method accepted)">recall</th>
        <th title="Passed or accepted, but wrong by the gold">false accepts</th>
        <th title="Right by the gold, but rejected">false rejects</th></tr></thead>
      <tbody>
        ${STAGES.map((stage) => confusionRow(stage, STAGE_NAME[stage], audit.stages[stage]))}
        ${confusionRow('overall', 'overall (accepted)', audit.overall)}
      </tbody>
    </table>
    <p class="muted audit-note">${audit.checked.toLocaleString()} candidates checked, ${audit.correct.toLocaleString()} right
      (${pct(audit.correct, audit.checked) || '–'}: the generator's own accuracy) · ${o.pass} pass, ${o.fail} fail, ${o.error} error, ${o.timeout} timeout${audit.unchecked - audit.unsandboxed > 0 ? ` · ${(audit.unchecked - audit.unsandboxed).toLocaleString()} not checked yet` : ''}${audit.unsandboxed > 0 ? ` · ${audit.unsandboxed.toLocaleString()} coding candidates not checked: no sandbox on this machine` : ''}</p>
  </section>`;
}

const key = (k: string) => html`<kbd>${k}</kbd>`;

/** The keys that work where the keyboard is: the list (or nothing focused), a button or select, a field. */
export function helpTemplate(canOverride: boolean, canTest = false, focus: KeyFocus = { kind: 'list' }, noteDecision?: ReviewOverride['action']): TemplateResult {
  const back = html`${key('Esc')} back to the list`;
  if (focus.kind === 'note') {
    return html`<footer class="help" aria-label="Keyboard" data-focus="note">
      Typing writes the note of ${focus.candidateId} · ${key('Enter')} ${noteEnterText(noteDecision)} · ${back} (the note kept)
    </footer>`;
  }
  if (focus.kind === 'search') {
    return html`<footer class="help" aria-label="Keyboard" data-focus="search">Typing searches as you type · ${back}</footer>`;
  }
  const control = focus.kind === 'control';
  return html`<footer class="help" aria-label="Keyboard" data-focus=${focus.kind}>
    ${control ? html`${key('Enter')}/${key('Space')} the focused control · ${key('j')}/${key('k')} next/previous · ` : html`${key('j')}/${key('k')} or ${key('↓')}/${key('↑')} next/previous · `}
    ${canOverride ? html`${key('a')} accept · ${key('r')} reject · ${key('c')} clear · ${key('u')} undo · ${key('n')} note · ` : nothing}
    ${canTest ? html`${key('t')} run tests · ` : nothing}
    ${control ? html`${key('e')} expand` : html`${key('e')}/${key('Enter')} expand`} · ${key('/')} search${control ? html` · ${back}` : nothing}
  </footer>`;
}
