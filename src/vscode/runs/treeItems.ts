// How the Runs view's nodes look: labels, descriptions, icons, menus (contextValue) and hovers. Every hover quotes
// run files (models, servers, messages): its markdown is escaped, with no command links, HTML or icons.
import * as vscode from 'vscode';
import type { ExperimentEntry } from '../../core/experiments/catalog';
import type { RunView } from '../../core/record/runview';
import { type displayStatus, trainingSummary } from '../../core/training/record';
import { escapeMarkdown, runDescription, runTooltipMarkdown } from './present';
import type { DetailNode, RunEntry, RunNode, RunsTreeNode, ServerNode, TrainingNode } from './treeNodes';

/** The item of any node; a run's comes from its entry as last read (undefined before the first read). */
export function treeItem(node: RunsTreeNode, entryOf: (runId: string) => RunEntry | undefined, experiments: number): vscode.TreeItem {
  switch (node.kind) {
    case 'run':
      return runItem(node, entryOf(node.runId));
    case 'training':
      return trainingItem(node);
    case 'server':
      return serverItem(node);
    case 'experiments':
      return experimentsItem(experiments);
    case 'experiment':
      return experimentItem(node.entry);
    default:
      return detailItem(node);
  }
}

/** `seeds-1a2b` with `round 2 of seeds · running · 12/40 seeds · 9 accepted`; its menu depends on its state. */
export function runItem(node: RunNode, entry: RunEntry | undefined): vscode.TreeItem {
  const collapsible = node.error === undefined ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
  const item = new vscode.TreeItem(node.runId, collapsible);
  item.id = `run:${node.dir}`;
  const display = entry?.display ?? { state: node.state, interrupted: false };
  if (node.error !== undefined) {
    item.description = `cannot read: ${node.error}`;
    item.contextValue = 'run-unreadable';
    item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
  } else {
    const round = entry?.side.lineage ? `round ${entry.side.lineage.round} of ${entry.side.lineage.parentRun} · ` : '';
    item.description = entry?.listing === undefined ? `${round}reading…` : `${round}${runDescription(display, entry.listing.funnel)}`;
    item.contextValue = `run-${node.state}`;
    item.iconPath = stateIcon(node.state);
  }
  item.tooltip = plainMarkdown(
    runTooltipMarkdown({
      runId: node.runId,
      display,
      ...(entry === undefined ? {} : { manifest: entry.manifest }),
      ...(entry?.listing === undefined ? {} : { listing: entry.listing }),
      ...(node.error === undefined ? {} : { error: node.error }),
      ...(entry?.side.lineage === undefined ? {} : { lineage: entry.side.lineage }),
      ...(entry?.side.training === undefined ? {} : { training: trainingSummary(entry.side.training) }),
    }),
  );
  return item;
}

const TRAINING_ICONS: Record<string, [string, string?]> = {
  starting: ['loading~spin'],
  validating_files: ['loading~spin'],
  queued: ['watch'],
  running: ['sync~spin'],
  succeeded: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash'],
  interrupted: ['debug-pause'],
};

/** `Training` with `running · step 40 · loss 0.83`, or `succeeded → ft:...`; its menu depends on what it made. */
export function trainingItem(node: TrainingNode): vscode.TreeItem {
  const item = new vscode.TreeItem('Training', vscode.TreeItemCollapsibleState.None);
  item.id = `training:${node.dir}`;
  item.description = trainingSummary(node.record, node.status as ReturnType<typeof displayStatus>);
  const [icon, color] = TRAINING_ICONS[node.status] ?? ['rocket'];
  item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
  const made = node.record.fineTunedModel !== undefined ? '-model' : node.record.outputDir !== undefined ? '-output' : '';
  item.contextValue = `training-${node.status}${node.status === 'succeeded' ? made : ''}`;
  const r = node.record;
  const lines = [
    `**Training** · ${escapeMarkdown(node.status)}`,
    `Trainer: ${escapeMarkdown(r.trainer)} · base model ${escapeMarkdown(r.baseModel)}`,
    ...(r.examples !== undefined ? [`Examples: ${r.examples}`] : []),
    ...(r.jobId ? [`Job: ${escapeMarkdown(r.jobId)} on ${escapeMarkdown(r.baseUrl ?? '')}`] : []),
    ...(r.fineTunedModel ? [`Model: ${escapeMarkdown(r.fineTunedModel)}`] : []),
    ...(r.outputDir ? [`Output: ${escapeMarkdown(r.outputDir)}`] : []),
    ...(r.lastEvent ? [`Latest: ${escapeMarkdown(r.lastEvent)}`] : []),
    ...(r.error ? [`Error: ${escapeMarkdown(r.error)}`] : []),
    `Started: ${escapeMarkdown(r.startedAt)}${r.endedAt ? ` · ended ${escapeMarkdown(r.endedAt)}` : ''}`,
  ];
  item.tooltip = plainMarkdown(lines.join('  \n'));
  return item;
}

const SERVER_ICONS: Record<ServerNode['server']['state'], [string, string?]> = {
  up: ['vm-running', 'testing.iconPassed'],
  down: ['vm-outline', 'list.errorForeground'],
  probing: ['sync~spin'],
};

/** A server of a running run: its url with `up · requests 120 · errors 3 (429: 2) · in flight 4/32`. */
export function serverItem(node: ServerNode): vscode.TreeItem {
  const e = node.server;
  const item = new vscode.TreeItem(e.url, vscode.TreeItemCollapsibleState.None);
  item.id = `server:${node.runId}:${e.url}`;
  const throttled = e.throttled > 0 ? ` (429: ${e.throttled})` : '';
  const limit = e.limit < e.maxConcurrency ? `${e.limit} (max ${e.maxConcurrency})` : `${e.limit}`;
  item.description = `${e.state} · requests ${e.requests} · errors ${e.errors}${throttled} · in flight ${e.inFlight}/${limit}`;
  const [icon, color] = SERVER_ICONS[e.state];
  item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
  item.contextValue = 'run-server';
  item.tooltip = plainMarkdown([`**${escapeMarkdown(e.url)}**`, escapeMarkdown(item.description), `As of ${escapeMarkdown(node.at)}`].join('  \n'));
  return item;
}

export function experimentsItem(count: number): vscode.TreeItem {
  const item = new vscode.TreeItem('Experiments', vscode.TreeItemCollapsibleState.Collapsed);
  item.id = 'experiments';
  item.description = `${count} saved`;
  item.iconPath = new vscode.ThemeIcon('beaker');
  item.contextValue = 'experiments';
  item.tooltip = 'Budget sweeps and evaluations saved beside the runs';
  return item;
}

/** `sweep-seeds-1a2b3c4d` with `9 cells · accepted 3–12 · precision 80%–100%`; a click opens its view. */
export function experimentItem(entry: ExperimentEntry): vscode.TreeItem {
  const item = new vscode.TreeItem(entry.id, vscode.TreeItemCollapsibleState.None);
  item.id = `experiment:${entry.file}`;
  item.description = entry.description;
  const sweep = entry.kind === 'sweep';
  item.iconPath = entry.error !== undefined ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')) : new vscode.ThemeIcon(sweep ? 'graph' : 'checklist');
  item.contextValue = `experiment-${entry.kind}`;
  item.tooltip = plainMarkdown(entry.details.map(escapeMarkdown).join('  \n'));
  item.command = { command: sweep ? 'svd.showSweep' : 'svd.showEvaluation', title: 'Open', arguments: [entry.file] };
  return item;
}

export function detailItem(node: DetailNode): vscode.TreeItem {
  const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
  item.id = `detail:${node.runId}:${node.label}`;
  if (node.description !== undefined) item.description = node.description;
  if (node.icon !== undefined) item.iconPath = new vscode.ThemeIcon(node.icon);
  item.contextValue = node.runId === '' ? 'runs-error' : 'run-detail';
  return item;
}

function stateIcon(state: RunView['state']): vscode.ThemeIcon {
  switch (state) {
    case 'running':
      return new vscode.ThemeIcon('sync~spin');
    case 'finished':
      return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
    case 'stopped':
      return new vscode.ThemeIcon('debug-pause');
    case 'failed':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
    case 'new':
      return new vscode.ThemeIcon('circle-outline');
  }
}

/** Markdown from run files: rendered as written, never trusted with command links, HTML or icons. */
function plainMarkdown(text: string): vscode.MarkdownString {
  const markdown = new vscode.MarkdownString(text);
  markdown.isTrusted = false;
  markdown.supportHtml = false;
  markdown.supportThemeIcons = false;
  return markdown;
}
