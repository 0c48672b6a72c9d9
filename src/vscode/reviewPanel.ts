// A run's review: the funnel and every seed's candidates with their stage results. Read-only, no script: every
// piece of model text is escaped before it becomes HTML, under a CSP that allows nothing but the panel's own style.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { RunStore } from '../core/store';
import { foldRun, type CandidateView, type RunView } from '../core/runview';
import { formatFunnel } from '../core/status';
import { STAGES } from '../core/types';

const panels = new Map<string, vscode.WebviewPanel>();

export function openReviewPanel(runId: string, dir: string): vscode.WebviewPanel {
  const existing = panels.get(dir);
  if (existing) {
    existing.reveal();
    existing.webview.html = render(existing.webview, runId, dir);
    return existing;
  }
  const panel = vscode.window.createWebviewPanel('svd.review', `Review: ${runId}`, vscode.ViewColumn.Active, {
    enableScripts: false,
    localResourceRoots: [],
  });
  panels.set(dir, panel);
  panel.onDidDispose(() => panels.delete(dir));
  panel.webview.html = render(panel.webview, runId, dir);
  return panel;
}

export function refreshReviewPanel(dir: string, runId: string): void {
  const panel = panels.get(dir);
  if (panel) panel.webview.html = render(panel.webview, runId, dir);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function render(webview: vscode.Webview, runId: string, dir: string): string {
  const nonce = randomBytes(16).toString('base64');
  let view: RunView;
  try {
    const store = RunStore.open(dir, { readOnly: true });
    try {
      view = foldRun(store.events(), store.manifest.seedFile.rows);
    } finally {
      store.close();
    }
  } catch (error) {
    return page(webview, nonce, runId, `<p class="error">${escapeHtml(String(error))}</p>`);
  }
  const seeds = view.seeds
    .map((seed) => {
      const candidates = seed.candidates.map((c) => candidateHtml(c)).join('');
      return `<section><h3>${escapeHtml(seed.seed.seedId)} <span class="domain">${escapeHtml(seed.seed.domain)}</span> <span class="status">${escapeHtml(seed.outcome?.status ?? 'pending')}</span></h3><pre class="question">${escapeHtml(seed.seed.question)}</pre>${candidates}</section>`;
    })
    .join('');
  return page(webview, nonce, runId, `<pre class="funnel">${escapeHtml(formatFunnel(view))}</pre>${seeds}`);
}

function candidateHtml(c: CandidateView): string {
  const stages = STAGES.map((stage) => {
    const s = c.stages[stage];
    const label = s ? `${stage} ${s.yes}/${s.votes}` : `${stage} –`;
    const cls = s ? (s.passed ? 'pass' : 'fail') : 'none';
    return `<span class="badge ${cls}">${escapeHtml(label)}</span>`;
  }).join(' ');
  const validity = c.candidate.valid ? '' : `<span class="badge fail">invalid: ${escapeHtml(c.candidate.invalidReason ?? '')}</span>`;
  const accepted = c.accepted ? '<span class="badge pass">accepted</span>' : '';
  const override = c.override ? `<span class="badge">${escapeHtml(`by hand: ${c.override.action}${c.override.note ? ` (${c.override.note})` : ''}`)}</span>` : '';
  return `<div class="candidate${c.accepted ? ' accepted' : ''}"><div>${escapeHtml(c.candidate.candidateId)} ${validity} ${stages} ${accepted} ${override}</div><pre>${escapeHtml(c.candidate.finalAnswer ?? c.candidate.text)}</pre></div>`;
}

function page(webview: vscode.Webview, nonce: string, runId: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'; img-src ${webview.cspSource};">
<meta name="viewport" content="width=device-width, initial-scale=1.0"><title>${escapeHtml(runId)}</title>
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1em; }
pre { white-space: pre-wrap; font-family: var(--vscode-editor-font-family); background: var(--vscode-textCodeBlock-background); padding: .5em; }
.badge { display: inline-block; padding: 0 .4em; border-radius: 3px; border: 1px solid var(--vscode-contrastBorder, transparent); background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
.badge.pass { background: var(--vscode-testing-iconPassed); color: var(--vscode-editor-background); }
.badge.fail { background: var(--vscode-testing-iconFailed); color: var(--vscode-editor-background); }
.candidate { border-left: 3px solid var(--vscode-panel-border); padding-left: .5em; margin: .5em 0; }
.candidate.accepted { border-left-color: var(--vscode-testing-iconPassed); }
.domain, .status { font-weight: normal; opacity: .8; }
.error { color: var(--vscode-errorForeground); }
</style></head><body><h2>${escapeHtml(runId)}</h2>${body}</body></html>`;
}
