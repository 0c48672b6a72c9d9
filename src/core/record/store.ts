// The run store: the one module that writes a run's record. A run is a folder with `run.json` (the manifest, written
// once), `events.jsonl` (the pipeline's record) and `overrides.jsonl` (a reviewer's decisions), both append-only
// logs (appendLog.ts, where their durability is explained); `run.lock` names the one writing pipeline (runLock.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomicFile';
import { RunConfigSchema } from '../base/config';
import { SvdError, describeError } from '../base/errors';
import { AppendLog } from './appendLog';
import { RunEvent, type NewRunEvent } from './events';
import { issueText } from '../base/zodIssues';
import { releaseRunLock, takeRunLock } from './runLock';
import { ScreeningSchema } from './screening';

export const RunManifestSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  createdAt: z.string(),
  seedFile: z.object({
    path: z.string(),
    fingerprint: z.string(),
    format: z.string(),
    rows: z.number().int(),
    /** Rows of the file that are no usable seed and were skipped (absent in runs made before it was recorded). */
    skippedRows: z.number().int().nonnegative().optional(),
  }),
  model: z.object({
    model: z.string(),
    baseURL: z.string().optional(),
    engine: z.enum(['server', 'embedded']),
    /** Every server the run was started on, when several (without credentials); not part of the run's id. */
    endpoints: z.array(z.string()).optional(),
  }),
  config: RunConfigSchema,
  methodFingerprint: z.string(),
  parentRun: z.string().optional(),
  /** The run covers part of the seed file only; `seedFile.rows` then counts the seeds of that part. */
  subset: z.object({ limit: z.number().int().positive().optional(), labeledOnly: z.boolean().optional() }).optional(),
  /** Seeds screened before the run (decontamination, duplicates), and those it leaves out. */
  screening: ScreeningSchema.optional(),
});
export type RunManifest = z.infer<typeof RunManifestSchema>;

export type RunEventType = RunEvent['type'];

const MANIFEST_FILE = 'run.json';
const EVENTS_FILE = 'events.jsonl';
/** Human decisions, kept apart so the pipeline stays the only writer of events.jsonl while a reviewer overrides. */
const OVERRIDES_FILE = 'overrides.jsonl';

export function defaultRunsDir(workspace: string): string {
  return path.join(workspace, '.svd', 'runs');
}

// ---------------------------------------------------------------------------------------------------------------
// Run ids: a run's folder name under the runs folder, so an id must name one folder there and nothing else

export const RUN_ID_MAX_LENGTH = 120;

/** The first rule `id` breaks, or undefined when it is a valid run id. */
function runIdProblem(id: string): string | undefined {
  if (id === '') return 'a run id cannot be empty';
  if (id.length > RUN_ID_MAX_LENGTH) return `a run id is at most ${RUN_ID_MAX_LENGTH} characters (this one has ${id.length})`;
  if (/[/\\]/.test(id)) return 'a run id cannot contain a path separator (/ or \\)';
  if (id.includes('..')) return 'a run id cannot contain ".."';
  if (id === '.') return 'a run id cannot be "." (that is the runs folder itself)';
  if (id.startsWith('-')) return 'a run id cannot start with "-" (it would be read as an option)';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
  if (/[\u0000-\u001f\u007f]/.test(id)) return 'a run id cannot contain control characters';
  return undefined;
}

/**
 * Throws SvdError `bad_config` naming the rule a run id breaks. `nested` admits `<id>/<id>` (a sweep keeps its
 * cells as runs in its own folder), each part checked as an id.
 */
export function checkRunId(id: string, options: { source?: string; nested?: boolean } = {}): string {
  const parts = options.nested ? id.split('/') : [id];
  for (const part of parts) {
    const problem = runIdProblem(part);
    if (problem === undefined) continue;
    const shown = id.length > 60 ? `${id.slice(0, 60)}...` : id;
    throw new SvdError('bad_config', `${options.source ? `${options.source}: ` : ''}bad run id ${JSON.stringify(shown)}: ${problem}`);
  }
  return id;
}

/** A seed file's name as the start of a derived id: always valid, and short enough to leave room for a suffix. */
export function runIdStem(file: string): string {
  const stem = path
    .basename(file)
    .replace(/\.[^.]+$/, '')
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^-+/, '')
    .slice(0, 100);
  return stem || 'seeds';
}

// ---------------------------------------------------------------------------------------------------------------
// The run store

function emptyCounts(): Record<RunEventType, number> {
  return { seed: 0, candidate: 0, vote: 0, stage: 0, outcome: 0, truth: 0, error: 0, override: 0, run: 0, usage: 0 };
}

function readManifest(file: string): RunManifest {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SvdError('internal', `${file}: cannot read the run manifest (${describeError(error)})`, { cause: error });
  }
  const result = RunManifestSchema.safeParse(json);
  if (!result.success) throw new SvdError('internal', `${file}: invalid run manifest: ${issueText(result.error)}`);
  return result.data;
}

export class RunStore {
  readonly manifest: RunManifest;
  /** Open found a torn or invalid last line left by an interrupted writer and dropped it (see AppendLog). */
  readonly droppedTail: boolean;
  private readonly log: AppendLog<RunEvent>;
  private readonly overrides: AppendLog<RunEvent>;
  private readonly counts = emptyCounts();
  private readonly listeners = new Set<(event: RunEvent) => void>();
  private locked = false;

  private constructor(
    readonly dir: string,
    readonly readOnly: boolean,
  ) {
    const manifestFile = path.join(dir, MANIFEST_FILE);
    if (!fs.existsSync(manifestFile)) throw new SvdError('not_found', `no run at ${dir} (${MANIFEST_FILE} is missing)`);
    this.manifest = readManifest(manifestFile);
    this.log = AppendLog.open<RunEvent>(path.join(dir, EVENTS_FILE), {
      schema: RunEvent,
      keyOf: (event) => event.id,
      readOnly,
      onIndex: (event) => (this.counts[event.type] += 1),
      deferWrites: 'exclusive',
    });
    try {
      const overridesFile = path.join(dir, OVERRIDES_FILE);
      this.overrides = AppendLog.open<RunEvent>(overridesFile, {
        schema: RunEvent,
        keyOf: (event) => event.id,
        // A run nobody overrode has no file; read-only opens see an empty log.
        readOnly: readOnly && fs.existsSync(overridesFile),
        onIndex: (event) => (this.counts[event.type] += 1),
      });
    } catch (error) {
      this.log.close();
      throw error;
    }
    this.droppedTail = this.log.droppedTail || this.overrides.droppedTail;
  }

  /** Starts a new run in `dir`; refuses to overwrite an existing one. */
  static create(dir: string, manifest: RunManifest): RunStore {
    const result = RunManifestSchema.safeParse(manifest);
    if (!result.success) throw new SvdError('internal', `invalid run manifest for ${dir}: ${issueText(result.error)}`);
    checkRunId(result.data.id, { nested: true });
    fs.mkdirSync(dir, { recursive: true });
    const manifestFile = path.join(dir, MANIFEST_FILE);
    if (fs.existsSync(manifestFile)) throw new SvdError('bad_config', `a run already exists at ${dir}`);
    // The record first, then the manifest: a folder with run.json always has events.jsonl.
    fs.closeSync(fs.openSync(path.join(dir, EVENTS_FILE), 'a'));
    fs.closeSync(fs.openSync(path.join(dir, OVERRIDES_FILE), 'a'));
    writeFileAtomic(manifestFile, `${JSON.stringify(result.data, null, 2)}\n`);
    return new RunStore(dir, false);
  }

  static open(dir: string, options: { readOnly?: boolean } = {}): RunStore {
    return new RunStore(dir, options.readOnly ?? false);
  }

  /** Events indexed. */
  get size(): number {
    return this.log.size + this.overrides.size;
  }

  /** Events indexed, per type. */
  countsByType(): Record<RunEventType, number> {
    return { ...this.counts };
  }

  has(id: string): boolean {
    return this.log.has(id) || this.overrides.has(id);
  }

  get(id: string): RunEvent | undefined {
    return this.log.read(id) ?? this.overrides.read(id);
  }

  /**
   * Records an event: stamps `at` when absent, validates it, writes it as one line. Returns undefined and writes
   * nothing when an event with this id is already recorded, so repeating a step is harmless.
   */
  append(event: NewRunEvent): RunEvent | undefined {
    const result = RunEvent.safeParse({ ...event, at: event.at ?? new Date().toISOString() });
    if (!result.success) {
      throw new SvdError('internal', `invalid ${event.type} event ${event.id}: ${issueText(result.error)}`);
    }
    const log = result.data.type === 'override' ? this.overrides : this.log;
    if (log !== this.overrides && this.has(result.data.id)) return undefined;
    const { written, indexed } = log.append(result.data);
    this.emit(indexed);
    return written ? result.data : undefined;
  }

  /** Every event in file order (the pipeline's record, then the overrides), read from disk as the caller goes. */
  *events(): Generator<RunEvent> {
    yield* this.log.entries();
    yield* this.overrides.entries();
  }

  /** The pipeline's record alone, streamed (with overrideEvents, a RunSource for streamFold.ts). */
  recordEvents(): Generator<RunEvent> {
    return this.log.entries();
  }

  /** The reviewers' decisions alone, streamed. */
  overrideEvents(): Generator<RunEvent> {
    return this.overrides.entries();
  }

  /**
   * Picks up events other processes appended since the last look (complete lines only) and returns them. Listeners
   * hear them too.
   */
  refresh(): RunEvent[] {
    const fresh = [...this.log.refresh(), ...this.overrides.refresh()];
    this.emit(fresh);
    return fresh;
  }

  /**
   * Ends lookups and appends: overrides written meanwhile are picked up, then both logs let go of their indexes, and
   * the record can only be streamed (events(), recordEvents(), overrideEvents()). A writer's last pass over a large
   * record (the run's summary) then holds no index of it.
   */
  streamOnly(): void {
    this.refresh();
    this.log.releaseIndex();
    this.overrides.releaseIndex();
  }

  /** Hears every event this store indexes from now on: its own appends and those `refresh` (or an append) finds. */
  onEvent(listener: (event: RunEvent) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Claims the run for one writing pipeline (see runLock.ts). A lock left by a dead process is taken over. */
  lock(): void {
    if (this.locked) return;
    if (this.readOnly) throw new SvdError('internal', `run ${this.manifest.id} is open read-only`);
    takeRunLock(this.dir, this.manifest.id);
    this.locked = true;
    this.log.exclusive = true;
  }

  unlock(): void {
    if (!this.locked) return;
    this.locked = false;
    this.log.exclusive = false;
    releaseRunLock(this.dir);
  }

  close(): void {
    this.unlock();
    this.log.close();
    this.overrides.close();
    this.listeners.clear();
  }

  private emit(events: RunEvent[]): void {
    for (const event of events) for (const listener of [...this.listeners]) listener(event);
  }
}

/**
 * Records a reviewer's decision without opening the whole record: overrides have their own file and unique ids, so
 * only that file is read (opening the store reads every event, seconds on a large run). Returns the event written.
 */
export function appendOverride(dir: string, event: Extract<NewRunEvent, { type: 'override' }>): RunEvent | undefined {
  const result = RunEvent.safeParse({ ...event, at: event.at ?? new Date().toISOString() });
  if (!result.success) throw new SvdError('internal', `invalid override event ${event.id}: ${issueText(result.error)}`);
  if (!isRunDir(dir)) throw new SvdError('not_found', `no run at ${dir} (${MANIFEST_FILE} is missing)`);
  const log = AppendLog.open<RunEvent>(path.join(dir, OVERRIDES_FILE), { schema: RunEvent, keyOf: (entry) => entry.id });
  try {
    return log.append(result.data).written ? result.data : undefined;
  } finally {
    log.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Finding runs

/** Whether `dir` holds a run: its run.json. */
export function isRunDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, MANIFEST_FILE));
}

/** A run's manifest alone, without opening its record. */
export function readRunManifest(dir: string): RunManifest {
  if (!isRunDir(dir)) throw new SvdError('not_found', `no run at ${dir} (${MANIFEST_FILE} is missing)`);
  return readManifest(path.join(dir, MANIFEST_FILE));
}

/** `run` is a folder holding run.json, or a run id under `runsDir`. */
export function resolveRunDir(run: string, runsDir: string): string {
  const asFolder = path.resolve(run);
  const byId = path.resolve(runsDir, run);
  for (const dir of [asFolder, byId]) {
    if (fs.existsSync(path.join(dir, MANIFEST_FILE))) return dir;
  }
  const looked = asFolder === byId ? [asFolder] : [asFolder, byId];
  throw new SvdError('not_found', `no run "${run}": looked for ${MANIFEST_FILE} in ${looked.join(' and ')}`);
}

/** The runs under `runsDir`, oldest first; folders without a valid run.json are skipped. */
export function listRuns(runsDir: string): { id: string; dir: string; manifest: RunManifest }[] {
  let names: fs.Dirent[];
  try {
    names = fs.readdirSync(runsDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const runs: { id: string; dir: string; manifest: RunManifest }[] = [];
  for (const entry of names) {
    if (!entry.isDirectory()) continue;
    const dir = path.join(runsDir, entry.name);
    try {
      runs.push({ id: entry.name, dir, manifest: readManifest(path.join(dir, MANIFEST_FILE)) });
    } catch {
      // not a run
    }
  }
  return runs.sort((a, b) =>
    a.manifest.createdAt === b.manifest.createdAt
      ? a.id.localeCompare(b.id)
      : a.manifest.createdAt < b.manifest.createdAt
        ? -1
        : 1,
  );
}
