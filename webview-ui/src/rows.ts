// The list's rows: a header per seed (its question), one row per candidate, and a placeholder for each seed whose
// page has not arrived. Templates only; the app owns the state they read.
import { html, nothing, type TemplateResult } from 'lit';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import type { ReviewCandidate, ReviewGold, ReviewSeed, ReviewStage, ReviewTruth, ReviewVote, RunSummary } from '../../src/protocol/review';
import { noteEnterText } from './keys';
import { judgesWrongAbout } from '../../src/protocol/reviewSeeds';
import type { LayoutRow } from './layout';
import { canRunTests, type TestRunView } from './testRuns';
import { renderModelTextWithinBudget } from './textRenderer';

export type Row = LayoutRow &
  (
    | { kind: 'placeholder' }
    | { kind: 'seed'; seed: ReviewSeed }
    | { kind: 'candidate'; seed: ReviewSeed; candidate: ReviewCandidate }
  );

export interface RowContext {
  selected: string | undefined;
  expanded: ReadonlySet<string>;
  openVotes: ReadonlySet<string>;
  openThinking: ReadonlySet<string>;
  /** Seeds whose long question is shown whole. */
  openQuestions: ReadonlySet<string>;
  /** The run's state: what a stage not reached because its seed is unfinished is waiting for. */
  runState: RunSummary['state'] | undefined;
  /** Candidates with an override on its way to the host. */
  pending: ReadonlySet<string>;
  canOverride: boolean;
  /** "Run tests" results of this session, by candidate. */
  tests: ReadonlyMap<string, TestRunView>;
  noteOf(candidateId: string): string;
  onToggleVote(key: string, open: boolean): void;
  onToggleThinking(candidateId: string, open: boolean): void;
  onToggleQuestion(seedId: string, open: boolean): void;
  onNoteInput(candidateId: string, value: string): void;
}

export const STAGE_LABEL: Record<ReviewStage['stage'], string> = {
  cycle: 'Cycle consistency',
  factuality: 'Factuality',
  correctness: 'Correctness',
};
const STAGE_SHORT: Record<ReviewStage['stage'], string> = { cycle: 'cycle', factuality: 'fact', correctness: 'correct' };
const STATE_LABEL: Record<ReviewStage['state'], string> = {
  passed: 'passed',
  failed: 'failed',
  running: 'running',
  not_reached: 'not reached',
};
const STATE_ICON: Record<ReviewStage['state'], string> = {
  passed: 'pass',
  failed: 'error',
  running: 'loading',
  not_reached: 'circle-large-outline',
};
const SEED_STATUS_LABEL: Record<ReviewSeed['status'], string> = {
  accepted: 'accepted',
  rejected: 'rejected',
  no_valid: 'no valid candidate',
  pending: 'pending',
};
const SEED_STATUS_ICON: Record<ReviewSeed['status'], string> = {
  accepted: 'pass-filled',
  rejected: 'circle-slash',
  no_valid: 'warning',
  pending: 'clock',
};

export const TRUTH_LABEL: Record<ReviewTruth['outcome'], string> = {
  pass: 'correct',
  fail: 'wrong',
  error: 'error',
  timeout: 'timeout',
  unchecked: 'not checked',
};
const TRUTH_ICON: Record<ReviewTruth['outcome'], string> = { pass: 'pass', fail: 'error', error: 'warning', timeout: 'watch', unchecked: 'shield' };
const JUDGES_WRONG_LABEL = {
  false_accept: 'judges wrong: accepted a wrong answer',
  false_reject: 'judges wrong: rejected a correct answer',
} as const;

function icon(name: string, extra = ''): TemplateResult {
  return html`<span class="codicon codicon-${name} ${extra}" aria-hidden="true"></span>`;
}

function md(text: string): ReturnType<typeof unsafeHTML> | TemplateResult {
  // Every piece of model or seed text goes through the sanitiser before it is HTML. Past the frame's budget it
  // shows as plain text (escaped by lit) for a frame, then rendered.
  const rendered = renderModelTextWithinBudget(text);
  if (rendered === undefined) return html`<p class="md-pending">${text.length > 1_500 ? `${text.slice(0, 1_500)}…` : text}</p>`;
  return unsafeHTML(rendered);
}

export function rowTemplate(row: Row, ctx: RowContext): TemplateResult {
  switch (row.kind) {
    case 'placeholder':
      return html`<div class="row placeholder" data-key=${row.key} data-hkey=${row.hkey} data-slot=${row.slot} aria-hidden="true">
        <div class="placeholder-bar"></div>
      </div>`;
    case 'seed':
      return seedRow(row, row.seed, ctx);
    case 'candidate':
      return candidateRow(row, row.seed, row.candidate, ctx);
  }
}

/** The seed's status after the decisions by hand; where they changed the method's, it says so. */
function seedStatusTag(seed: ReviewSeed): TemplateResult {
  const byMethod = seed.statusByMethod;
  const title = byMethod ? `The method: ${SEED_STATUS_LABEL[byMethod]}; after the decisions by hand: ${SEED_STATUS_LABEL[seed.status]}` : '';
  return html`<span class="tag seed-status status-${seed.status}" data-status=${seed.status} title=${title}
    >${SEED_STATUS_LABEL[seed.status]}${byMethod ? ' by hand' : ''}</span>`;
}

/**
 * A coding question keeps its lines and indentation: as written, in the editor's font (lit escapes it), unless it
 * brings its own code fences, which markdown keeps. Others are markdown. Long ones are cut with a "more".
 */
function questionBody(seed: ReviewSeed): ReturnType<typeof md> {
  return seed.domain === 'coding' && !seed.question.includes('```') ? html`<pre class="question-code">${seed.question}</pre>` : md(seed.question);
}

function questionTemplate(seed: ReviewSeed, ctx: RowContext): TemplateResult {
  const open = ctx.openQuestions.has(seed.id);
  return html`<div class="question-box">
    <div class="question md ${open ? '' : 'clamped'}" data-question=${seed.id}>${questionBody(seed)}</div>
    <button class="more" data-more=${seed.id} aria-expanded=${open ? 'true' : 'false'}
      @click=${() => ctx.onToggleQuestion(seed.id, !open)}>${open ? 'less' : 'more'}</button>
  </div>`;
}

function seedRow(row: Row, seed: ReviewSeed, ctx: RowContext): TemplateResult {
  const accepted = seed.candidates.filter((candidate) => candidate.accepted);
  const shown = seed.candidates.length;
  return html`<div class="row seed-row status-${seed.status}" data-key=${row.key} data-hkey=${row.hkey} data-seed=${seed.id} role="heading" aria-level="2">
    <div class="seed-head">
      ${icon(SEED_STATUS_ICON[seed.status], `seed-status-icon status-${seed.status}`)}
      <span class="seed-id">${seed.id}</span>
      <span class="tag domain">${seed.domain}</span>
      ${seedStatusTag(seed)}
      ${accepted.length > 0
        ? html`<span class="accepted-ref">${icon('check-all')} answer ${accepted.map((c) => `#${c.index}`).join(', ')}</span>`
        : nothing}
      <span class="muted">line ${seed.line} · ${shown === seed.candidateCount ? `${shown} candidates` : `${shown} of ${seed.candidateCount} candidates`}</span>
      ${seed.errors > 0 ? html`<span class="tag error-tag" title=${seed.lastError ?? ''}>${icon('warning')} ${seed.errors} error${seed.errors === 1 ? '' : 's'}</span>` : nothing}
      ${seed.screening ? html`<span class="tag screening-tag" title=${seed.screening}>${icon('shield')} ${seed.screening}</span>` : nothing}
    </div>
    ${seed.gold
      ? html`<div class="seed-body">${questionTemplate(seed, ctx)}${goldTemplate(seed.gold)}</div>`
      : questionTemplate(seed, ctx)}
  </div>`;
}

// The gold is the user's own data, still shown only as text: lit escapes it, it never goes through the markdown path.
function goldTemplate(gold: ReviewGold): TemplateResult {
  return html`<aside class="gold" aria-label="Gold from the seed file">
    ${gold.answer !== undefined
      ? html`<div class="gold-answer"><span class="gold-label">${icon('star-full')} gold answer</span> <code class="gold-text">${gold.answer}</code></div>`
      : nothing}
    ${gold.tests !== undefined ? goldTests(gold.tests, gold.entryPoint) : nothing}
  </aside>`;
}

function goldTests(tests: string, entryPoint: string | undefined): TemplateResult {
  const lines = tests.split('\n').length;
  const label = html`${icon('beaker')} gold tests${entryPoint ? html` · calls <code>${entryPoint}</code>` : nothing}`;
  if (lines <= 6 && tests.length <= 400) {
    return html`<div class="gold-tests"><span class="gold-label">${label}</span><pre class="gold-text">${tests}</pre></div>`;
  }
  return html`<details class="gold-tests"><summary class="gold-label">${label} <span class="muted">(${lines} lines)</span></summary><pre class="gold-text">${tests}</pre></details>`;
}

function truthTag(truth: ReviewTruth, prefix = ''): TemplateResult {
  const extracted = truth.extracted === undefined ? '' : ` · compared: ${truth.extracted.length > 200 ? `${truth.extracted.slice(0, 200)}…` : truth.extracted}`;
  const title = `By the gold: ${TRUTH_LABEL[truth.outcome]}${extracted} · ${truth.detail.length > 500 ? `${truth.detail.slice(0, 500)}…` : truth.detail}`;
  return html`<span class="tag truth-tag truth-${truth.outcome}" data-truth=${truth.outcome} title=${title}>${icon(TRUTH_ICON[truth.outcome])} ${prefix}${TRUTH_LABEL[truth.outcome]}</span>`;
}

function testRunTemplate(run: TestRunView | undefined): TemplateResult | typeof nothing {
  if (!run) return nothing;
  switch (run.state) {
    case 'running':
      return html`<div class="test-run" data-test-state="running">${icon('loading', 'codicon-modifier-spin')} Running the tests…</div>`;
    case 'failed':
      return html`<div class="test-run failed" data-test-state="failed">${icon('warning')} <span class="test-detail">${run.error}</span></div>`;
    case 'done':
      return html`<div class="test-run done" data-test-state="done">
        ${truthTag(run.truth, 'tests: ')} <span class="test-detail">${run.truth.detail}</span>
        ${run.recorded ? html`<span class="muted">· recorded in the run</span>` : nothing}
        ${run.truth.output ? html`<pre class="check-output">${run.truth.output}</pre>` : nothing}
      </div>`;
  }
}

function candidateRow(row: Row, seed: ReviewSeed, c: ReviewCandidate, ctx: RowContext): TemplateResult {
  const selected = ctx.selected === c.id;
  const expanded = ctx.expanded.has(c.id);
  const wrong = judgesWrongAbout(seed, c);
  const testable = canRunTests(seed, c);
  const testRun = ctx.tests.get(c.id);
  const classes = ['row', 'cand-row', selected ? 'selected' : '', c.accepted ? 'accepted' : '', c.valid ? '' : 'invalid', c.override ? `overridden override-${c.override.action}` : '', wrong ? `judges-wrong ${wrong.replace('_', '-')}` : '']
    .filter(Boolean)
    .join(' ');
  return html`<div class=${classes} data-key=${row.key} data-hkey=${row.hkey} data-candidate=${c.id} role="listitem" aria-current=${selected ? 'true' : 'false'} aria-label=${`Candidate ${c.id}`}>
    <div class="cand-head">
      <button class="expander" data-toggle="expand" aria-expanded=${expanded ? 'true' : 'false'} title=${expanded ? 'Collapse (e)' : 'Expand (e)'}>
        ${icon(expanded ? 'chevron-down' : 'chevron-right')}
      </button>
      <span class="cand-index">#${c.index}</span>
      ${c.valid
        ? html`<span class="tag filter-tag valid" title="Static filter: valid">${icon('check')} valid</span>`
        : html`<span class="tag filter-tag invalid" title=${`Static filter: invalid (${c.invalidReason ?? 'unknown'}); finish reason ${c.finishReason}`}>${icon('circle-slash')} invalid: ${c.invalidReason ?? 'unknown'}</span>`}
      <span class="stages">${c.stages.map((stage) => stageBadge(stage))}</span>
      ${c.accepted ? html`<span class="tag accepted-tag">${icon('check-all')} accepted</span>` : nothing}
      ${c.truth ? truthTag(c.truth) : nothing}
      ${wrong ? html`<span class="tag judges-wrong-tag" data-judges-wrong=${wrong}>${icon('law')} ${JUDGES_WRONG_LABEL[wrong]}</span>` : nothing}
      ${c.override
        ? html`<span class="tag override-tag" title=${c.override.note ?? ''}>${icon('person')} by hand: ${c.override.action}${c.override.note ? html` · <span class="note-text">${c.override.note}</span>` : nothing}</span>`
        : nothing}
      ${ctx.pending.has(c.id) ? html`<span class="tag pending-tag">${icon('loading', 'codicon-modifier-spin')} saving</span>` : nothing}
      <span class="grow"></span>
      ${ctx.canOverride || testable
        ? // Plain buttons in the theme's secondary-button colours: three components per row would cost a long list
          // more to render than all of its text.
          html`<span class="actions">
            ${testable
              ? html`<button class="act" data-act="tests" title="Run the seed's tests on this program (t)" ?disabled=${testRun?.state === 'running'}>${icon('beaker')} Run tests</button>`
              : nothing}
            ${ctx.canOverride
              ? html`<button class="act" data-act="accept" title="Accept (a)">${icon('check')} Accept</button>
                  <button class="act" data-act="reject" title="Reject (r)">${icon('close')} Reject</button>
                  <button class="act" data-act="clear" title="Clear the decision (c)" ?disabled=${!c.override}>${icon('discard')} Clear</button>`
              : nothing}
          </span>`
        : nothing}
    </div>
    ${testRunTemplate(testRun)}
    <div class="answer md ${expanded ? '' : 'clamped'}">
      ${c.text.trim() === '' ? html`<p class="muted">No answer: ${c.valid ? 'empty' : (c.invalidReason ?? 'invalid')}.</p>` : md(c.text)}
    </div>
    ${expanded ? candidateDetail(seed, c, ctx) : nothing}
  </div>`;
}

function stageBadge(stage: ReviewStage): TemplateResult {
  const verdicts = stage.votes.filter((vote) => vote.step !== 'infer');
  const label = `${STAGE_LABEL[stage.stage]}: ${STATE_LABEL[stage.state]}${stage.total > 0 ? `, ${stage.yes} of ${stage.total} votes yes` : ''}`;
  return html`<button class="stage-badge st-${stage.state.replace('_', '-')}" data-stage=${stage.stage} data-state=${stage.state} title=${label} aria-label=${label}>
    ${icon(STATE_ICON[stage.state], stage.state === 'running' ? 'codicon-modifier-spin' : '')}
    <span class="stage-name">${STAGE_SHORT[stage.stage]}</span>
    ${verdicts.length > 0 ? html`<span class="vote-dots">${verdicts.map((vote) => voteDot(vote))}</span>` : nothing}
  </button>`;
}

const VERDICT_ICON = { yes: 'check', no: 'close', unparseable: 'question' } as const;

function voteDot(vote: ReviewVote): TemplateResult {
  const verdict = vote.verdict ?? 'unparseable';
  return html`<span class="vote-dot v-${verdict}" data-verdict=${verdict} title=${`vote ${vote.index + 1}: ${verdict}`}>${icon(VERDICT_ICON[verdict])}</span>`;
}

function candidateDetail(seed: ReviewSeed, c: ReviewCandidate, ctx: RowContext): TemplateResult {
  const thinkingOpen = ctx.openThinking.has(c.id);
  return html`<div class="detail">
    ${c.thinking
      ? html`<details class="thinking" ?open=${thinkingOpen} @toggle=${(e: Event) => ctx.onToggleThinking(c.id, (e.target as HTMLDetailsElement).open)}>
          <summary>${icon('lightbulb')} Thinking <span class="muted">(${c.thinking.length.toLocaleString()} characters)</span></summary>
          ${thinkingOpen ? html`<div class="md thinking-text">${md(c.thinking)}</div>` : nothing}
        </details>`
      : html`<p class="muted">No thinking trace.</p>`}
    <p class="filter-line">
      Static filter: ${c.valid ? html`<b>valid</b>` : html`<b class="bad">invalid</b> (${c.invalidReason ?? 'unknown'})`} · finish reason
      <code>${c.finishReason}</code> · method: ${c.acceptedByMethod ? html`<b>accepted</b>` : 'not accepted'}
    </p>
    ${c.truth ? truthDetail(seed, c, c.truth) : nothing}
    ${c.stages.map((stage, index) => stageDetail(seed, c, stage, index, ctx))}
    ${ctx.canOverride
      ? html`<div class="override-row">
          <vscode-textfield class="note" data-note=${c.id} placeholder="Note for the decision (optional)" .value=${ctx.noteOf(c.id)}
            @input=${(e: Event) => ctx.onNoteInput(c.id, (e.target as HTMLInputElement).value)}></vscode-textfield>
          <span class="muted note-hint">In this field, <kbd>Enter</kbd> ${noteEnterText(c.override?.action)} · <kbd>Esc</kbd> back to the list</span>
        </div>`
      : nothing}
  </div>`;
}

function truthDetail(seed: ReviewSeed, c: ReviewCandidate, truth: ReviewTruth): TemplateResult {
  const wrong = judgesWrongAbout(seed, c);
  return html`<section class="truth-detail truth-${truth.outcome}" data-truth=${truth.outcome}>
    <h4>${icon(TRUTH_ICON[truth.outcome])} Against the gold: <span class="truth-summary">${TRUTH_LABEL[truth.outcome]}</span>
      ${truth.durationMs !== undefined ? html`<span class="muted">(${truth.durationMs.toLocaleString()} ms)</span>` : nothing}</h4>
    ${wrong ? html`<p class="judges-wrong-line">${icon('law')} ${JUDGES_WRONG_LABEL[wrong]}: the method ${wrong === 'false_accept' ? 'accepted it, the gold says it is wrong' : 'did not accept it, the gold says it is right'}.</p>` : nothing}
    <p class="truth-text">${truth.detail}</p>
    ${truth.extracted !== undefined && seed.domain !== 'coding' ? html`<p>Compared: <code class="truth-extracted">${truth.extracted}</code></p>` : nothing}
    ${truth.output ? html`<h5>Output of the test run</h5><pre class="check-output">${truth.output}</pre>` : nothing}
  </section>`;
}

function notReachedReason(c: ReviewCandidate, index: number, runState: RowContext['runState']): string {
  if (!c.valid) return 'the candidate did not pass the static filter';
  const earlier = c.stages.slice(0, index);
  const failed = earlier.find((stage) => stage.state === 'failed');
  if (failed) return `${STAGE_LABEL[failed.stage].toLowerCase()} rejected it`;
  const running = earlier.find((stage) => stage.state === 'running');
  if (running && runState === 'running') return `${STAGE_LABEL[running.stage].toLowerCase()} is still voting`;
  switch (c.unverified?.reason) {
    case 'first_valid':
      return `first-valid selection: candidate #${c.unverified.acceptedIndex ?? '?'} was accepted first, so no later candidate is verified`;
    case 'seed_error':
      return "its seed's run ended in an error; resuming the run tries it again";
    case 'seed_finished':
      return 'its seed was finished without verifying it';
    case 'unfinished':
    case undefined:
      return runState === 'running' ? 'not verified yet: the run has not got here' : 'the run stopped before it got here; resume the run to verify it';
  }
}

function stageDetail(seed: ReviewSeed, c: ReviewCandidate, stage: ReviewStage, index: number, ctx: RowContext): TemplateResult {
  const summary =
    stage.state === 'not_reached'
      ? `not reached (${notReachedReason(c, index, ctx.runState)})`
      : `${STATE_LABEL[stage.state]}, ${stage.yes} of ${stage.total} votes yes`;
  const byIndex = new Map<number, { infer?: ReviewVote; verdict?: ReviewVote }>();
  for (const vote of stage.votes) {
    const entry = byIndex.get(vote.index) ?? {};
    if (vote.step === 'infer') entry.infer = vote;
    else entry.verdict = vote;
    byIndex.set(vote.index, entry);
  }
  const inferred = [...byIndex.entries()].filter(([, entry]) => entry.infer?.inferredQuestion ?? entry.verdict?.inferredQuestion);
  return html`<section class="stage-detail st-${stage.state.replace('_', '-')}" data-stage=${stage.stage}>
    <h4>${icon(STATE_ICON[stage.state], stage.state === 'running' ? 'codicon-modifier-spin' : '')} ${STAGE_LABEL[stage.stage]}: <span class="stage-summary">${summary}</span></h4>
    ${stage.stage === 'cycle' && inferred.length > 0
      ? html`<div class="cycle-compare">
          <div class="cycle-col"><h5>Original question</h5><div class="md">${questionBody(seed)}</div></div>
          <div class="cycle-col"><h5>Inferred from the answer alone</h5>
            <ol class="inferred">${inferred.map(([i, entry]) => html`<li value=${i + 1} class="md">${md(entry.infer?.inferredQuestion ?? entry.verdict?.inferredQuestion ?? '')}</li>`)}</ol>
          </div>
        </div>`
      : nothing}
    ${byIndex.size > 0
      ? html`<ol class="votes">${[...byIndex.entries()].map(([i, entry]) => voteItem(c, stage, i, entry, ctx))}</ol>`
      : nothing}
  </section>`;
}

function voteItem(
  c: ReviewCandidate,
  stage: ReviewStage,
  index: number,
  entry: { infer?: ReviewVote; verdict?: ReviewVote },
  ctx: RowContext,
): TemplateResult {
  const key = `${c.id}|${stage.stage}|${index}`;
  const open = ctx.openVotes.has(key);
  const verdict = entry.verdict?.verdict ?? (entry.verdict ? 'unparseable' : undefined);
  return html`<li class="vote" value=${index + 1}>
    <details data-vote=${key} ?open=${open} @toggle=${(e: Event) => ctx.onToggleVote(key, (e.target as HTMLDetailsElement).open)}>
      <summary>
        ${verdict ? html`<span class="vote-dot v-${verdict}">${icon(VERDICT_ICON[verdict])}</span>` : icon('loading', 'codicon-modifier-spin')}
        Vote ${index + 1}: <b class="verdict v-${verdict ?? 'waiting'}">${verdict ?? 'waiting for the comparison'}</b>
      </summary>
      ${open
        ? html`<div class="vote-body">
            ${entry.infer
              ? html`<h5>Inference (the judge saw only the answer)</h5><div class="md judge-text">${md(entry.infer.text)}</div>
                  ${entry.infer.thinking ? html`<h6>Its thinking</h6><div class="md judge-text">${md(entry.infer.thinking)}</div>` : nothing}`
              : nothing}
            ${entry.verdict
              ? html`<h5>${stage.stage === 'cycle' ? 'Comparison with the original question' : "The judge's reply"}</h5>
                  <div class="md judge-text">${md(entry.verdict.text)}</div>
                  ${entry.verdict.thinking ? html`<h6>Its thinking</h6><div class="md judge-text">${md(entry.verdict.thinking)}</div>` : nothing}`
              : nothing}
          </div>`
        : nothing}
    </details>
  </li>`;
}
