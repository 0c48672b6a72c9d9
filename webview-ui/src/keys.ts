// What keys ask of the review, and clicks in the list (which ask for the same things): each event becomes a call on
// `ReviewCommands`. Typing in a field stays typing, and keys on controls keep their own meaning.
import type { OverrideAction, ReviewOverride } from '../../src/protocol/review';

export interface ReviewCommands {
  readonly selected: string | undefined;
  readonly canOverride: boolean;
  move(step: 1 | -1): void;
  select(candidateId: string): void;
  act(action: OverrideAction, candidateId?: string): void;
  undo(): void;
  runTests(candidateId?: string): void;
  /** Open or close a candidate's detail (undefined: the other way round). */
  toggleExpanded(candidateId: string, open?: boolean): void;
  editNote(candidateId: string): void;
  /** Enter in a candidate's note field: the note goes with its decision, or back to the list to choose one. */
  submitNote(candidateId: string): void;
  focusSearch(): void;
  focusList(): void;
  openLink(href: string): void;
}

const EDITABLE = new Set(['INPUT', 'TEXTAREA', 'SELECT', 'VSCODE-TEXTFIELD', 'VSCODE-TEXTAREA']);
const CONTROLS = new Set(['BUTTON', 'SUMMARY', 'A', 'VSCODE-BUTTON', 'VSCODE-SINGLE-SELECT', 'VSCODE-CHECKBOX', 'VSCODE-OPTION']);

function isEditable(el: HTMLElement): boolean {
  return el.isContentEditable || EDITABLE.has(el.tagName);
}

/** What Enter does in a candidate's note field: saves the note with its decision, or goes back to the list. */
export function noteEnterText(decision: ReviewOverride['action'] | undefined): string {
  return decision ? `saves the note with the ${decision}` : 'back to the list, the note kept: then a accept or r reject records it';
}

/** Where the keyboard is, as far as what keys do there differs: what the help line describes. */
export type KeyFocus = { kind: 'list' } | { kind: 'control' } | { kind: 'search' } | { kind: 'note'; candidateId: string };

/** The focus state of `active` (document.activeElement): nothing focused and the list read the same. */
export function keyFocusOf(active: Element | null): KeyFocus {
  if (!(active instanceof HTMLElement) || active === document.body) return { kind: 'list' };
  const note = active.closest<HTMLElement>('[data-note]');
  if (note?.dataset.note !== undefined) return { kind: 'note', candidateId: note.dataset.note };
  if (isEditable(active)) return { kind: 'search' };
  if (CONTROLS.has(active.tagName)) return { kind: 'control' };
  return { kind: 'list' };
}

export function onKeyDown(e: KeyboardEvent, review: ReviewCommands): void {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const path = e.composedPath().filter((node): node is HTMLElement => node instanceof HTMLElement);
  if (path.some(isEditable)) {
    const note = path.find((el) => el.dataset.note !== undefined)?.dataset.note;
    if (note !== undefined && e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      review.submitNote(note);
    } else if (e.key === 'Escape') {
      (document.activeElement as HTMLElement | null)?.blur();
      review.focusList();
      e.preventDefault();
    }
    return;
  }
  const link = path.find((el) => el.dataset.href !== undefined);
  if (link && e.key === 'Enter') {
    e.preventDefault();
    review.openLink(link.dataset.href ?? '');
    return;
  }
  // Keys on controls keep their own meaning (a button's Enter, a select's arrows, a summary's toggle).
  const onControl = path.some((el) => CONTROLS.has(el.tagName));
  if (onControl && (e.key === 'Enter' || e.key === ' ' || e.key.startsWith('Arrow'))) return;
  const selected = review.selected;
  let handled = true;
  switch (e.key) {
    case 'j':
    case 'ArrowDown':
      review.move(1);
      break;
    case 'k':
    case 'ArrowUp':
      review.move(-1);
      break;
    case 'a':
      review.act('accept');
      break;
    case 'r':
      review.act('reject');
      break;
    case 'c':
      review.act('clear');
      break;
    case 'u':
      review.undo();
      break;
    case 't':
      review.runTests();
      break;
    case 'e':
    case 'Enter':
      if (selected) review.toggleExpanded(selected);
      break;
    case 'n':
      if (selected && review.canOverride) review.editNote(selected);
      break;
    case '/':
      review.focusSearch();
      break;
    case 'Escape':
      // From a button or a select: back to the list, as from a field.
      if (onControl) review.focusList();
      else handled = false;
      break;
    default:
      handled = false;
  }
  if (handled) e.preventDefault();
}

/** A click in the list: a link, a candidate's buttons, its expander or stage badges, or the candidate itself. */
export function onListClick(e: MouseEvent, review: ReviewCommands): void {
  const target = e.target as Element;
  const link = target.closest<HTMLElement>('[data-href]');
  if (link) {
    e.preventDefault();
    review.openLink(link.dataset.href ?? '');
    return;
  }
  if (target.closest('a')) {
    e.preventDefault();
    return;
  }
  const candidateId = target.closest<HTMLElement>('[data-candidate]')?.dataset.candidate;
  if (!candidateId) return;
  review.select(candidateId);
  const action = target.closest<HTMLElement>('[data-act]')?.dataset.act;
  if (action === 'accept' || action === 'reject' || action === 'clear') review.act(action, candidateId);
  else if (action === 'tests') review.runTests(candidateId);
  else if (target.closest('[data-toggle="expand"]') || target.closest('.stage-badge')) {
    review.toggleExpanded(candidateId, target.closest('.stage-badge') ? true : undefined);
  } else if (target.closest('summary, details, vscode-textfield, input, textarea, .detail')) {
    // Inside the detail: the click belongs to the field or the toggle, the focus stays there.
    return;
  }
  review.focusList();
}

/** A middle click on a link would open it in a new window: links go through the host. */
export function onListAuxClick(e: MouseEvent): void {
  if ((e.target as Element).closest?.('[data-href]')) e.preventDefault();
}
