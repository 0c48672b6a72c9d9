// The platform's commands: where the model runs, the API keys for servers, and the log.
import * as vscode from 'vscode';
import { answered, Refusal } from './commandResult';
import { originOf } from './apiKeys';
import { pickEndpoint, saveEndpoint } from './endpoint';
import type { Platform } from './feature';

export function registerPlatformCommands(platform: Platform): void {
  const { log, apiKeys } = platform;

  platform.command('svd.selectEndpoint', async () => {
    const chosen = answered(await pickEndpoint(platform.apiKeyFor));
    await saveEndpoint(chosen);
    void vscode.window.showInformationMessage(chosen.baseUrl ? `SVD will use ${chosen.model} on ${chosen.baseUrl}.` : 'SVD will use the embedded engine.');
    return chosen;
  });

  platform.command('svd.setApiKey', async (keyArg, baseUrlArg) => {
    // For the model endpoint, or for another server (a fine-tuning API) when one is named.
    const baseUrl = typeof baseUrlArg === 'string' && baseUrlArg ? baseUrlArg : platform.settings().baseUrl;
    if (!baseUrl) {
      void vscode.window.showInformationMessage('The embedded engine needs no API key. Select a server endpoint first.');
      throw new Refusal('nothing_to_do');
    }
    const key = answered(
      typeof keyArg === 'string'
        ? keyArg
        : await vscode.window.showInputBox({ title: `API key for ${baseUrl}`, password: true, ignoreFocusOut: true, prompt: 'Kept in the editor\'s secret storage, never in settings or files.' }),
    );
    await apiKeys.set(baseUrl, key);
    log.info(`API key set for ${originOf(baseUrl)}`);
    return true;
  });

  platform.command('svd.clearApiKey', async () => {
    await apiKeys.clear(platform.settings().baseUrl);
    log.info('API key cleared');
    return true;
  });

  platform.command('svd.showLog', () => log.show());
}
