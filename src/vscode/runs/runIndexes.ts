// One review index per run folder in this window, shared by the Runs view and the review panel, so that a run is
// read once and followed from where it stopped. Saved beside the run now and then and when the last user lets go.
// No `vscode` import.
import { ReviewIndex } from '../../core/record/reviewIndex';
import { reviewRowSummarizer, type SeedRow } from '../../protocol/reviewRows';

/**
 * A first open of a large run reads its record for this long before the panel is answered, and then in slices of
 * BUILD_SLICE_MS between the host's other work: the first page comes from the seeds indexed so far.
 */
export const FIRST_BUILD_MS = 250;
export const BUILD_SLICE_MS = 100;

/** A changed index is written back at most this often while in use (a large run's index is tens of megabytes). */
const SAVE_EVERY_MS = 60_000;

interface Shared {
  index: ReviewIndex<SeedRow>;
  users: number;
  savedAt: number;
}

const shared = new Map<string, Shared>();

/** The run's index, opened (loaded from disk where it matches) on first use. Pair with `releaseRunIndex`. */
export function acquireRunIndex(dir: string): ReviewIndex<SeedRow> {
  let entry = shared.get(dir);
  if (!entry) {
    entry = { index: ReviewIndex.open(dir, reviewRowSummarizer), users: 0, savedAt: 0 };
    shared.set(dir, entry);
  }
  entry.users += 1;
  return entry.index;
}

/** Saves the index when it changed and the last save is old enough (it saves nothing while it is still building). */
export function saveRunIndexSoon(dir: string): void {
  const entry = shared.get(dir);
  if (!entry || Date.now() - entry.savedAt < SAVE_EVERY_MS) return;
  if (entry.index.save()) entry.savedAt = Date.now();
}

export function releaseRunIndex(dir: string): void {
  const entry = shared.get(dir);
  if (!entry) return;
  entry.users -= 1;
  if (entry.users > 0) return;
  shared.delete(dir);
  entry.index.save();
  entry.index.close();
}
