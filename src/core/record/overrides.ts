// A reviewer's decision on a candidate, as a run event. Decisions are appended, never edited: the latest per
// candidate wins and `clear` removes it, so recording the same decision twice changes nothing.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SvdError } from '../base/errors';
import type { NewRunEvent } from './events';
import { OVERRIDE_ACTIONS, type OverrideAction } from '../base/types';
import { seedIdOfCandidate } from './runview';

export type NewOverrideEvent = Extract<NewRunEvent, { type: 'override' }>;

const Action = z.enum(OVERRIDE_ACTIONS);
const Note = z.string().max(10_000).optional();

/**
 * @param candidateIds the run's candidates: a set, or a membership test for stores that do not hold them in memory.
 * @throws SvdError('not_found') when the run has no such candidate; SvdError('bad_config') for a bad action or note.
 */
export function makeOverride(
  candidateIds: ReadonlySet<string> | ((id: string) => boolean),
  candidateId: string,
  action: OverrideAction,
  note?: string,
): NewOverrideEvent {
  const parsedAction = Action.safeParse(action);
  if (!parsedAction.success) {
    const named = `${OVERRIDE_ACTIONS.slice(0, -1).join(', ')} or ${OVERRIDE_ACTIONS.at(-1)}`;
    throw new SvdError('bad_config', `override action must be ${named}, not "${String(action)}"`);
  }
  const parsedNote = Note.safeParse(note);
  if (!parsedNote.success) throw new SvdError('bad_config', 'override note must be text of at most 10000 characters');

  const exists = typeof candidateIds === 'function' ? candidateIds(candidateId) : candidateIds.has(candidateId);
  if (!exists) throw new SvdError('not_found', notFoundMessage(candidateIds, candidateId));

  const now = new Date();
  const trimmed = parsedNote.data?.trim();
  return {
    type: 'override',
    id: `override:${candidateId}:${now.getTime()}:${randomBytes(4).toString('hex')}`,
    at: now.toISOString(),
    candidateId,
    action: parsedAction.data,
    ...(trimmed ? { note: trimmed } : {}),
  };
}

function notFoundMessage(candidateIds: ReadonlySet<string> | ((id: string) => boolean), candidateId: string): string {
  const head = `candidate "${candidateId}" is not in this run.`;
  const shape = 'Candidate ids are <seedId>#<index> (index from 0)';
  const seedId = seedIdOfCandidate(candidateId);
  if (typeof candidateIds !== 'function' && seedId !== undefined) {
    const siblings = [...candidateIds].filter((id) => seedIdOfCandidate(id) === seedId).sort(byIndex);
    if (siblings.length > 0) return `${head} ${shape}; seed "${seedId}" has ${siblings.join(', ')}.`;
  }
  return `${head} ${shape}; the review panel lists a run's candidates, and so does its events.jsonl ("candidateId").`;
}

function byIndex(a: string, b: string): number {
  const index = (id: string) => Number(id.slice(id.lastIndexOf('#') + 1));
  return index(a) - index(b);
}
