// What makes a run the run it is: its id, derived from the seed file and the method's parameters; the part of the
// seed file it covers; and, on resume, the check that the run found is the one asked for.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { SvdError, advisedError } from '../base/errors';
import type { Seed } from '../base/types';
import { listRuns, runIdStem, type RunManifest } from '../record/store';
import { readSeeds, type SeedReadOptions } from './seeds';

/** The first `limit` seeds of the file, counting only those that carry gold when `labeledOnly`. */
export interface SeedSubset {
  limit?: number;
  labeledOnly?: boolean;
}

/** A stable, readable run id: the seed file's name and a short hash of what the run would produce. */
export function deriveRunId(seedsFile: string, seedFingerprint: string, methodHash: string): string {
  const stem = runIdStem(seedsFile);
  const hash = createHash('sha256').update(`${seedFingerprint}:${methodHash}`).digest('hex').slice(0, 8);
  return `${stem}-${hash}`;
}

/** undefined when the subset is the whole file, so that such a run is the same as one without a subset. */
export function normalSubset(subset: SeedSubset | undefined): SeedSubset | undefined {
  if (subset?.limit !== undefined && !(Number.isInteger(subset.limit) && subset.limit >= 1)) {
    throw new SvdError('bad_config', `the seed limit must be a whole number from 1, got ${subset.limit}`);
  }
  const normal: SeedSubset = {};
  if (subset?.limit !== undefined) normal.limit = subset.limit;
  if (subset?.labeledOnly) normal.labeledOnly = true;
  return Object.keys(normal).length > 0 ? normal : undefined;
}

export function inSubset(seed: Seed, subset: SeedSubset | undefined): boolean {
  return !subset?.labeledOnly || seed.gold !== undefined;
}

export async function countSubset(seedOptions: SeedReadOptions, subset: SeedSubset, dropped: ReadonlySet<string> = new Set()): Promise<number> {
  let count = 0;
  for await (const record of readSeeds(seedOptions)) {
    if (record.kind === 'seed' && inSubset(record.seed, subset) && !dropped.has(record.seed.id)) count++;
    if (subset.limit !== undefined && count >= subset.limit) break;
  }
  return count;
}

/** Resuming: the run found must be the one asked for, or its records would mix two runs. */
export function checkSameRun(existing: RunManifest, wanted: RunManifest): void {
  const changes: string[] = [];
  if (existing.seedFile.fingerprint !== wanted.seedFile.fingerprint) {
    changes.push(`the seed file ${wanted.seedFile.path} changed since the run started (it was ${existing.seedFile.path})`);
  }
  if (JSON.stringify(existing.subset ?? {}) !== JSON.stringify(wanted.subset ?? {})) {
    const describe = (subset: SeedSubset | undefined) =>
      subset ? `${subset.limit !== undefined ? `the first ${subset.limit} ` : 'all '}${subset.labeledOnly ? 'labeled ' : ''}seeds` : 'every seed';
    changes.push(`the run covers ${describe(existing.subset)}, not ${describe(wanted.subset)}`);
  }
  if (screeningKey(existing) !== screeningKey(wanted)) {
    changes.push('its seed screening (evaluation files, duplicates, what is left out) differs');
  }
  if (existing.methodFingerprint !== wanted.methodFingerprint) {
    const what: string[] = [];
    if (existing.model.model !== wanted.model.model) what.push(`model ${existing.model.model} -> ${wanted.model.model}`);
    for (const key of ['candidates', 'votes', 'selection'] as const) {
      if (existing.config[key] !== wanted.config[key]) what.push(`${key} ${existing.config[key]} -> ${wanted.config[key]}`);
    }
    for (const key of ['generation', 'judge'] as const) {
      if (JSON.stringify(existing.config[key]) !== JSON.stringify(wanted.config[key])) what.push(`${key} sampling`);
    }
    if (what.length === 0) what.push('prompt templates');
    changes.push(`the method's parameters changed (${what.join(', ')})`);
  }
  if (changes.length > 0) {
    throw advisedError('run_mismatch', `run ${existing.id}: ${changes.join('; ')}. Its records would mix two different runs:`, {
      cli: 'start a new run (omit --run, or give a new id) or restore the original seed file and settings to resume it.',
      editor: 'start a new run (SVD: Run Self-Verified Distillation on This File) or restore the original seed file and settings to resume it.',
    });
  }
}

function screeningKey(manifest: RunManifest): string {
  const s = manifest.screening;
  return s ? JSON.stringify([s.against.map((a) => a.fingerprint), s.dropContaminated, s.duplicateThreshold ?? null, s.dropDuplicates, s.dropped]) : '';
}

/** Tells why a new run starts when the seed file has runs already (a changed file, other settings). */
export function noticeEarlierRuns(runsDir: string, manifest: RunManifest, onNotice: ((message: string) => void) | undefined): void {
  if (!onNotice || !existsSync(runsDir)) return;
  const earlier = listRuns(runsDir).filter((run) => run.manifest.seedFile.path === manifest.seedFile.path);
  if (earlier.length === 0) return;
  const last = earlier[earlier.length - 1]!;
  const why =
    last.manifest.seedFile.fingerprint !== manifest.seedFile.fingerprint ? 'the seed file changed' : 'the settings differ';
  onNotice(`starting a new run: ${why} since run ${last.id}, which is left as it was`);
}
