// What a run's seed screening decided before the first model call: the seeds that match an evaluation item
// (decontamination) and the seeds that repeat an earlier one (duplicates), and which of them the run left out.
// Kept in run.json, written once with the run, so a resume leaves out exactly the same seeds.
import { z } from 'zod';

export const ContaminationFlagSchema = z.object({
  seed: z.string(),
  against: z.string(),
  item: z.string(),
  kind: z.enum(['exact', 'ngram']),
  span: z.string(),
});

export const DuplicateSeedSchema = z.object({
  seed: z.string(),
  duplicateOf: z.string(),
  kind: z.enum(['exact', 'near']),
  similarity: z.number(),
});

export const ScreeningSchema = z.object({
  /** The evaluation files checked against: as named, resolved, their bytes' sha256 and how many items they hold. */
  against: z.array(z.object({ file: z.string(), path: z.string(), fingerprint: z.string(), items: z.number().int() })),
  flagged: z.array(ContaminationFlagSchema),
  dropContaminated: z.boolean(),
  /** The near-duplicate threshold, when duplicates were looked for. */
  duplicateThreshold: z.number().optional(),
  duplicates: z.array(DuplicateSeedSchema),
  dropDuplicates: z.boolean(),
  /** Seed ids the run leaves out, each once, in seed order. */
  dropped: z.array(z.string()),
});
export type Screening = z.infer<typeof ScreeningSchema>;

/** Per seed, why screening marked it: for the review and the Runs view. */
export function screeningMarks(screening: Screening | undefined): Map<string, string> {
  const marks = new Map<string, string>();
  if (!screening) return marks;
  const dropped = new Set(screening.dropped);
  for (const flag of screening.flagged) {
    marks.set(flag.seed, `${dropped.has(flag.seed) ? 'dropped' : 'flagged'}: matches ${flag.against} item ${flag.item} (${flag.kind})`);
  }
  for (const dup of screening.duplicates) {
    if (!marks.has(dup.seed)) marks.set(dup.seed, `${dropped.has(dup.seed) ? 'dropped' : 'flagged'}: duplicate of ${dup.duplicateOf}`);
  }
  return marks;
}

/** The screening as lines for `svd status`; none when the run had none. */
export function formatScreening(screening: Screening | undefined): string[] {
  if (!screening) return [];
  const lines: string[] = [];
  if (screening.against.length > 0) {
    const files = screening.against.map((a) => `${a.file} (${a.items} items)`).join(', ');
    const action = screening.dropContaminated ? 'dropped' : 'kept, flagged';
    lines.push(`decontamination: ${screening.flagged.length} seed(s) match an evaluation item, ${action}; against ${files}`);
  }
  if (screening.duplicateThreshold !== undefined) {
    const action = screening.dropDuplicates ? 'dropped' : 'kept, flagged';
    lines.push(`duplicates: ${screening.duplicates.length} seed(s) repeat an earlier one (similarity >= ${screening.duplicateThreshold}), ${action}`);
  }
  if (screening.dropped.length > 0) lines.push(`left out of the run: ${screening.dropped.length} seed(s)`);
  return lines;
}

export interface ScreeningCounts {
  flagged: number;
  duplicates: number;
  dropped: number;
}

/** The counts for `svd status --json` and the run's start event. */
export function screeningJson(screening: Screening | undefined): ScreeningCounts | undefined {
  return screening ? { flagged: screening.flagged.length, duplicates: screening.duplicates.length, dropped: screening.dropped.length } : undefined;
}
