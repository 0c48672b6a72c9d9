// What the panel remembers across reloads: navigation and UI state only (the run's data lives with the host).
// Stored through the webview API's getState/setState; whatever comes back is validated and trimmed, never trusted.
import * as z from 'zod';
import { DEFAULT_FILTER, MAX_NOTE_LENGTH, ReviewFilter } from '../../src/protocol/review';

const MAX_IDS = 300;
const ids = z.array(z.string().max(2_000)).catch([]);

export const UiState = z.object({
  version: z.literal(1),
  filter: ReviewFilter.catch(DEFAULT_FILTER),
  selected: z.string().max(2_000).optional().catch(undefined),
  expanded: ids,
  openVotes: ids,
  openThinking: ids,
  /** Seeds whose long question is shown whole. Older states have none. */
  openQuestions: ids,
  summaryOpen: z.boolean().catch(true),
  /** The row at the top of the list and how far it is scrolled past; `slot` is the seed's place in the filtered list. */
  anchor: z
    .object({ key: z.string().max(2_000), slot: z.number().int().nonnegative(), delta: z.number().finite() })
    .optional()
    .catch(undefined),
  /** Notes typed and not yet sent, by candidate. */
  notes: z.record(z.string().max(2_000), z.string().max(MAX_NOTE_LENGTH)).catch({}),
});
export type UiState = z.infer<typeof UiState>;

export function defaultUiState(): UiState {
  return { version: 1, filter: DEFAULT_FILTER, expanded: [], openVotes: [], openThinking: [], openQuestions: [], summaryOpen: true, notes: {} };
}

export function readUiState(stored: unknown): UiState {
  const parsed = UiState.safeParse(stored);
  return parsed.success ? parsed.data : defaultUiState();
}

/** Keeps the newest entries of a set: the stored state stays small however long a review goes on. */
export function recent(values: Iterable<string>): string[] {
  const list = [...values];
  return list.slice(Math.max(0, list.length - MAX_IDS));
}

/** The rest of what is stored, kept by the parts that own it. */
export interface StoredElsewhere {
  filter: UiState['filter'];
  anchor: UiState['anchor'];
  /** Notes typed and not sent, oldest first. */
  notes: ReadonlyMap<string, string>;
}

/** The panel's navigation state as it changes: what is selected and open. Each change is saved a moment later. */
export class ViewState {
  selected: string | undefined;
  readonly expanded: Set<string>;
  readonly openVotes: Set<string>;
  readonly openThinking: Set<string>;
  readonly openQuestions: Set<string>;
  summaryOpen: boolean;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    stored: UiState,
    private readonly save: (state: UiState) => void,
    private readonly elsewhere: () => StoredElsewhere,
  ) {
    this.selected = stored.selected;
    this.expanded = new Set(stored.expanded);
    this.openVotes = new Set(stored.openVotes);
    this.openThinking = new Set(stored.openThinking);
    this.openQuestions = new Set(stored.openQuestions);
    this.summaryOpen = stored.summaryOpen;
  }

  /** Adds or removes `key`. @returns whether that changed anything (and a save is on its way). */
  toggle(set: Set<string>, key: string, open: boolean): boolean {
    if (set.has(key) === open) return false;
    if (open) set.add(key);
    else set.delete(key);
    this.saveSoon();
    return true;
  }

  /** One save for a burst of changes. */
  saveSoon(): void {
    if (this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save(this.snapshot());
    }, 100);
  }

  /** At once, for a deliberate choice the next load must find (a reload can come before a burst's save). */
  saveNow(): void {
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.save(this.snapshot());
  }

  /** What to store now: the newest of each set, and the anchor once the list showed something. */
  snapshot(): UiState {
    const { filter, anchor, notes } = this.elsewhere();
    const kept = recent(notes.keys());
    return {
      version: 1,
      filter,
      ...(this.selected !== undefined ? { selected: this.selected } : {}),
      expanded: recent(this.expanded),
      openVotes: recent(this.openVotes),
      openThinking: recent(this.openThinking),
      openQuestions: recent(this.openQuestions),
      summaryOpen: this.summaryOpen,
      ...(anchor ? { anchor } : {}),
      notes: Object.fromEntries(kept.map((id) => [id, notes.get(id) ?? ''])),
    };
  }
}
