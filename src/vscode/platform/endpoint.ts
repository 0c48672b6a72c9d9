// Choosing where the model runs: the embedded engine or an OpenAI-compatible server, each probed by listing its
// models, then the model picked from the server's own list.
import * as vscode from 'vscode';
import { describeError, isSvdError } from '../../core/base/errors';
import { ModelClient } from '../../core/method/model';
import { isLocalServer } from '../../core/method/openaiClient';

interface EndpointChoice extends vscode.QuickPickItem {
  baseUrl?: string;
  custom?: boolean;
  models?: string[];
}

const KNOWN: { label: string; baseUrl?: string; detail: string }[] = [
  { label: '$(chip) Embedded engine', detail: 'llama.cpp in a child process: no server to set up (Qwen3-0.6B by default, or a local GGUF)' },
  { label: '$(server) Ollama', baseUrl: 'http://localhost:11434/v1', detail: 'http://localhost:11434/v1' },
  { label: '$(server) vLLM / SGLang', baseUrl: 'http://localhost:8000/v1', detail: 'http://localhost:8000/v1' },
  { label: '$(server) LM Studio', baseUrl: 'http://localhost:1234/v1', detail: 'http://localhost:1234/v1' },
  { label: '$(server) llama.cpp server', baseUrl: 'http://localhost:8080/v1', detail: 'http://localhost:8080/v1' },
  { label: '$(cloud) OpenAI', baseUrl: 'https://api.openai.com/v1', detail: 'https://api.openai.com/v1 (needs an API key: SVD: Set API Key)' },
];

export async function probeModels(baseUrl: string, apiKey: string | undefined, timeoutMs = 4000): Promise<string[]> {
  const client = new ModelClient({ baseURL: baseUrl, model: '', apiKey, concurrency: 1, timeoutMs, maxRetries: 0, batchSamples: false });
  return client.listModels(AbortSignal.timeout(timeoutMs));
}

export interface EndpointSelection {
  baseUrl: string;
  model: string;
}

/**
 * Shows the endpoints, probing each server as the list is open, then the chosen server's models.
 * Returns undefined when the user cancels; baseUrl '' means the embedded engine.
 */
export async function pickEndpoint(keyFor: (baseUrl: string) => Promise<string | undefined>): Promise<EndpointSelection | undefined> {
  const pick = vscode.window.createQuickPick<EndpointChoice>();
  pick.title = 'Select Model Endpoint';
  pick.placeholder = 'Where should the model run?';
  // The list fills in as the servers answer; focus taken elsewhere meanwhile (a terminal printing a job's output)
  // must not dismiss it. Escape still does.
  pick.ignoreFocusOut = true;
  const items: EndpointChoice[] = [
    ...KNOWN.map((k) => ({ label: k.label, baseUrl: k.baseUrl ?? '', detail: k.detail, description: k.baseUrl ? 'checking…' : '' })),
    { label: '$(edit) Custom URL…', custom: true, detail: 'any OpenAI-compatible server' },
  ];
  pick.items = items;
  for (const item of items) {
    if (!item.baseUrl) continue;
    void keyFor(item.baseUrl)
      .then((key) => probeModels(item.baseUrl!, key))
      .then(
        (models) => {
          item.models = models;
          item.description = `$(pass) ${models.length} model${models.length === 1 ? '' : 's'}`;
        },
        (error) => {
          item.description = `$(circle-slash) ${shortReason(error, item.baseUrl!)}`;
        },
      )
      .then(() => {
        pick.items = [...items];
      });
  }
  const chosen = await new Promise<EndpointChoice | undefined>((resolve) => {
    pick.onDidAccept(() => resolve(pick.selectedItems[0]));
    pick.onDidHide(() => resolve(undefined));
    pick.show();
  });
  pick.dispose();
  if (!chosen) return undefined;
  if (!chosen.custom && chosen.baseUrl === '') return { baseUrl: '', model: '' };

  let baseUrl = chosen.baseUrl ?? '';
  if (chosen.custom) {
    const typed = await vscode.window.showInputBox({
      title: 'OpenAI-compatible server',
      prompt: 'Base URL, including /v1',
      placeHolder: 'http://localhost:8000/v1',
      validateInput: (value) => (/^https?:\/\/\S+$/i.test(value.trim()) ? undefined : 'An http(s) URL such as http://localhost:8000/v1'),
    });
    if (!typed) return undefined;
    baseUrl = typed.trim().replace(/\/+$/, '');
  }
  let models = chosen.models;
  if (!models) {
    try {
      models = await probeModels(baseUrl, await keyFor(baseUrl), 10_000);
    } catch (error) {
      const retry = 'Enter a Model Name';
      const answer = await vscode.window.showWarningMessage(`${baseUrl} did not list its models: ${describeError(error)}`, retry);
      if (answer !== retry) return undefined;
      models = [];
    }
  }
  const model =
    models.length > 0
      ? await vscode.window.showQuickPick(models, { title: `Models on ${baseUrl}`, placeHolder: 'The model that generates and judges' })
      : await vscode.window.showInputBox({ title: `Model on ${baseUrl}`, prompt: 'Model name as the server knows it' });
  if (!model) return undefined;
  return { baseUrl, model };
}

/** Why a server did not list its models, in a few words. Only a server on this machine is said not to run. */
export function shortReason(error: unknown, baseUrl: string): string {
  if (isSvdError(error, 'unreachable')) return isLocalServer(baseUrl) ? 'not running' : 'unreachable (no connection)';
  if (isSvdError(error, 'auth')) return 'needs an API key';
  const text = describeError(error);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** Keeps the choice in the workspace's settings (the user's, without a folder). */
export async function saveEndpoint(selection: EndpointSelection): Promise<void> {
  const target = vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  const configuration = vscode.workspace.getConfiguration('svd');
  await configuration.update('endpoint.baseUrl', selection.baseUrl, target);
  await configuration.update('endpoint.model', selection.model, target);
}
