// Publishing a run as a Hugging Face dataset from the editor: the folder (card, svd_run.json, data) written by the
// same core code as `svd publish`, then uploaded with the token from the editor's secret storage, which is held
// in memory for the upload and written nowhere. "Set Hugging Face Token" keeps it there.
import * as vscode from 'vscode';
import { uploadToHub } from '../../core/training/hubUpload';
import { checkRepoId, writePublishFolder } from '../../core/training/publish';
import { answered, answeredOrEmpty, Refusal } from '../platform/commandResult';
import type { FeatureContext } from '../platform/feature';
import { pickRun } from '../runs/pickRun';

interface ModeItem extends vscode.QuickPickItem {
  id: 'public' | 'private' | 'folder';
}

const MODES: readonly ModeItem[] = [
  { label: 'Public dataset', detail: 'create (or update) a public dataset repo and upload', id: 'public' },
  { label: 'Private dataset', detail: 'create it private (an existing repo keeps its visibility)', id: 'private' },
  { label: 'Write the folder only', detail: "the card, svd_run.json and data in the run's publish folder, nothing uploaded", id: 'folder' },
];

/** The repo id, or the reason it is not one (for the input box). */
export function repoIdProblem(value: string): string | undefined {
  try {
    checkRepoId(value.trim());
    return undefined;
  } catch {
    return 'NAMESPACE/NAME: your user or organisation, a slash, the dataset name';
  }
}

export function registerPublishCommands(ctx: FeatureContext): void {
  ctx.command('svd.setHubToken', async (tokenArg) => {
    const token = answered(
      typeof tokenArg === 'string'
        ? tokenArg
        : await vscode.window.showInputBox({ title: 'Hugging Face token', password: true, ignoreFocusOut: true, prompt: 'A write token; kept in the editor\'s secret storage, never in settings or files.' }),
    );
    await ctx.apiKeys.setHubToken(token);
    ctx.log.info('Hugging Face token set');
    return true;
  });

  ctx.command('svd.publish', async (arg, repoArg, modeArg, licenseArg) => {
    const run = await pickRun(ctx, arg, 'Run to publish');
    const repo = answered(
      typeof repoArg === 'string'
        ? repoArg
        : await vscode.window.showInputBox({ title: `Publish ${run.runId}`, prompt: 'Dataset repo on the Hugging Face Hub', placeHolder: 'NAMESPACE/NAME', validateInput: repoIdProblem }),
    ).trim();
    const mode = MODES.find((m) => m.id === modeArg) ?? answered(await vscode.window.showQuickPick(MODES, { title: `Publish ${run.runId} as ${repo}` }));
    const license = answeredOrEmpty(
      typeof licenseArg === 'string'
        ? licenseArg
        : await vscode.window.showInputBox({ title: 'Licence of the dataset', prompt: 'As the Hub names it (apache-2.0, cc-by-4.0, mit, ...); empty: not stated' }),
    ).trim();
    const folder = await writePublishFolder({ runDir: run.dir, repo, ...(license ? { license } : {}) });
    ctx.log.info(`publish folder for ${run.runId}: ${folder.dir} (${folder.rows} rows)`);
    if (mode.id === 'folder') {
      void vscode.window.showInformationMessage(`Wrote ${folder.rows} rows, the card and svd_run.json to ${folder.dir}.`);
      return { dir: folder.dir, files: folder.files };
    }
    const token = await ctx.apiKeys.hubToken();
    if (!token) {
      const set = 'Set Hugging Face Token';
      void vscode.window.showErrorMessage('SVD: no Hugging Face token yet.', set).then((choice) => {
        if (choice) void vscode.commands.executeCommand('svd.setHubToken');
      });
      throw new Refusal('refused');
    }
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Publishing ${run.runId} to ${repo}` },
      () => uploadToHub({ dir: folder.dir, files: folder.files, repo, token, private: mode.id === 'private', ...ctx.settings().publish, ...(license ? { license } : {}) }),
    );
    ctx.log.info(`published ${run.runId} to ${result.url}`);
    const open = 'Open';
    void vscode.window.showInformationMessage(`Published ${folder.rows} rows to ${result.url}.`, open).then((choice) => {
      if (choice) void vscode.env.openExternal(vscode.Uri.parse(result.url));
    });
    return { ...result, dir: folder.dir, files: folder.files };
  });
}
