// Rounds: a run made with a model trained on an earlier run's accepted answers records that run in its lineage.json.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { SvdError } from '../base/errors';
import { issueText } from '../base/zodIssues';
import { writeFileAtomic } from '../record/atomicFile';
import { readJsonFileIfExists } from '../record/jsonFile';
import { TRAINERS, type TrainingRecord } from './record';

export const LINEAGE_FILE = 'lineage.json';

export const LineageSchema = z.object({
  version: z.literal(1),
  /** The run (in the same runs folder) whose accepted answers trained the model this run uses. */
  parentRun: z.string().min(1),
  /** The first run of a seed file is round 1. */
  round: z.number().int().min(2),
  model: z.string().min(1),
  baseUrl: z.string().optional(),
  trainer: z.enum(TRAINERS),
  jobId: z.string().optional(),
  outputDir: z.string().optional(),
  createdAt: z.string(),
});
export type Lineage = z.infer<typeof LineageSchema>;

export const lineageFile = (runDir: string): string => path.join(runDir, LINEAGE_FILE);

export function readLineage(runDir: string): Lineage | undefined {
  return readJsonFileIfExists(lineageFile(runDir), LineageSchema, 'lineage');
}

export function writeLineage(runDir: string, lineage: Omit<Lineage, 'version' | 'createdAt'>): Lineage {
  const parsed = LineageSchema.safeParse({ ...lineage, version: 1, createdAt: new Date().toISOString() });
  if (!parsed.success) throw new SvdError('internal', `invalid lineage for ${runDir}: ${issueText(parsed.error)}`);
  fs.mkdirSync(runDir, { recursive: true });
  writeFileAtomic(lineageFile(runDir), `${JSON.stringify(parsed.data, null, 2)}\n`);
  return parsed.data;
}

/** `seeds-1a2b3c4d` -> `seeds-1a2b3c4d-r2`; round 3 from `seeds-1a2b3c4d-r2` -> `seeds-1a2b3c4d-r3`; never a taken id. */
export function nextRoundRunId(parentRun: string, parentIsRound: boolean, round: number, taken: (id: string) => boolean): string {
  const root = parentIsRound ? parentRun.replace(/-r\d+(?:-\d+)?$/, '') : parentRun;
  const base = `${root}-r${round}`;
  if (!taken(base)) return base;
  for (let n = 2; ; n++) if (!taken(`${base}-${n}`)) return `${base}-${n}`;
}

/** Where a round's trained model is served: known for a fine-tuning API, the user's own server for a local output. */
export function trainedModelOf(record: TrainingRecord): { model: string; baseUrl?: string } | { outputDir: string } | undefined {
  if (record.status !== 'succeeded') return undefined;
  if (record.fineTunedModel) return { model: record.fineTunedModel, ...(record.baseUrl ? { baseUrl: record.baseUrl } : {}) };
  if (record.outputDir) return { outputDir: record.outputDir };
  return undefined;
}
