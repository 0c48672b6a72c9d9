// A reviewer's decisions in the panel: what a/r/c and u ask the host to record, the notes typed for them, the
// overrides on their way (shown at once, put back when the host refuses them or does not answer) and the undo stack.
// Pure state: no DOM, no lit, no host; the app posts what it is told to and reports the answers here.
import type { OverrideAction, OverrideResultMessage, ReviewCandidate, ReviewOverride } from '../../src/protocol/review';

/** The most decisions `u` can take back. */
export const UNDO_DEPTH = 200;

/** An override to post to the host. */
export interface OverrideRequest {
  candidateId: string;
  action: OverrideAction;
  note?: string;
}

/** What a key or a click asked for: an override to send (`undoes`: the decision it takes back), or a reason in words why nothing is sent. */
export type Decision =
  | { send: OverrideRequest; undoes?: OverrideAction; refused?: undefined }
  | { refused: { text: string; error: boolean }; send?: undefined; undoes?: undefined };

/** A candidate's decision as the run had it before an override was shown. */
export type Before = Pick<ReviewCandidate, 'override' | 'accepted'>;

interface PendingOverride {
  request: OverrideRequest;
  before: Before;
  /** The status line's generation when the request left: a later message on it is not overwritten by the answer. */
  statusAt: number;
  /** An undo: the decision it takes back. */
  undoes?: OverrideAction;
}

interface UndoEntry {
  candidateId: string;
  /** The decision sent, which an undo takes back. */
  done: OverrideAction;
  previous: { action: 'accept' | 'reject'; note?: string } | undefined;
}

const NOW: Record<OverrideAction, string> = { accept: 'accepted by hand', reject: 'rejected by hand', clear: 'no decision by hand' };

/** What the status line says once the host recorded an override: an undo names what it took back. */
export function recordedText(request: OverrideRequest, undoes?: OverrideAction): string {
  if (undoes) return `Undid ${undoes} of ${request.candidateId} (now ${NOW[request.action]})`;
  return `Recorded: ${request.action} ${request.candidateId}${request.note ? ' with its note' : ''}`;
}

/** The candidate as it shows while its override is on the way. */
export function withOverride(candidate: ReviewCandidate, action: OverrideAction, note: string | undefined, at: string): Partial<ReviewCandidate> {
  const override: ReviewOverride | undefined = action === 'clear' ? undefined : { action, at, ...(note ? { note } : {}) };
  return { override, accepted: override ? override.action === 'accept' : candidate.acceptedByMethod };
}

export class Decisions {
  private readonly undoStack: UndoEntry[] = [];
  private readonly pending = new Map<number, PendingOverride>();
  /** Notes typed and not yet sent, by candidate. */
  private readonly drafts: Map<string, string>;

  constructor(drafts: Record<string, string> = {}) {
    this.drafts = new Map(Object.entries(drafts));
  }

  /**
   * a, r or c on a candidate (undefined: not loaded). A note typed for it goes with the decision, else the note it
   * had; the same decision twice sends nothing. What is sent can be undone.
   */
  decide(action: OverrideAction, candidateId: string, candidate: ReviewCandidate | undefined, canOverride: boolean): Decision | undefined {
    if (!canOverride) return { refused: { text: 'Decisions cannot be recorded for this run.', error: true } };
    if (!candidate) return undefined;
    const draft = this.drafts.get(candidateId)?.trim();
    const note = action === 'clear' ? undefined : draft || candidate.override?.note;
    const current = candidate.override;
    if (action === 'clear' && !current) return { refused: { text: `${candidateId} has no decision to clear.`, error: false } };
    if (current && current.action === action && note === current.note) {
      return { refused: { text: `${candidateId} is already ${action === 'accept' ? 'accepted' : 'rejected'} by hand.`, error: false } };
    }
    this.undoStack.push({
      candidateId,
      done: action,
      previous: current ? { action: current.action, ...(current.note !== undefined ? { note: current.note } : {}) } : undefined,
    });
    if (this.undoStack.length > UNDO_DEPTH) this.undoStack.shift();
    return { send: { candidateId, action, ...(note ? { note } : {}) } };
  }

  /** u: the decision before the latest one sent, sent again. */
  undo(): Decision {
    const entry = this.undoStack.pop();
    if (!entry) return { refused: { text: 'Nothing to undo.', error: false } };
    const note = entry.previous?.note;
    return { send: { candidateId: entry.candidateId, action: entry.previous?.action ?? 'clear', ...(note ? { note } : {}) }, undoes: entry.done };
  }

  /** The override left as `requestId`; the candidate's draft note went with it. */
  sent(requestId: number, request: OverrideRequest, candidate: ReviewCandidate | undefined, statusAt: number, undoes?: OverrideAction): void {
    this.pending.set(requestId, {
      request,
      statusAt,
      ...(undoes ? { undoes } : {}),
      before: { accepted: candidate?.accepted ?? false, ...(candidate?.override ? { override: candidate.override } : {}) },
    });
    this.drafts.delete(request.candidateId);
  }

  /**
   * The host's answer. `rollback`: the candidate as it was, to show again (the host did not record it). `status`:
   * what to say, unless the status line moved on since the request left (a burst of keys ends on the last one's).
   */
  answered(
    message: OverrideResultMessage,
    statusGeneration: number,
  ): { rollback?: { candidateId: string; before: Before }; status?: { text: string; error: boolean } } {
    const pending = this.pending.get(message.requestId);
    this.pending.delete(message.requestId);
    if (message.ok) {
      if (!pending || pending.statusAt !== statusGeneration) return {};
      return { status: { text: recordedText(pending.request, pending.undoes), error: false } };
    }
    return {
      ...(pending ? { rollback: { candidateId: pending.request.candidateId, before: pending.before } } : {}),
      status: { text: message.error ?? `The override of ${message.candidateId} was not recorded.`, error: true },
    };
  }

  /** The host did not answer in time: the candidate shows what the run had, and the override can be sent again. */
  expired(requestId: number): { candidateId: string; before: Before; retry: OverrideRequest; undoes?: OverrideAction } | undefined {
    const pending = this.pending.get(requestId);
    if (!pending) return undefined;
    this.pending.delete(requestId);
    return { candidateId: pending.request.candidateId, before: pending.before, retry: pending.request, ...(pending.undoes ? { undoes: pending.undoes } : {}) };
  }

  /** Candidates with an override on its way. */
  pendingCandidates(): Set<string> {
    return new Set([...this.pending.values()].map((p) => p.request.candidateId));
  }

  noteOf(candidateId: string, candidate: ReviewCandidate | undefined): string {
    return this.drafts.get(candidateId) ?? candidate?.override?.note ?? '';
  }

  setDraft(candidateId: string, note: string): void {
    this.drafts.set(candidateId, note);
  }

  /** Notes typed and not sent, oldest first (what the UI state keeps across reloads). */
  get notes(): ReadonlyMap<string, string> {
    return this.drafts;
  }
}
