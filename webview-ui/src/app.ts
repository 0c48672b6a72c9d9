// The review app: pages of seeds from the host in a virtualised list, selection and keyboard review, overrides
// sent to the host, live updates folded in place. Only UI state is persisted; the run's data is the host's.
import { html, render } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import {
  filterKey,
  REVIEW_PROTOCOL,
  ReviewFilter,
  type EventsMessage,
  type HostMessage,
  type OverrideAction,
  type OverrideResultMessage,
  type PageMessage,
  type ReviewCandidate,
  type ReviewOverride,
  type ReviewSeed,
  type RunSummary,
  type TestResultMessage,
  type TrainingView,
} from '../../src/protocol/review';
import { candidateFilterActive, matchesCandidate } from '../../src/protocol/reviewSeeds';
import { helpTemplate, statusTemplate, summaryTemplate, toolbarTemplate, type ChromeContext } from './chrome';
import type { HostChannel } from './host';
import { ListLayout } from './layout';
import { trainingTemplate } from './lossChart';
import { endRenderBudget, onTextRendererReady, startRenderBudget } from './textRenderer';
import { canRunTests, rowTemplate, TRUTH_LABEL, type Row, type RowContext, type TestRunView } from './rows';
import { recent, type UiState } from './uiState';

/** Seeds per page request: small messages, however long the texts. */
export const PAGE_SIZE = 30;
/** Rows rendered beyond the viewport, in pixels, each way. */
const OVERSCAN = 500;
/** Pages fetched ahead of the viewport, in seeds, each way. */
const PREFETCH_SEEDS = 10;
const SEARCH_DELAY_MS = 200;
const ESTIMATE = { seed: 76, candidate: 168, expanded: 640 };
/** Milliseconds of markdown, math and highlighting per frame; the rest waits a frame as plain text. */
const RENDER_BUDGET_MS = 12;

interface Anchor {
  key: string;
  slot: number;
  delta: number;
}

interface UndoEntry {
  candidateId: string;
  previous: { action: 'accept' | 'reject'; note?: string } | undefined;
}

interface PendingOverride {
  candidateId: string;
  action: OverrideAction;
  before: Pick<ReviewCandidate, 'override' | 'accepted'>;
  /** The status line's generation when the request left: a later message on it is not overwritten by the answer. */
  statusAt: number;
}

export class ReviewApp {
  private run: RunSummary | undefined;
  private training: TrainingView | undefined;
  private filter: ReviewFilter;
  private requestedKey: string;
  private appliedKey: string | undefined;
  private slots: (ReviewSeed | undefined)[] = [];
  private slotGeneration: number[] = [];
  private generation = 0;
  private total: number | undefined;
  private totalCandidates: number | undefined;
  private readonly seedSlot = new Map<string, number>();
  private readonly inflight = new Map<number, number>();
  private nextRequestId = 1;

  private readonly layout = new ListLayout<Row>();
  private rowsDirty = true;
  private anchor: Anchor | undefined;
  private restoreAnchor: Anchor | undefined;

  private selected: string | undefined;
  private readonly expanded: Set<string>;
  private readonly openVotes: Set<string>;
  private readonly openThinking: Set<string>;
  private readonly notes: Map<string, string>;
  private summaryOpen: boolean;
  private readonly pendingOverrides = new Map<number, PendingOverride>();
  private readonly undoStack: UndoEntry[] = [];
  /** "Run tests" of this session: results by candidate, and the requests on their way. */
  private readonly tests = new Map<string, TestRunView>();
  private readonly pendingTests = new Map<number, string>();
  private statusGeneration = 0;
  private status: { text: string; error: boolean } | undefined;

  private frameRequested = false;
  /** Where the list was scrolled to by the app, not the user: its scroll event must not move the anchor. */
  private programmaticScroll: number | undefined;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private searchTimer: ReturnType<typeof setTimeout> | undefined;
  private focusNoteOf: string | undefined;
  private readonly observed = new Set<Element>();
  private readonly resizeObserver: ResizeObserver;

  private readonly toolbarEl: HTMLElement;
  private readonly statusEl: HTMLElement;
  private readonly summaryEl: HTMLElement;
  private readonly trainingEl: HTMLElement;
  private readonly listEl: HTMLElement;
  private readonly spacerEl: HTMLElement;
  private readonly windowEl: HTMLElement;
  private readonly helpEl: HTMLElement;

  constructor(
    root: HTMLElement,
    private readonly host: HostChannel,
  ) {
    const state = host.loadState();
    this.filter = state.filter;
    this.requestedKey = filterKey(this.filter);
    this.selected = state.selected;
    this.expanded = new Set(state.expanded);
    this.openVotes = new Set(state.openVotes);
    this.openThinking = new Set(state.openThinking);
    this.notes = new Map(Object.entries(state.notes));
    this.summaryOpen = state.summaryOpen;
    this.restoreAnchor = state.anchor;

    root.replaceChildren();
    const part = (tag: string, className: string): HTMLElement => {
      const el = document.createElement(tag);
      el.className = className;
      return el;
    };
    this.toolbarEl = part('div', 'toolbar-host');
    this.summaryEl = part('div', 'summary-host');
    this.trainingEl = part('div', 'training-host');
    this.statusEl = part('div', 'status-host');
    this.listEl = part('div', 'list');
    this.listEl.id = 'list';
    this.listEl.tabIndex = 0;
    this.listEl.setAttribute('role', 'list');
    this.listEl.setAttribute('aria-label', 'Seeds and candidates');
    this.spacerEl = part('div', 'list-spacer');
    this.windowEl = part('div', 'list-window');
    this.spacerEl.append(this.windowEl);
    this.listEl.append(this.spacerEl);
    this.helpEl = part('div', 'help-host');
    root.append(this.toolbarEl, this.summaryEl, this.trainingEl, this.statusEl, this.listEl, this.helpEl);

    this.resizeObserver = new ResizeObserver((entries) => this.onResize(entries));
    this.resizeObserver.observe(this.listEl);
    this.listEl.addEventListener('scroll', () => this.onScroll(), { passive: true });
    this.listEl.addEventListener('click', (e) => this.onListClick(e));
    this.listEl.addEventListener('auxclick', (e) => {
      if ((e.target as Element).closest?.('[data-href]')) e.preventDefault();
    });
    document.addEventListener('keydown', (e) => this.onKeyDown(e));
    host.onMessage((message) => this.onMessage(message));
  }

  /** Says ready, and asks at once for the page the list will show (the host answers `init` first). */
  start(): void {
    this.renderChrome();
    onTextRendererReady(() => {
      this.rowsDirty = true;
      this.schedule();
    });
    this.host.post({ type: 'ready', protocol: REVIEW_PROTOCOL });
    const slot = this.restoreAnchor?.slot ?? 0;
    this.requestPage(Math.floor(slot / PAGE_SIZE) * PAGE_SIZE);
  }

  // ---------------------------------------------------------------- messages from the host

  private onMessage(message: HostMessage): void {
    switch (message.type) {
      case 'init':
        if (message.protocol !== REVIEW_PROTOCOL) {
          this.setStatus(`This panel speaks review protocol ${REVIEW_PROTOCOL}, the extension ${message.protocol}: reload the window.`, true);
        }
        this.run = message.run;
        this.renderChrome();
        this.rowsDirty = true;
        this.schedule();
        break;
      case 'page':
        this.onPage(message);
        break;
      case 'events':
        this.onEvents(message);
        break;
      case 'overrideResult':
        this.onOverrideResult(message);
        break;
      case 'testResult':
        this.onTestResult(message);
        break;
      case 'training':
        this.training = message.training ?? undefined;
        this.renderChrome();
        break;
    }
  }

  private onPage(message: PageMessage): void {
    if (message.filterKey !== this.requestedKey) return;
    if (this.inflight.get(message.offset) === message.requestId) this.inflight.delete(message.offset);
    if (this.appliedKey !== this.requestedKey) {
      // The first page for a new filter: the list switches now, not when the filter was typed.
      this.appliedKey = this.requestedKey;
      this.slots = [];
      this.slotGeneration = [];
      this.seedSlot.clear();
      this.anchor = this.restoreAnchor ?? { key: '', slot: 0, delta: 0 };
      this.restoreAnchor = undefined;
      this.scrollTo(0);
    }
    this.resize(message.total);
    this.totalCandidates = message.totalCandidates;
    message.seeds.forEach((seed, i) => this.place(message.offset + i, seed));
    this.rowsDirty = true;
    this.renderChrome();
    this.schedule();
  }

  private onEvents(message: EventsMessage): void {
    this.run = message.run;
    if (message.total !== undefined && message.filterKey === this.appliedKey && message.total !== this.total) {
      // Seeds came or went: what is loaded may sit one place off, so visible pages are fetched again.
      this.resize(message.total);
      this.generation += 1;
    }
    for (const seed of message.seeds) {
      const slot = this.seedSlot.get(seed.id);
      if (slot === undefined) continue;
      this.slots[slot] = this.narrow(seed, this.slots[slot]);
    }
    this.rowsDirty = true;
    this.renderChrome();
    this.schedule();
  }

  private onOverrideResult(message: OverrideResultMessage): void {
    const pending = this.pendingOverrides.get(message.requestId);
    this.pendingOverrides.delete(message.requestId);
    if (message.ok) {
      if (message.seed) {
        const slot = this.seedSlot.get(message.seed.id);
        if (slot !== undefined) this.slots[slot] = this.narrow(message.seed, this.slots[slot]);
      }
      // A key pressed since (u with nothing left to undo, say) keeps its own message.
      // Answers do not count as messages of their own, so a burst of keys ends on the last one's answer.
      if (pending && pending.statusAt === this.statusGeneration) {
        this.status = { text: `Recorded: ${pending.action} ${pending.candidateId}`, error: false };
        this.renderChrome();
      }
    } else {
      if (pending) {
        const { before } = pending;
        this.patchCandidate(pending.candidateId, () => ({ override: before.override, accepted: before.accepted }));
      }
      this.setStatus(message.error ?? `The override of ${message.candidateId} was not recorded.`, true);
    }
    this.rowsDirty = true;
    this.schedule();
  }

  private onTestResult(message: TestResultMessage): void {
    const candidateId = this.pendingTests.get(message.requestId) ?? message.candidateId;
    this.pendingTests.delete(message.requestId);
    if (message.ok && message.truth) {
      this.tests.set(candidateId, { state: 'done', truth: message.truth, recorded: message.recorded ?? false });
      const recorded = message.recorded ? ' Recorded in the run for the audit.' : '';
      this.setStatus(`Tests of ${candidateId}: ${TRUTH_LABEL[message.truth.outcome]}.${recorded}`, false);
    } else {
      const error = message.error ?? `The tests of ${candidateId} did not run.`;
      this.tests.set(candidateId, { state: 'failed', error });
      this.setStatus(error, true);
    }
    this.rowsDirty = true;
    this.schedule();
  }

  /** A seed re-sent whole, narrowed to what the list shows: the candidates it showed stay, new matches join. */
  private narrow(seed: ReviewSeed, shown: ReviewSeed | undefined): ReviewSeed {
    const filter = this.filter;
    const narrowing = candidateFilterActive(filter) || filter.text.trim() !== '';
    if (!narrowing) return seed;
    const ids = new Set(shown?.candidates.map((c) => c.id) ?? []);
    const candidates = seed.candidates.filter((c) => ids.has(c.id) || matchesCandidate(seed, c, filter));
    return { ...seed, candidates };
  }

  private resize(total: number): void {
    this.total = total;
    if (this.slots.length > total) {
      for (const seed of this.slots.slice(total)) if (seed) this.seedSlot.delete(seed.id);
    }
    this.slots.length = total;
    this.slotGeneration.length = total;
  }

  private place(slot: number, seed: ReviewSeed): void {
    if (slot >= this.slots.length) return;
    const old = this.slots[slot];
    if (old && old.id !== seed.id && this.seedSlot.get(old.id) === slot) this.seedSlot.delete(old.id);
    const before = this.seedSlot.get(seed.id);
    if (before !== undefined && before !== slot) this.slots[before] = undefined;
    this.slots[slot] = seed;
    this.slotGeneration[slot] = this.generation;
    this.seedSlot.set(seed.id, slot);
  }

  // ---------------------------------------------------------------- pages

  private requestPage(offset: number): void {
    if (this.inflight.has(offset)) return;
    const requestId = this.nextRequestId++;
    this.inflight.set(offset, requestId);
    this.host.post({ type: 'requestPage', requestId, offset, limit: PAGE_SIZE, filter: this.filter });
  }

  private requestMissing(firstSlot: number, lastSlot: number): void {
    const from = Math.max(0, firstSlot - PREFETCH_SEEDS);
    const to = Math.min(this.slots.length - 1, lastSlot + PREFETCH_SEEDS);
    for (let page = Math.floor(from / PAGE_SIZE) * PAGE_SIZE; page <= to; page += PAGE_SIZE) {
      const end = Math.min(to, page + PAGE_SIZE - 1);
      for (let slot = Math.max(from, page); slot <= end; slot++) {
        if (this.slots[slot] === undefined || this.slotGeneration[slot] !== this.generation) {
          this.requestPage(page);
          break;
        }
      }
    }
  }

  // ---------------------------------------------------------------- filters

  private onFilter(patch: Partial<ReviewFilter>): void {
    const next = ReviewFilter.parse({ ...this.filter, ...patch });
    // Off is no key at all: the filter an older panel sends.
    if (next.judgesWrong === undefined) delete next.judgesWrong;
    if (filterKey(next) === filterKey(this.filter) && next.text === this.filter.text) return;
    this.filter = next;
    const key = filterKey(next);
    this.saveSoon();
    if (key === this.requestedKey) return;
    this.requestedKey = key;
    this.inflight.clear();
    this.requestPage(0);
    this.renderChrome();
  }

  private onSearchInput(text: string): void {
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => this.onFilter({ text }), SEARCH_DELAY_MS);
  }

  // ---------------------------------------------------------------- the list

  private schedule(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.frame();
    });
  }

  private buildRows(): void {
    const loaded = this.slots.filter((seed): seed is ReviewSeed => seed !== undefined);
    const candidates = loaded.reduce((sum, seed) => sum + seed.candidates.length, 0);
    const perSeed =
      loaded.length > 0
        ? candidates / loaded.length
        : this.run && this.run.funnel.seeds > 0
          ? this.run.funnel.candidates / this.run.funnel.seeds
          : 4;
    const placeholder = Math.round(ESTIMATE.seed + perSeed * ESTIMATE.candidate);
    const rows: Row[] = [];
    for (let slot = 0; slot < this.slots.length; slot++) {
      const seed = this.slots[slot];
      if (!seed) {
        rows.push({ kind: 'placeholder', key: `p:${slot}`, hkey: `p:${placeholder}`, estimate: placeholder, slot });
        continue;
      }
      rows.push({ kind: 'seed', key: `s:${seed.id}`, hkey: `s:${seed.id}`, estimate: ESTIMATE.seed, slot, seed });
      for (const candidate of seed.candidates) {
        const open = this.expanded.has(candidate.id);
        rows.push({
          kind: 'candidate',
          key: `c:${candidate.id}`,
          hkey: `c:${candidate.id}:${open ? 1 : 0}`,
          estimate: open ? ESTIMATE.expanded : ESTIMATE.candidate,
          slot,
          seed,
          candidate,
        });
      }
    }
    this.layout.setRows(rows);
    this.rowsDirty = false;
  }

  private frame(): void {
    if (this.rowsDirty) this.buildRows();
    const layout = this.layout;
    const rows = layout.rows;
    this.spacerEl.style.height = `${layout.totalHeight}px`;

    // Keep the row at the top where it was, whatever changed above it.
    if (this.anchor) {
      let index = layout.indexOfKey(this.anchor.key);
      if (index < 0) index = layout.indexOfSlot(this.anchor.slot);
      if (index >= 0) {
        const desired = layout.offsetOf(index) + this.anchor.delta;
        if (Math.abs(this.listEl.scrollTop - desired) > 1) this.scrollTo(desired);
      }
    }

    const top = this.listEl.scrollTop;
    const height = this.listEl.clientHeight || window.innerHeight;
    const first = Math.max(0, layout.indexAt(top - OVERSCAN));
    const last = layout.indexAt(top + height + OVERSCAN);
    const visible = last < 0 ? [] : rows.slice(first, last + 1);
    this.windowEl.style.transform = `translateY(${layout.offsetOf(first)}px)`;

    const ctx = this.rowContext();
    startRenderBudget(RENDER_BUDGET_MS);
    render(html`${repeat(visible, (row) => row.key, (row) => rowTemplate(row, ctx))}`, this.windowEl);
    if (endRenderBudget()) this.schedule();

    for (const el of this.observed) {
      if (!el.isConnected) {
        this.resizeObserver.unobserve(el);
        this.observed.delete(el);
      }
    }
    for (const el of this.windowEl.children) {
      if (!this.observed.has(el)) {
        this.observed.add(el);
        this.resizeObserver.observe(el);
      }
    }

    if (visible.length > 0) this.requestMissing(visible[0]!.slot, visible[visible.length - 1]!.slot);
    this.captureAnchor();

    const busy = this.appliedKey !== this.requestedKey || this.total === undefined;
    this.listEl.setAttribute('aria-busy', busy ? 'true' : 'false');
    if (this.appliedKey !== undefined) this.listEl.dataset.filterKey = this.appliedKey;

    if (this.focusNoteOf) {
      const field = this.windowEl.querySelector<HTMLElement & { updateComplete?: Promise<unknown> }>(
        `[data-note="${CSS.escape(this.focusNoteOf)}"]`,
      );
      if (field) {
        this.focusNoteOf = undefined;
        // A field just created has no input inside it to take the focus until it has rendered.
        void Promise.resolve(field.updateComplete).then(() => field.focus());
      }
    }
  }

  private captureAnchor(): void {
    const index = this.layout.indexAt(this.listEl.scrollTop);
    const row = this.layout.rows[index];
    if (!row) return;
    const delta = this.listEl.scrollTop - this.layout.offsetOf(index);
    const changed = this.anchor?.key !== row.key || Math.abs((this.anchor?.delta ?? 0) - delta) > 1;
    this.anchor = { key: row.key, slot: row.slot, delta };
    if (changed) this.saveSoon();
  }

  private scrollTo(top: number): void {
    this.listEl.scrollTop = top;
    this.programmaticScroll = this.listEl.scrollTop;
  }

  private onScroll(): void {
    // The event of a scroll the app made comes a frame later, when row heights may have been measured since:
    // taking the anchor from it would read an old position against new heights.
    const programmatic = this.programmaticScroll;
    this.programmaticScroll = undefined;
    if (programmatic === undefined || Math.abs(this.listEl.scrollTop - programmatic) > 1) this.captureAnchor();
    this.schedule();
  }

  private onResize(entries: ResizeObserverEntry[]): void {
    let changed = false;
    for (const entry of entries) {
      if (entry.target === this.listEl) {
        changed = true;
        continue;
      }
      const hkey = (entry.target as HTMLElement).dataset.hkey;
      if (!hkey || hkey.startsWith('p:')) continue;
      const size = entry.borderBoxSize?.[0]?.blockSize ?? entry.target.getBoundingClientRect().height;
      if (this.layout.measure(hkey, size)) changed = true;
    }
    if (changed) this.schedule();
  }

  private rowContext(): RowContext {
    const pending = new Set([...this.pendingOverrides.values()].map((p) => p.candidateId));
    return {
      selected: this.selected,
      expanded: this.expanded,
      openVotes: this.openVotes,
      openThinking: this.openThinking,
      pending,
      canOverride: this.run?.canOverride ?? true,
      tests: this.tests,
      noteOf: (id) => this.notes.get(id) ?? this.findCandidate(id)?.override?.note ?? '',
      onToggleVote: (key, open) => this.toggleIn(this.openVotes, key, open),
      onToggleThinking: (id, open) => this.toggleIn(this.openThinking, id, open),
      onNoteInput: (id, value) => {
        this.notes.set(id, value);
        this.saveSoon();
      },
    };
  }

  private toggleIn(set: Set<string>, key: string, open: boolean): void {
    if (set.has(key) === open) return;
    if (open) set.add(key);
    else set.delete(key);
    this.saveSoon();
    this.schedule();
  }

  // ---------------------------------------------------------------- chrome

  private chromeContext(): ChromeContext {
    return {
      run: this.run,
      filter: this.filter,
      total: this.appliedKey === undefined ? undefined : this.total,
      totalCandidates: this.appliedKey === undefined ? undefined : this.totalCandidates,
      busy: this.appliedKey !== this.requestedKey,
      summaryOpen: this.summaryOpen,
      status: this.status,
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
        if (this.summaryOpen === open) return;
        this.summaryOpen = open;
        this.saveSoon();
      },
    };
  }

  private renderChrome(): void {
    const ctx = this.chromeContext();
    render(toolbarTemplate(ctx), this.toolbarEl);
    render(summaryTemplate(ctx), this.summaryEl);
    render(trainingTemplate(this.training), this.trainingEl);
    render(statusTemplate(ctx), this.statusEl);
    render(helpTemplate(this.run?.canOverride ?? true, this.run?.domains.some((d) => d.domain === 'coding') ?? false), this.helpEl);
  }

  private setStatus(text: string, error: boolean): void {
    this.statusGeneration++;
    this.status = { text, error };
    this.renderChrome();
  }

  // ---------------------------------------------------------------- selection and keys

  private onListClick(e: MouseEvent): void {
    const target = e.target as Element;
    const link = target.closest<HTMLElement>('[data-href]');
    if (link) {
      e.preventDefault();
      this.openLink(link.dataset.href ?? '');
      return;
    }
    if (target.closest('a')) {
      e.preventDefault();
      return;
    }
    const row = target.closest<HTMLElement>('[data-candidate]');
    const candidateId = row?.dataset.candidate;
    if (!candidateId) return;
    const action = target.closest<HTMLElement>('[data-act]')?.dataset.act;
    if (action === 'accept' || action === 'reject' || action === 'clear') {
      this.select(candidateId, false);
      this.act(action, candidateId);
      this.listEl.focus({ preventScroll: true });
      return;
    }
    if (action === 'tests') {
      this.select(candidateId, false);
      this.runTests(candidateId);
      this.listEl.focus({ preventScroll: true });
      return;
    }
    if (target.closest('[data-toggle="expand"]') || target.closest('.stage-badge')) {
      this.select(candidateId, false);
      this.toggleExpanded(candidateId, target.closest('.stage-badge') ? true : undefined);
      this.listEl.focus({ preventScroll: true });
      return;
    }
    if (target.closest('summary, details, vscode-textfield, input, textarea, .detail')) {
      this.select(candidateId, false);
      return;
    }
    this.select(candidateId, false);
    this.listEl.focus({ preventScroll: true });
  }

  private openLink(href: string): void {
    try {
      this.host.post({ type: 'openLink', href });
    } catch {
      this.setStatus('That link cannot be opened from here.', true);
    }
  }

  private onKeyDown(e: KeyboardEvent): void {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const path = e.composedPath().filter((node): node is HTMLElement => node instanceof HTMLElement);
    if (path.some(isEditable)) {
      if (e.key === 'Escape') {
        (document.activeElement as HTMLElement | null)?.blur();
        this.listEl.focus({ preventScroll: true });
        e.preventDefault();
      }
      return;
    }
    const link = path.find((el) => el.dataset.href !== undefined);
    if (link && e.key === 'Enter') {
      e.preventDefault();
      this.openLink(link.dataset.href ?? '');
      return;
    }
    // Keys on controls keep their own meaning (a button's Enter, a select's arrows, a summary's toggle).
    const onControl = path.some((el) => CONTROLS.has(el.tagName));
    if (onControl && (e.key === 'Enter' || e.key === ' ' || e.key.startsWith('Arrow'))) return;
    let handled = true;
    switch (e.key) {
      case 'j':
      case 'ArrowDown':
        this.move(1);
        break;
      case 'k':
      case 'ArrowUp':
        this.move(-1);
        break;
      case 'a':
        this.act('accept');
        break;
      case 'r':
        this.act('reject');
        break;
      case 'c':
        this.act('clear');
        break;
      case 'u':
        this.undo();
        break;
      case 't':
        this.runTests();
        break;
      case 'e':
        if (this.selected) this.toggleExpanded(this.selected);
        break;
      case 'Enter':
        if (this.selected) this.toggleExpanded(this.selected);
        break;
      case 'n':
        if (this.selected && (this.run?.canOverride ?? true)) {
          this.toggleExpanded(this.selected, true);
          this.focusNoteOf = this.selected;
          this.schedule();
        }
        break;
      case '/':
        (this.toolbarEl.querySelector('#search') as HTMLElement | null)?.focus();
        break;
      default:
        handled = false;
    }
    if (handled) e.preventDefault();
  }

  private candidateRows(): number[] {
    const out: number[] = [];
    this.layout.rows.forEach((row, index) => {
      if (row.kind === 'candidate') out.push(index);
    });
    return out;
  }

  private move(step: 1 | -1): void {
    if (this.rowsDirty) this.buildRows();
    const rows = this.layout.rows;
    const candidates = this.candidateRows();
    if (candidates.length === 0) return;
    const current = this.selected === undefined ? -1 : this.layout.indexOfKey(`c:${this.selected}`);
    let next: number | undefined;
    if (current < 0) {
      // Nothing selected (or it left the list): start at the first candidate on screen, once its page is here.
      const top = Math.max(0, this.layout.indexAt(this.listEl.scrollTop));
      const bottom = this.layout.indexAt(this.listEl.scrollTop + this.listEl.clientHeight);
      next = candidates.find((index) => index >= top && index <= bottom);
      if (next === undefined) return;
    } else {
      const at = candidates.indexOf(current);
      next = candidates[at + step];
      if (next === undefined) {
        // At the end of what is loaded: the next seed's page is on its way.
        const slot = rows[current]!.slot + step;
        if (slot >= 0 && slot < this.slots.length && !this.slots[slot]) this.requestPage(Math.floor(slot / PAGE_SIZE) * PAGE_SIZE);
        return;
      }
    }
    const row = rows[next!];
    if (row?.kind !== 'candidate') return;
    this.select(row.candidate.id, true);
  }

  private select(candidateId: string, reveal: boolean): void {
    if (this.selected !== candidateId) {
      this.selected = candidateId;
      this.saveSoon();
      this.schedule();
    }
    if (reveal) this.reveal(candidateId);
  }

  private reveal(candidateId: string): void {
    if (this.rowsDirty) this.buildRows();
    const index = this.layout.indexOfKey(`c:${candidateId}`);
    if (index < 0) return;
    const top = this.layout.offsetOf(index);
    const height = this.layout.heightOf(index);
    const viewTop = this.listEl.scrollTop;
    const viewHeight = this.listEl.clientHeight;
    // The seed's header stays in view above its first candidate.
    const header = index > 0 && this.layout.rows[index - 1]?.kind === 'seed' ? this.layout.heightOf(index - 1) : 0;
    let next = viewTop;
    if (top - header < viewTop) next = top - header;
    else if (top + Math.min(height, viewHeight) > viewTop + viewHeight) next = top + Math.min(height, viewHeight) - viewHeight;
    if (next !== viewTop) {
      this.scrollTo(Math.max(0, next));
      this.captureAnchor();
    }
    this.schedule();
  }

  private toggleExpanded(candidateId: string, open?: boolean): void {
    const next = open ?? !this.expanded.has(candidateId);
    if (next === this.expanded.has(candidateId)) return;
    if (next) this.expanded.add(candidateId);
    else this.expanded.delete(candidateId);
    this.rowsDirty = true;
    this.saveSoon();
    this.schedule();
  }

  // ---------------------------------------------------------------- overrides

  private findSeedOf(candidateId: string): ReviewSeed | undefined {
    const hash = candidateId.lastIndexOf('#');
    const slot = hash > 0 ? this.seedSlot.get(candidateId.slice(0, hash)) : undefined;
    return slot === undefined ? undefined : this.slots[slot];
  }

  private findCandidate(candidateId: string): ReviewCandidate | undefined {
    return this.findSeedOf(candidateId)?.candidates.find((c) => c.id === candidateId);
  }

  // ---------------------------------------------------------------- tests

  private runTests(candidateId = this.selected): void {
    if (!candidateId) {
      this.setStatus('Select a candidate first (j / k).', false);
      return;
    }
    const seed = this.findSeedOf(candidateId);
    const candidate = seed?.candidates.find((c) => c.id === candidateId);
    if (!seed || !candidate) return;
    if (!canRunTests(seed, candidate)) {
      this.setStatus(`${candidateId} has no tests to run: only valid coding candidates of seeds with tests have.`, false);
      return;
    }
    // A second click while they run would only wait for the same run.
    if (this.tests.get(candidateId)?.state === 'running') {
      this.setStatus(`The tests of ${candidateId} are running.`, false);
      return;
    }
    const requestId = this.nextRequestId++;
    this.pendingTests.set(requestId, candidateId);
    this.tests.set(candidateId, { state: 'running' });
    this.host.post({ type: 'runTests', requestId, candidateId });
    this.setStatus(`Running the tests of ${candidateId}…`, false);
    this.rowsDirty = true;
    this.schedule();
  }

  private patchCandidate(candidateId: string, patch: (c: ReviewCandidate) => Partial<ReviewCandidate>): void {
    const hash = candidateId.lastIndexOf('#');
    const slot = hash > 0 ? this.seedSlot.get(candidateId.slice(0, hash)) : undefined;
    const seed = slot === undefined ? undefined : this.slots[slot];
    if (!seed || slot === undefined) return;
    this.slots[slot] = {
      ...seed,
      candidates: seed.candidates.map((c) => {
        if (c.id !== candidateId) return c;
        const next: ReviewCandidate = { ...c, ...patch(c) };
        if (next.override === undefined) delete next.override;
        return next;
      }),
    };
    this.rowsDirty = true;
  }

  private act(action: OverrideAction, candidateId = this.selected): void {
    if (!candidateId) {
      this.setStatus('Select a candidate first (j / k).', false);
      return;
    }
    if (!(this.run?.canOverride ?? true)) {
      this.setStatus('Decisions cannot be recorded for this run.', true);
      return;
    }
    const candidate = this.findCandidate(candidateId);
    if (!candidate) return;
    const draft = this.notes.get(candidateId)?.trim();
    const note = action === 'clear' ? undefined : draft || candidate.override?.note;
    const current = candidate.override;
    if (action === 'clear' && !current) {
      this.setStatus(`${candidateId} has no decision to clear.`, false);
      return;
    }
    if (current && current.action === action && note === current.note) {
      this.setStatus(`${candidateId} is already ${action === 'accept' ? 'accepted' : 'rejected'} by hand.`, false);
      return;
    }
    this.undoStack.push({
      candidateId,
      previous: current ? { action: current.action, ...(current.note !== undefined ? { note: current.note } : {}) } : undefined,
    });
    if (this.undoStack.length > 200) this.undoStack.shift();
    this.sendOverride(candidateId, action, note);
  }

  private undo(): void {
    const entry = this.undoStack.pop();
    if (!entry) {
      this.setStatus('Nothing to undo.', false);
      return;
    }
    this.select(entry.candidateId, true);
    this.sendOverride(entry.candidateId, entry.previous?.action ?? 'clear', entry.previous?.note);
  }

  private sendOverride(candidateId: string, action: OverrideAction, note: string | undefined): void {
    const candidate = this.findCandidate(candidateId);
    const requestId = this.nextRequestId++;
    this.pendingOverrides.set(requestId, {
      candidateId,
      action,
      statusAt: this.statusGeneration,
      before: { accepted: candidate?.accepted ?? false, ...(candidate?.override ? { override: candidate.override } : {}) },
    });
    // Shown at once; the host's answer confirms it or puts it back.
    this.patchCandidate(candidateId, (c) => {
      const override: ReviewOverride | undefined =
        action === 'clear' ? undefined : { action, at: new Date().toISOString(), ...(note ? { note } : {}) };
      return { override, accepted: override ? override.action === 'accept' : c.acceptedByMethod };
    });
    this.notes.delete(candidateId);
    this.host.post({ type: 'override', requestId, candidateId, action, ...(note ? { note } : {}) });
    this.saveSoon();
    this.schedule();
  }

  // ---------------------------------------------------------------- UI state

  private saveSoon(): void {
    if (this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.host.saveState(this.uiState());
    }, 100);
  }

  private uiState(): UiState {
    const anchor = this.anchor && this.anchor.key !== '' ? this.anchor : undefined;
    return {
      version: 1,
      filter: this.filter,
      ...(this.selected !== undefined ? { selected: this.selected } : {}),
      expanded: recent(this.expanded),
      openVotes: recent(this.openVotes),
      openThinking: recent(this.openThinking),
      summaryOpen: this.summaryOpen,
      ...(anchor ? { anchor } : {}),
      notes: Object.fromEntries(recent([...this.notes.keys()]).map((id) => [id, this.notes.get(id) ?? ''])),
    };
  }
}

const EDITABLE = new Set(['INPUT', 'TEXTAREA', 'SELECT', 'VSCODE-TEXTFIELD', 'VSCODE-TEXTAREA']);
const CONTROLS = new Set(['BUTTON', 'SUMMARY', 'A', 'VSCODE-BUTTON', 'VSCODE-SINGLE-SELECT', 'VSCODE-CHECKBOX', 'VSCODE-OPTION']);

function isEditable(el: HTMLElement): boolean {
  return el.isContentEditable || EDITABLE.has(el.tagName);
}
