// What every feature folder gets to own its commands: the log, the settings, the runs folder, API keys, the trust
// check, and `command`, which registers a command with the extension's error handling (see commandResult.ts).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeError, isSvdError } from '../../core/base/errors';
import type { RunsTreeProvider } from '../runs/runsTree';
import type { ApiKeys } from './apiKeys';
import { declined, failure, Refusal } from './commandResult';
import { readSettings, SettingsError, type ExtensionSettings } from './settings';

export type CommandHandler = (...args: unknown[]) => unknown;

/** The extension's shared services; everything here but `command` works outside a command too. */
export interface Platform {
  readonly extension: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly apiKeys: ApiKeys;
  /** The bundled CLI, which runs, sweeps, evaluations and local trainers run in. */
  readonly cliPath: string;
  /** Where the embedded engine keeps its default model. */
  readonly modelsDir: string;
  /** The first workspace folder: runs are kept in it. */
  workspaceRoot(): string | undefined;
  /** The settings as they are now. @throws SettingsError without a folder or with an invalid setting. */
  settings(): ExtensionSettings;
  /** The runs folder; undefined without a folder or while a setting is invalid. */
  runsDir(): string | undefined;
  apiKeyFor(baseUrl: string | undefined): Promise<string | undefined>;
  /** Says so, with a button to manage trust, and declines the command in Restricted Mode. */
  requireTrust(what: string): void;
  /** Shows an error with the buttons its code calls for, and logs it. */
  reportError(error: unknown): void;
  /** Registers a command that resolves with its value, a Declined or a Failed (commandResult.ts). */
  command(id: string, handler: CommandHandler): void;
}

/** A feature folder's view of the extension: the platform and the Runs view, which most commands pick runs from. */
export interface FeatureContext extends Platform {
  readonly tree: RunsTreeProvider;
}

export function createPlatform(extension: vscode.ExtensionContext, log: vscode.LogOutputChannel, apiKeys: ApiKeys): Platform {
  const workspaceRoot = (): string | undefined => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const settings = (): ExtensionSettings => {
    const root = workspaceRoot();
    if (!root) throw new SettingsError('no_workspace', 'Open a folder first: runs are kept in the workspace.');
    const configuration = vscode.workspace.getConfiguration('svd');
    return readSettings((key) => configuration.get(key), root);
  };
  const reportError = (error: unknown): void => showError(log, error);
  return {
    extension,
    log,
    apiKeys,
    cliPath: path.join(extension.extensionPath, 'dist', 'cli.js'),
    modelsDir: path.join(extension.globalStorageUri.fsPath, 'models'),
    workspaceRoot,
    settings,
    runsDir: () => {
      try {
        return settings().runsDir;
      } catch {
        return undefined;
      }
    },
    apiKeyFor: (baseUrl) => apiKeys.keyFor(baseUrl),
    requireTrust: (what) => {
      if (vscode.workspace.isTrusted) return;
      void vscode.window
        .showErrorMessage(`${what} is disabled in Restricted Mode: trust this workspace to run models or code. Reviewing existing runs still works.`, 'Manage Workspace Trust')
        .then((choice) => {
          if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
        });
      throw new Refusal('restricted');
    },
    reportError,
    command: (id, handler) => extension.subscriptions.push(vscode.commands.registerCommand(id, commandRunner(handler, reportError))),
  };
}

/**
 * The handler as a command: a Refusal or a SettingsError declines (reported when it carries an error), any other
 * error is reported and returned as a Failed.
 */
export function commandRunner(handler: CommandHandler, reportError: (error: unknown) => void): CommandHandler {
  return async (...args: unknown[]) => {
    try {
      return await handler(...args);
    } catch (error) {
      if (error instanceof Refusal) {
        if (error.error && !error.reported) reportError(error.error);
        return error.result;
      }
      reportError(error);
      if (error instanceof SettingsError) return declined(error.reason, error);
      return failure(error);
    }
  };
}

function showError(log: vscode.LogOutputChannel, error: unknown): void {
  const message = describeError(error);
  log.error(message);
  if (isSvdError(error, 'auth')) {
    // The CLI's advice names environment variables; in the editor the key lives in secret storage.
    void vscode.window.showErrorMessage('The server refused the API key (or none is set for it).', 'Set API Key').then((choice) => {
      if (choice) void vscode.commands.executeCommand('svd.setApiKey');
    });
  } else if (isSvdError(error, 'engine') || isSvdError(error, 'unreachable') || isSvdError(error, 'unknown_model')) {
    void vscode.window.showErrorMessage(message, 'Select Model Endpoint').then((choice) => {
      if (choice) void vscode.commands.executeCommand('svd.selectEndpoint');
    });
  } else if (isSvdError(error, 'bad_config')) {
    void vscode.window.showErrorMessage(message, 'Open Settings').then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'svd.');
    });
  } else {
    void vscode.window.showErrorMessage(message);
  }
}
