// The list on screen: rows for the loaded seeds (placeholders for the rest), only those in view rendered, heights
// measured as rows appear, and the row at the top held in place whatever changes above it. It owns the list's
// elements and its scrolling; what the rows show comes from its `ViewportSource`.
import { html, render } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { ReviewSeed } from '../../src/protocol/review';
import { ListLayout } from './layout';
import { rowTemplate, type Row, type RowContext } from './rows';
import { endRenderBudget, startRenderBudget } from './textRenderer';

/** Rows rendered beyond the viewport, in pixels, each way. */
const OVERSCAN = 500;
const ESTIMATE = { seed: 76, candidate: 168, expanded: 640 };
/** Milliseconds of markdown, math and highlighting per frame; the rest waits a frame as plain text. */
const RENDER_BUDGET_MS = 12;

/** The row at the top of the list and how far it is scrolled past; `slot` is the seed's place in the filtered list. */
export interface Anchor {
  key: string;
  slot: number;
  delta: number;
}

export interface ViewportSource {
  /** One slot per seed of the list, undefined until its page is here. */
  seeds(): readonly (ReviewSeed | undefined)[];
  expanded: ReadonlySet<string>;
  /** Candidates per seed in the whole run (for seeds not loaded yet), when known. */
  candidatesPerSeed(): number | undefined;
  rowContext(): RowContext;
  /** These slots are in view (with some around): their pages should be here. */
  onSlotsInView(first: number, last: number): void;
  /** The row at the top changed: worth remembering. */
  onAnchorMoved(): void;
  /** After each frame: the list's attributes, say. */
  afterFrame(): void;
}

export class Viewport {
  readonly element: HTMLElement;
  private readonly spacerEl: HTMLElement;
  private readonly windowEl: HTMLElement;
  private readonly layout = new ListLayout<Row>();
  private rowsDirty = true;
  private anchorValue: Anchor | undefined;
  /** The anchor the UI state came back with, used by the first page of the list. */
  private restoreAnchor: Anchor | undefined;
  private frameRequested = false;
  /** Where the list was scrolled to by the app, not the user: its scroll event must not move the anchor. */
  private programmaticScroll: number | undefined;
  private focusNoteOf: string | undefined;
  private readonly observed = new Set<Element>();
  private readonly resizeObserver: ResizeObserver;

  constructor(
    private readonly source: ViewportSource,
    restoreAnchor: Anchor | undefined,
  ) {
    this.restoreAnchor = restoreAnchor;
    this.element = part('div', 'list');
    this.element.id = 'list';
    this.element.tabIndex = 0;
    this.element.setAttribute('role', 'list');
    this.element.setAttribute('aria-label', 'Seeds and candidates');
    this.spacerEl = part('div', 'list-spacer');
    this.windowEl = part('div', 'list-window');
    this.spacerEl.append(this.windowEl);
    this.element.append(this.spacerEl);
    this.resizeObserver = new ResizeObserver((entries) => this.onResize(entries));
    this.resizeObserver.observe(this.element);
    this.element.addEventListener('scroll', () => this.onScroll(), { passive: true });
  }

  /** The slot the list was at when the panel was last open, to ask for its page first. */
  get restoreSlot(): number {
    return this.restoreAnchor?.slot ?? 0;
  }

  /** Where the list is, for the UI state; undefined before it showed anything. */
  get anchor(): Anchor | undefined {
    return this.anchorValue && this.anchorValue.key !== '' ? this.anchorValue : undefined;
  }

  /** The seeds changed (or how they show): rows are built again on the next frame. */
  invalidate(): void {
    this.rowsDirty = true;
    this.schedule();
  }

  schedule(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.frame();
    });
  }

  /** A new filter's first page: the list starts at its top (or where the panel was, on its first page). */
  restart(): void {
    this.anchorValue = this.restoreAnchor ?? { key: '', slot: 0, delta: 0 };
    this.restoreAnchor = undefined;
    this.scrollTo(0);
  }

  focus(): void {
    this.element.focus({ preventScroll: true });
  }

  /** Focuses the candidate's note field once it is rendered. */
  focusNote(candidateId: string): void {
    this.focusNoteOf = candidateId;
    this.schedule();
  }

  /**
   * The candidate `step` rows from the selected one (or the first in view when none is selected), or the slot whose
   * page is missing on the way there; undefined when there is nowhere to go.
   */
  neighbour(selected: string | undefined, step: 1 | -1): { candidateId: string } | { missingSlot: number } | undefined {
    if (this.rowsDirty) this.buildRows();
    const rows = this.layout.rows;
    const candidates: number[] = [];
    rows.forEach((row, index) => {
      if (row.kind === 'candidate') candidates.push(index);
    });
    if (candidates.length === 0) return undefined;
    const current = selected === undefined ? -1 : this.layout.indexOfKey(`c:${selected}`);
    let next: number | undefined;
    if (current < 0) {
      // Nothing selected (or it left the list): start at the first candidate on screen, once its page is here.
      const top = Math.max(0, this.layout.indexAt(this.element.scrollTop));
      const bottom = this.layout.indexAt(this.element.scrollTop + this.element.clientHeight);
      next = candidates.find((index) => index >= top && index <= bottom);
      if (next === undefined) return undefined;
    } else {
      next = candidates[candidates.indexOf(current) + step];
      if (next === undefined) {
        // At the end of what is loaded: the next seed's page is on its way.
        const slot = rows[current]!.slot + step;
        const seeds = this.source.seeds();
        return slot >= 0 && slot < seeds.length && !seeds[slot] ? { missingSlot: slot } : undefined;
      }
    }
    const row = rows[next];
    return row?.kind === 'candidate' ? { candidateId: row.candidate.id } : undefined;
  }

  /** Scrolls the candidate into view, with its seed's header above its first candidate. */
  reveal(candidateId: string): void {
    if (this.rowsDirty) this.buildRows();
    const index = this.layout.indexOfKey(`c:${candidateId}`);
    if (index < 0) return;
    const top = this.layout.offsetOf(index);
    const height = this.layout.heightOf(index);
    const viewTop = this.element.scrollTop;
    const viewHeight = this.element.clientHeight;
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

  private buildRows(): void {
    const slots = this.source.seeds();
    const loaded = slots.filter((seed): seed is ReviewSeed => seed !== undefined);
    const candidates = loaded.reduce((sum, seed) => sum + seed.candidates.length, 0);
    const perSeed = loaded.length > 0 ? candidates / loaded.length : (this.source.candidatesPerSeed() ?? 4);
    const placeholder = Math.round(ESTIMATE.seed + perSeed * ESTIMATE.candidate);
    const expanded = this.source.expanded;
    const rows: Row[] = [];
    for (let slot = 0; slot < slots.length; slot++) {
      const seed = slots[slot];
      if (!seed) {
        rows.push({ kind: 'placeholder', key: `p:${slot}`, hkey: `p:${placeholder}`, estimate: placeholder, slot });
        continue;
      }
      rows.push({ kind: 'seed', key: `s:${seed.id}`, hkey: `s:${seed.id}`, estimate: ESTIMATE.seed, slot, seed });
      for (const candidate of seed.candidates) {
        const open = expanded.has(candidate.id);
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
    const list = this.element;
    this.spacerEl.style.height = `${layout.totalHeight}px`;

    // Keep the row at the top where it was, whatever changed above it.
    if (this.anchorValue) {
      let index = layout.indexOfKey(this.anchorValue.key);
      if (index < 0) index = layout.indexOfSlot(this.anchorValue.slot);
      if (index >= 0) {
        const desired = layout.offsetOf(index) + this.anchorValue.delta;
        if (Math.abs(list.scrollTop - desired) > 1) this.scrollTo(desired);
      }
    }

    const top = list.scrollTop;
    const height = list.clientHeight || window.innerHeight;
    const first = Math.max(0, layout.indexAt(top - OVERSCAN));
    const last = layout.indexAt(top + height + OVERSCAN);
    const visible = last < 0 ? [] : rows.slice(first, last + 1);
    this.windowEl.style.transform = `translateY(${layout.offsetOf(first)}px)`;

    const ctx = this.source.rowContext();
    startRenderBudget(RENDER_BUDGET_MS);
    render(html`${repeat(visible, (row) => row.key, (row) => rowTemplate(row, ctx))}`, this.windowEl);
    if (endRenderBudget()) this.schedule();
    this.observeRows();
    this.markLongQuestions();

    if (visible.length > 0) this.source.onSlotsInView(visible[0]!.slot, visible[visible.length - 1]!.slot);
    this.captureAnchor();
    this.source.afterFrame();

    if (this.focusNoteOf) {
      const field = this.windowEl.querySelector<HTMLElement & { updateComplete?: Promise<unknown> }>(`[data-note="${CSS.escape(this.focusNoteOf)}"]`);
      if (field) {
        this.focusNoteOf = undefined;
        // A field just created has no input inside it to take the focus until it has rendered.
        void Promise.resolve(field.updateComplete).then(() => field.focus());
      }
    }
  }

  /** A question cut by its row's height gets a "more" (CSS shows it where this mark is). */
  private markLongQuestions(): void {
    for (const question of this.windowEl.querySelectorAll<HTMLElement>('.question.clamped')) {
      question.toggleAttribute('data-overflow', question.scrollHeight > question.clientHeight + 1);
    }
  }

  /** Rows are measured by the resize observer while they are in the DOM. */
  private observeRows(): void {
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
  }

  private captureAnchor(): void {
    const index = this.layout.indexAt(this.element.scrollTop);
    const row = this.layout.rows[index];
    if (!row) return;
    const delta = this.element.scrollTop - this.layout.offsetOf(index);
    const changed = this.anchorValue?.key !== row.key || Math.abs((this.anchorValue?.delta ?? 0) - delta) > 1;
    this.anchorValue = { key: row.key, slot: row.slot, delta };
    if (changed) this.source.onAnchorMoved();
  }

  private scrollTo(top: number): void {
    this.element.scrollTop = top;
    this.programmaticScroll = this.element.scrollTop;
  }

  private onScroll(): void {
    // The event of a scroll the app made comes a frame later, when row heights may have been measured since:
    // taking the anchor from it would read an old position against new heights.
    const programmatic = this.programmaticScroll;
    this.programmaticScroll = undefined;
    if (programmatic === undefined || Math.abs(this.element.scrollTop - programmatic) > 1) this.captureAnchor();
    this.schedule();
  }

  private onResize(entries: ResizeObserverEntry[]): void {
    let changed = false;
    for (const entry of entries) {
      if (entry.target === this.element) {
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
}

function part(tag: string, className: string): HTMLElement {
  const el = document.createElement(tag);
  el.className = className;
  return el;
}
