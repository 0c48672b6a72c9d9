// Reading the runs folder for the Runs view. Runs are read read-only (the CLI and other windows write them too)
// through their review index (runIndexes.ts), which reads only what a record gained since the last look, a slice at
// a time for a large run seen for the first time; the listing is cached, so an unchanged run costs one stat per read
// however big it is. No `vscode` import.
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describeError } from '../../core/base/errors';
import { fileStamp } from '../../core/base/fileStamp';
import { ENDPOINTS_FILE, readEndpointsSnapshot } from '../../core/method/endpointsSnapshot';
import type { ReviewIndex } from '../../core/record/reviewIndex';
import { foldRun } from '../../core/record/runview';
import { runLockHeld } from '../../core/record/runLock';
import type { RunManifest } from '../../core/record/store';
import { EndpointsSnapshotSchema } from '../../protocol/endpoints';
import { summaryOfTotals, type SeedRow } from '../../protocol/reviewRows';
import { rowColumns } from '../../protocol/reviewColumns';
import { lineageFile, readLineage } from '../../core/training/lineage';
import { readTraining, trainingFile } from '../../core/training/record';
import { displayState, runListing, type RunListing } from './present';
import { acquireRunIndex, releaseRunIndex, saveRunIndexSoon } from './runIndexes';
import type { RunEntry, RunNode, ServersRead, SideFiles } from './treeNodes';

/** A changed run is folded again only after this many times its last fold took: reading never hogs the host. */
const READ_COST_FACTOR = 5;
/** How long one fold reads a record: a large run seen for the first time is read over several folds. */
const FOLD_BUDGET_MS = 200;
/** The key of a listing read from part of its record: the run is read again, for the rest. */
const PARTIAL = 'partial';
const RECORD_FILES = ['events.jsonl', 'overrides.jsonl'] as const;

export interface ListedRun {
  id: string;
  dir: string;
  manifest: RunManifest;
}

export interface ReaderLog {
  trace(message: string): void;
  warn(message: string): void;
}

interface CachedRead {
  /** Sizes and mtimes of the files the listing was folded from. */
  key: string;
  listing?: RunListing;
  error?: string;
  readAt: number;
  readMs: number;
}

export class RunReader {
  private readonly cache = new Map<string, CachedRead>();
  private readonly sideCache = new Map<string, SideFiles>();
  private readonly serversCache = new Map<string, ServersRead>();
  private readonly indexes = new Map<string, ReviewIndex<SeedRow>>();

  constructor(
    private readonly log: ReaderLog,
    /** Whether a process of this extension is running the run. */
    private readonly isRunning: (runId: string) => boolean,
  ) {}

  /**
   * Which of the listed runs changed since they were folded and may be folded again now; `retryAt` is when the
   * earliest of those that must wait may be. Forgets the runs that are gone.
   */
  changed(listed: readonly ListedRun[], now: number): { stale: ListedRun[]; retryAt: number } {
    const keys = new Map(listed.map((run) => [run.dir, recordKey(run.dir)]));
    const stale: ListedRun[] = [];
    let retryAt = Number.POSITIVE_INFINITY;
    for (const run of listed) {
      const cached = this.cache.get(run.dir);
      if (cached?.key === keys.get(run.dir)) continue;
      const earliest = cached === undefined ? 0 : cached.readAt + cached.readMs * READ_COST_FACTOR;
      if (now >= earliest) stale.push(run);
      else retryAt = Math.min(retryAt, earliest);
    }
    for (const dir of [...this.cache.keys()]) if (!keys.has(dir)) this.cache.delete(dir);
    for (const dir of [...this.indexes.keys()]) if (!keys.has(dir)) this.forget(dir);
    for (const dir of [...this.sideCache.keys()]) if (!keys.has(dir)) this.sideCache.delete(dir);
    for (const dir of [...this.serversCache.keys()]) if (!keys.has(dir)) this.serversCache.delete(dir);
    return { stale, retryAt };
  }

  /** Reads what the run's record gained into its listing, or the reason it cannot be read. */
  fold(run: ListedRun): void {
    const key = recordKey(run.dir);
    const started = performance.now();
    try {
      let index = this.indexes.get(run.dir);
      if (!index) {
        index = acquireRunIndex(run.dir);
        this.indexes.set(run.dir, index);
      }
      index.advance(FOLD_BUDGET_MS);
      const listing = listingOf(index, run.manifest.seedFile.rows);
      const readMs = performance.now() - started;
      this.log.trace(`runs view: read ${run.id} in ${readMs.toFixed(0)} ms${index.complete ? '' : ' (part of it)'}`);
      this.cache.set(run.dir, { key: index.complete ? key : PARTIAL, listing, readAt: Date.now(), readMs });
      if (index.complete) saveRunIndexSoon(run.dir);
    } catch (error) {
      this.log.warn(`runs view: cannot read run ${run.id} (${run.dir}): ${describeError(error)}`);
      this.cache.set(run.dir, { key, error: describeError(error), readAt: Date.now(), readMs: performance.now() - started });
      // Read from the start next time.
      this.forget(run.dir);
    }
  }

  /** Lets go of the runs' indexes (saving those that changed). */
  dispose(): void {
    for (const dir of [...this.indexes.keys()]) this.forget(dir);
  }

  private forget(dir: string): void {
    if (!this.indexes.delete(dir)) return;
    releaseRunIndex(dir);
  }

  /** The run as the view shows it now: its last fold, its state (who writes it now) and its side files. */
  entry(run: ListedRun): RunEntry {
    const cached = this.cache.get(run.dir);
    const recorded = cached?.listing?.state ?? 'new';
    const live = this.isRunning(run.id);
    const display = displayState(recorded, {
      process: live,
      // Only a record that says running (or has not said anything yet) needs the lock to tell who writes it.
      lock: !live && (recorded === 'running' || recorded === 'new') && runLockHeld(run.dir),
    });
    const node: RunNode = { kind: 'run', runId: run.id, dir: run.dir, state: display.state };
    if (cached?.error !== undefined) node.error = cached.error;
    const servers = display.state === 'running' ? this.servers(run.dir) : undefined;
    return {
      node,
      manifest: run.manifest,
      display,
      side: this.sideFiles(run.dir),
      ...(cached?.listing === undefined ? {} : { listing: cached.listing }),
      ...(servers === undefined ? {} : { servers }),
    };
  }

  /** endpoints.json (a run on several servers writes it every few seconds), read again only when it changed. */
  private servers(dir: string): ServersRead | undefined {
    const key = fileStamp(path.join(dir, ENDPOINTS_FILE));
    if (key === undefined) {
      this.serversCache.delete(dir);
      return undefined;
    }
    const cached = this.serversCache.get(dir);
    if (cached?.key === key) return cached;
    const snapshot = readEndpointsSnapshot(dir, EndpointsSnapshotSchema);
    const read: ServersRead = { key, endpoints: snapshot?.endpoints ?? [], ...(snapshot ? { at: snapshot.at } : {}) };
    this.serversCache.set(dir, read);
    return read;
  }

  /** training.json and lineage.json, read again only when they changed. */
  private sideFiles(dir: string): SideFiles {
    const key = [trainingFile(dir), lineageFile(dir)].map((file) => fileStamp(file) ?? '-').join('|');
    const cached = this.sideCache.get(dir);
    if (cached?.key === key) return cached;
    const side: SideFiles = { key };
    try {
      const training = readTraining(dir);
      if (training) side.training = training;
    } catch (error) {
      side.error = describeError(error);
    }
    try {
      const lineage = readLineage(dir);
      if (lineage) side.lineage = lineage;
    } catch (error) {
      this.log.warn(`runs view: ${describeError(error)}`);
    }
    this.sideCache.set(dir, side);
    return side;
  }
}

/** The listing from the index: the funnel from the seeds' rows, the rest from the run-level events. */
function listingOf(index: ReviewIndex<SeedRow>, totalSeeds: number): RunListing {
  const runView = foldRun(index.runEvents(), totalSeeds);
  const summary = summaryOfTotals('', rowColumns(index).totals, index.runEvents(), index.errors, { totalSeeds });
  return runListing({ ...runView, funnel: summary.funnel });
}

/** Changes whenever the pipeline or a reviewer appends: the two record files' sizes and mtimes. */
function recordKey(dir: string): string {
  return RECORD_FILES.map((name) => fileStamp(path.join(dir, name)) ?? '-').join('|');
}
