// The review app: wires the seed pages, the list on screen, the reviewer's decisions, "Run tests" and the keys to
// the host, and draws what is around the list. Requests to the host have deadlines; one that passes says so on the
// status line, with a retry. Only UI state is persisted; the run's data is the host's.
import {
  REVIEW_PROTOCOL,
  type HostMessage,
  type OverrideAction,
  type OverrideResultMessage,
  type PageMessage,
  type ReviewFilter,
  type RunSummary,
  type TestResultMessage,
  type TrainingView,
} from '../../src/protocol/review';
import { Chrome, type ChromeContext, type Status } from './chrome';
import { Decisions, withOverride, type Before, type OverrideRequest } from './decisions';
import type { HostChannel } from './host';
import { keyFocusOf, onKeyDown, onListAuxClick, onListClick, type KeyFocus, type ReviewCommands } from './keys';
import { PAGE_SIZE, SeedPages } from './pages';
import { HostRequests, READY_REQUEST, type ExpiredRequest } from './requests';
import { TRUTH_LABEL, type RowContext } from './rows';
import { TestRuns } from './testRuns';
import { onTextRendererReady } from './textRenderer';
import { ViewState } from './uiState';
import { Viewport } from './viewport';

const SEARCH_DELAY_MS = 200;

export class ReviewApp implements ReviewCommands {
  private run: RunSummary | undefined;
  private training: TrainingView | undefined;
  private readonly requests = new HostRequests((expired) => this.onExpired(expired));
  private readonly pages: SeedPages;
  private readonly viewport: Viewport;
  private readonly view: ViewState;
  private readonly decisions: Decisions;
  private readonly testRuns = new TestRuns();
  private readonly chrome = new Chrome();
  private statusGeneration = 0;
  private status: Status | undefined;
  private keyFocus: KeyFocus = { kind: 'list' };
  private searchTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    root: HTMLElement,
    private readonly host: HostChannel,
  ) {
    const state = host.loadState();
    this.decisions = new Decisions(state.notes);
    this.pages = new SeedPages(state.filter, {
      send: (offset, filter) => {
        const requestId = this.requests.open('page', `seeds ${offset + 1} to ${offset + PAGE_SIZE}`);
        this.host.post({ type: 'requestPage', requestId, offset, limit: PAGE_SIZE, filter });
        return requestId;
      },
      cancel: (requestId) => this.requests.cancel(requestId),
    });
    this.view = new ViewState(state, (stored) => host.saveState(stored), () => ({
      filter: this.pages.filter,
      anchor: this.viewport.anchor,
      notes: this.decisions.notes,
    }));
    this.viewport = new Viewport(
      {
        seeds: () => this.pages.seeds,
        expanded: this.view.expanded,
        candidatesPerSeed: () => (this.run && this.run.funnel.seeds > 0 ? this.run.funnel.candidates / this.run.funnel.seeds : undefined),
        rowContext: () => this.rowContext(),
        onSlotsInView: (first, last) => this.pages.requestMissing(first, last),
        onAnchorMoved: () => this.view.saveSoon(),
        afterFrame: () => {
          const list = this.viewport.element;
          list.setAttribute('aria-busy', this.pages.loading ? 'true' : 'false');
          if (this.pages.appliedKey !== undefined) list.dataset.filterKey = this.pages.appliedKey;
        },
      },
      state.anchor,
    );

    const list = this.viewport.element;
    this.chrome.mount(root, list);
    list.addEventListener('click', (e) => onListClick(e, this));
    list.addEventListener('auxclick', onListAuxClick);
    document.addEventListener('keydown', (e) => onKeyDown(e, this));
    // The help line says what keys do where the focus is; focusout first leaves it on the body, focusin then moves it.
    document.addEventListener('focusin', () => this.onFocusMoved());
    document.addEventListener('focusout', () => setTimeout(() => this.onFocusMoved(), 0));
    host.onMessage((message) => this.onMessage(message));
  }

  /** Says ready, and asks at once for the page the list will show (the host answers `init` first). */
  start(): void {
    this.renderChrome();
    onTextRendererReady(() => this.viewport.invalidate());
    this.sendReady();
    this.pages.requestSlot(this.viewport.restoreSlot);
  }

  get selected(): string | undefined {
    return this.view.selected;
  }

  get canOverride(): boolean {
    return this.run?.canOverride ?? true;
  }

  private sendReady(): void {
    this.requests.open('ready', "the run's summary", READY_REQUEST);
    this.host.post({ type: 'ready', protocol: REVIEW_PROTOCOL });
  }

  // ---------------------------------------------------------------- messages from the host

  private onMessage(message: HostMessage): void {
    switch (message.type) {
      case 'init':
        this.settle(READY_REQUEST);
        if (message.protocol !== REVIEW_PROTOCOL) {
          this.setStatus(`This panel speaks review protocol ${REVIEW_PROTOCOL}, the extension ${message.protocol}: reload the window.`, true);
        }
        this.run = message.run;
        break;
      case 'page':
        this.onPage(message);
        return;
      case 'events':
        this.run = message.run;
        this.pages.update(message);
        break;
      case 'overrideResult':
        this.onOverrideResult(message);
        return;
      case 'testResult':
        this.onTestResult(message);
        return;
      case 'training':
        this.training = message.training ?? undefined;
        this.renderChrome();
        return;
    }
    this.renderChrome();
    this.viewport.invalidate();
  }

  /** An answer came: its deadline goes, and the message that it had not come goes with it. */
  private settle(requestId: number): void {
    if (!this.requests.settle(requestId) && this.status?.requestId === requestId) {
      this.status = undefined;
      this.renderChrome();
    }
  }

  private onPage(message: PageMessage): void {
    this.settle(message.requestId);
    const outcome = this.pages.receive(message);
    if (outcome === 'stale') return;
    if (outcome === 'switched') this.viewport.restart();
    this.renderChrome();
    this.viewport.invalidate();
  }

  private onOverrideResult(message: OverrideResultMessage): void {
    this.settle(message.requestId);
    if (message.ok && message.seed) this.pages.replace(message.seed);
    const { rollback, status } = this.decisions.answered(message, this.statusGeneration);
    if (rollback) this.restore(rollback.candidateId, rollback.before);
    if (status?.error) this.setStatus(status.text, true);
    else if (status) {
      // Answers do not count as messages of their own, so a burst of keys ends on the last one's answer.
      this.status = status;
      this.renderChrome();
    }
    this.viewport.invalidate();
  }

  private onTestResult(message: TestResultMessage): void {
    this.settle(message.requestId);
    const { candidateId, run } = this.testRuns.answered(message);
    if (run.state === 'done') {
      const recorded = run.recorded ? ' Recorded in the run for the audit.' : '';
      this.setStatus(`Tests of ${candidateId}: ${TRUTH_LABEL[run.truth.outcome]}.${recorded}`, false);
    } else if (run.state === 'failed') {
      this.setStatus(run.error, true);
    }
    this.viewport.invalidate();
  }

  /** A request the host did not answer in time: say so, take back what was shown ahead of it, offer to ask again. */
  private onExpired({ requestId, kind, what }: ExpiredRequest): void {
    const message = `The editor did not answer: ${what}.`;
    let retry: () => void;
    if (kind === 'ready') {
      retry = () => this.sendReady();
    } else if (kind === 'page') {
      const offset = this.pages.expire(requestId);
      retry = () => (offset === undefined ? this.viewport.schedule() : this.pages.request(offset));
    } else if (kind === 'override') {
      const expired = this.decisions.expired(requestId);
      if (expired) this.restore(expired.candidateId, expired.before);
      retry = () => expired && this.sendOverride(expired.retry, expired.undoes);
    } else {
      const candidateId = this.testRuns.expired(requestId, message);
      retry = () => candidateId !== undefined && this.runTests(candidateId);
    }
    const again = () => {
      this.status = undefined;
      this.renderChrome();
      retry();
    };
    this.setStatus(message, true, { requestId, retry: again });
    this.viewport.invalidate();
  }

  // ---------------------------------------------------------------- filters

  private onFilter(patch: Partial<ReviewFilter>): void {
    const outcome = this.pages.setFilter(patch);
    if (outcome === 'same') return;
    this.view.saveSoon();
    if (outcome !== 'requested') return;
    this.renderChrome();
    // The list says it is busy until the new filter's first page is here.
    this.viewport.schedule();
  }

  private onSearchInput(text: string): void {
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => this.onFilter({ text }), SEARCH_DELAY_MS);
  }

  // ---------------------------------------------------------------- commands (keys and clicks)

  move(step: 1 | -1): void {
    const next = this.viewport.neighbour(this.view.selected, step);
    if (next && 'missingSlot' in next) this.pages.requestSlot(next.missingSlot);
    else if (next) this.select(next.candidateId, true);
  }

  select(candidateId: string, reveal = false): void {
    if (this.view.selected !== candidateId) {
      this.view.selected = candidateId;
      this.view.saveSoon();
      this.viewport.schedule();
    }
    if (reveal) this.viewport.reveal(candidateId);
  }

  toggleExpanded(candidateId: string, open?: boolean): void {
    const expanded = this.view.expanded;
    if (this.view.toggle(expanded, candidateId, open ?? !expanded.has(candidateId))) this.viewport.invalidate();
  }

  editNote(candidateId: string): void {
    this.toggleExpanded(candidateId, true);
    this.viewport.focusNote(candidateId);
  }

  submitNote(candidateId: string): void {
    const candidate = this.pages.findCandidate(candidateId);
    this.select(candidateId);
    this.focusList();
    const decision = candidate?.override?.action;
    if (decision) {
      this.act(decision, candidateId);
      return;
    }
    const kept = this.decisions.noteOf(candidateId, candidate).trim() !== '';
    this.setStatus(`${kept ? `Note kept for ${candidateId}` : `${candidateId} has no decision yet`}: a accept or r reject records it${kept ? ' with the note' : ''}.`, false);
  }

  focusSearch(): void {
    this.chrome.focusSearch();
  }

  focusList(): void {
    this.viewport.focus();
  }

  openLink(href: string): void {
    try {
      this.host.post({ type: 'openLink', href });
    } catch {
      this.setStatus('That link cannot be opened from here.', true);
    }
  }

  runTests(candidateId = this.view.selected): void {
    if (!candidateId) {
      this.setStatus('Select a candidate first (j / k).', false);
      return;
    }
    const seed = this.pages.findSeedOf(candidateId);
    const candidate = seed?.candidates.find((c) => c.id === candidateId);
    if (!seed || !candidate) return;
    const refusal = this.testRuns.refusal(seed, candidate);
    if (refusal) {
      this.setStatus(refusal, false);
      return;
    }
    const requestId = this.requests.open('tests', `the tests of ${candidateId}`);
    this.testRuns.sent(requestId, candidateId);
    this.host.post({ type: 'runTests', requestId, candidateId });
    this.setStatus(`Running the tests of ${candidateId}…`, false);
    this.viewport.invalidate();
  }

  act(action: OverrideAction, candidateId = this.view.selected): void {
    if (!candidateId) {
      this.setStatus('Select a candidate first (j / k).', false);
      return;
    }
    const decision = this.decisions.decide(action, candidateId, this.pages.findCandidate(candidateId), this.canOverride);
    if (decision?.refused) this.setStatus(decision.refused.text, decision.refused.error);
    else if (decision) this.sendOverride(decision.send);
  }

  undo(): void {
    const decision = this.decisions.undo();
    if (decision.refused) {
      this.setStatus(decision.refused.text, decision.refused.error);
      return;
    }
    this.select(decision.send.candidateId, true);
    this.sendOverride(decision.send, decision.undoes);
  }

  private sendOverride(request: OverrideRequest, undoes?: OverrideAction): void {
    const { candidateId, action, note } = request;
    const requestId = this.requests.open('override', undoes ? `the undo of ${undoes} ${candidateId}` : `${action} ${candidateId}`);
    this.decisions.sent(requestId, request, this.pages.findCandidate(candidateId), this.statusGeneration, undoes);
    // Shown at once; the host's answer confirms it or puts it back.
    this.pages.patchCandidate(candidateId, (c) => withOverride(c, action, note, new Date().toISOString()));
    this.host.post({ type: 'override', requestId, ...request });
    this.view.saveSoon();
    this.viewport.invalidate();
  }

  private restore(candidateId: string, before: Before): void {
    this.pages.patchCandidate(candidateId, () => ({ override: before.override, accepted: before.accepted }));
  }

  // ---------------------------------------------------------------- rows and chrome

  private rowContext(): RowContext {
    const view = this.view;
    return {
      selected: view.selected,
      expanded: view.expanded,
      openVotes: view.openVotes,
      openThinking: view.openThinking,
      openQuestions: view.openQuestions,
      runState: this.run?.state,
      pending: this.decisions.pendingCandidates(),
      canOverride: this.canOverride,
      tests: this.testRuns.views,
      noteOf: (id) => this.decisions.noteOf(id, this.pages.findCandidate(id)),
      onToggleVote: (key, open) => view.toggle(view.openVotes, key, open) && this.viewport.schedule(),
      onToggleThinking: (id, open) => view.toggle(view.openThinking, id, open) && this.viewport.schedule(),
      onToggleQuestion: (id, open) => view.toggle(view.openQuestions, id, open) && this.viewport.schedule(),
      onNoteInput: (id, value) => {
        this.decisions.setDraft(id, value);
        view.saveSoon();
      },
    };
  }

  private chromeContext(): ChromeContext {
    return {
      run: this.run,
      filter: this.pages.filter,
      total: this.pages.total,
      totalCandidates: this.pages.totalCandidates,
      busy: this.pages.switching,
      summaryOpen: this.view.summaryOpen,
      status: this.status,
      keyFocus: this.keyFocus,
      noteDecision: this.keyFocus.kind === 'note' ? this.pages.findCandidate(this.keyFocus.candidateId)?.override?.action : undefined,
      onFilter: (patch) => this.onFilter(patch),
      onSearchInput: (text) => this.onSearchInput(text),
      training: this.training,
      onExport: () => {
        this.host.post({ type: 'export' });
        this.setStatus('Export requested.', false);
      },
      onTrain: () => {
        this.host.post({ type: 'train' });
        this.setStatus('Training requested: choose the trainer.', false);
      },
      onSummaryToggle: (open) => {
        if (this.view.summaryOpen === open) return;
        this.view.summaryOpen = open;
        this.view.saveNow();
        this.renderChrome();
      },
    };
  }

  private renderChrome(): void {
    this.chrome.render(this.chromeContext());
  }

  private onFocusMoved(): void {
    const focus = keyFocusOf(document.activeElement);
    if (JSON.stringify(focus) === JSON.stringify(this.keyFocus)) return;
    this.keyFocus = focus;
    this.chrome.renderHelp(this.chromeContext());
  }

  private setStatus(text: string, error: boolean, about: Pick<Status, 'requestId' | 'retry'> = {}): void {
    this.statusGeneration++;
    this.status = { text, error, ...about };
    this.renderChrome();
  }
}
