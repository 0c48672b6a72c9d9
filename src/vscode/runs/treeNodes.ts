// The Runs view's nodes and which node has which children, as plain data: the runs newest first, each with its
// training, the rounds its trained model made and its funnel; then the saved sweeps and evaluations. No `vscode`
// import: how a node looks is treeItems.ts's, when the runs are read is runReader.ts's.
import * as path from 'node:path';
import type { RunView } from '../../core/record/runview';
import type { RunManifest } from '../../core/record/store';
import type { ExperimentEntry } from '../../core/experiments/catalog';
import type { Lineage } from '../../core/training/lineage';
import { displayStatus, type TrainingRecord } from '../../core/training/record';
import type { EndpointStatusJson } from '../../protocol/endpoints';
import { funnelLines, type DisplayState, type RunListing } from './present';

export interface RunNode {
  kind: 'run';
  runId: string;
  dir: string;
  /** As shown: `running` while a process of this extension (or a live lock holder) writes the run. */
  state: RunView['state'];
  /** Set when the run's record cannot be read; the item then shows the reason and has no children. */
  error?: string;
}

export interface DetailNode {
  kind: 'detail';
  /** Empty for the item that says the runs folder itself cannot be read. */
  runId: string;
  label: string;
  description?: string;
  /** A codicon id. */
  icon?: string;
}

/** The run's latest training job, under the run. */
export interface TrainingNode {
  kind: 'training';
  runId: string;
  dir: string;
  /** As shown: the record's status, or `interrupted` when its process is gone. */
  status: string;
  record: TrainingRecord;
}

/** A server of a running run spread over several, as its endpoints.json last said. */
export interface ServerNode {
  kind: 'server';
  runId: string;
  server: EndpointStatusJson;
  /** When the snapshot was written (ISO time). */
  at: string;
}

/** The group of saved sweeps and evaluations, after the runs. */
export interface ExperimentsNode {
  kind: 'experiments';
}

/** A saved sweep or evaluation; opening it shows its view. */
export interface ExperimentNode {
  kind: 'experiment';
  entry: ExperimentEntry;
}

export type RunsTreeNode = RunNode | DetailNode | TrainingNode | ServerNode | ExperimentsNode | ExperimentNode;

/** The small files beside a run's record: its training job and, for a later round, its lineage. */
export interface SideFiles {
  /** Sizes and mtimes of the two files, to read them again only when they change. */
  key: string;
  training?: TrainingRecord;
  lineage?: Lineage;
  error?: string;
}

/** endpoints.json of a running run: its servers as last written, read again only when the file changed. */
export interface ServersRead {
  /** Size and mtime of the file. */
  key: string;
  at?: string;
  endpoints: EndpointStatusJson[];
}

/** A run as last read: its node, manifest, state as shown, listing (once folded) and side files. */
export interface RunEntry {
  node: RunNode;
  manifest: RunManifest;
  display: DisplayState;
  listing?: RunListing;
  side: SideFiles;
  /** Only while the run is running on several servers. */
  servers?: ServersRead;
}

/** The top level: the runs, then the experiments group when there are any; or why the runs folder cannot be read. */
export function rootNodes(entries: readonly RunEntry[], experiments: number, rootError: string | undefined): RunsTreeNode[] {
  if (rootError !== undefined) {
    return [{ kind: 'detail', runId: '', label: 'Cannot read the runs folder', description: rootError, icon: 'error' }];
  }
  return [...entries.map((entry) => entry.node), ...(experiments > 0 ? [{ kind: 'experiments' } as const] : [])];
}

/**
 * Under a run: the servers of a running one, its training, the runs of later rounds made from it, then its funnel; a
 * note until it is read (its entry is undefined or not folded yet); nothing under a run that cannot be read.
 */
export function runChildren(node: RunNode, entry: RunEntry | undefined, entries: readonly RunEntry[]): RunsTreeNode[] {
  const { runId, dir } = node;
  if (node.error !== undefined) return [];
  if (entry?.listing === undefined) return [{ kind: 'detail', runId, label: 'reading the run…', icon: 'loading~spin' }];
  const nodes: RunsTreeNode[] = serverNodes(node, entry);
  if (entry.side.training) {
    nodes.push({ kind: 'training', runId, dir, status: displayStatus(entry.side.training), record: entry.side.training });
  } else if (entry.side.error !== undefined) {
    nodes.push({ kind: 'detail', runId, label: 'Training', description: `cannot read: ${entry.side.error}`, icon: 'warning' });
  }
  for (const child of entries) {
    const lineage = child.side.lineage;
    if (lineage?.parentRun !== runId || child.node.dir === dir) continue;
    nodes.push({ kind: 'detail', runId, label: `Round ${lineage.round}`, description: `${child.node.runId} · ${child.node.state}`, icon: 'git-branch' });
  }
  const lines = funnelLines(entry.listing, entry.manifest.seedFile.skippedRows);
  return [...nodes, ...lines.map((line): DetailNode => ({ kind: 'detail', runId, ...line }))];
}

/** Each server of a running run, as its last snapshot says; none for another state or a run on one server. */
export function serverNodes(node: RunNode, entry: RunEntry): ServerNode[] {
  if (node.state !== 'running' || !entry.servers) return [];
  const at = entry.servers.at ?? '';
  return entry.servers.endpoints.map((server) => ({ kind: 'server', runId: node.runId, server, at }));
}

/** Whether the view must be told: something it shows differs between the two reads of a run. */
export function sameEntry(a: RunEntry, b: RunEntry | undefined): boolean {
  return (
    b !== undefined &&
    a.node.runId === b.node.runId &&
    a.node.dir === b.node.dir &&
    a.node.state === b.node.state &&
    a.node.error === b.node.error &&
    a.display.interrupted === b.display.interrupted &&
    // Folds are cached objects: the same object means the same numbers.
    a.listing === b.listing &&
    a.side === b.side &&
    // Read again only when endpoints.json changed: the same object means the same servers.
    a.servers === b.servers &&
    (a.side.training === undefined || displayStatus(a.side.training) === trainingState(b))
  );
}

function trainingState(entry: RunEntry): string | undefined {
  return entry.side.training === undefined ? undefined : displayStatus(entry.side.training);
}

/** Readable runs started on this seed file, newest first (as `entries` are). */
export function runsOfSeedFile(entries: readonly RunEntry[], fsPath: string): { runId: string; state: RunView['state'] }[] {
  const wanted = comparablePath(fsPath);
  return entries
    .filter((entry) => entry.node.error === undefined && comparablePath(entry.manifest.seedFile.path) === wanted)
    .map((entry) => ({ runId: entry.node.runId, state: entry.node.state }));
}

function comparablePath(file: string): string {
  const resolved = path.resolve(file);
  return process.platform === 'win32' || process.platform === 'darwin' ? resolved.toLowerCase() : resolved;
}
