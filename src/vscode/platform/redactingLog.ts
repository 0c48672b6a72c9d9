// The extension's log, with every line redacted: what the CLI prints, errors from the endpoint probe or a fine-tuning
// server, and the extension's own messages all pass here (see core/redact.ts).
import type * as vscode from 'vscode';
import { redactText } from '../../core/base/redact';

function safe(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value instanceof Error) return redactText(value.message);
  return value;
}

/** The channel itself stays the owner (level, visibility, disposal); only what is written is changed. */
export function redactingLog(channel: vscode.LogOutputChannel): vscode.LogOutputChannel {
  const args = (rest: unknown[]) => rest.map(safe);
  return {
    get name() {
      return channel.name;
    },
    get logLevel() {
      return channel.logLevel;
    },
    get onDidChangeLogLevel() {
      return channel.onDidChangeLogLevel;
    },
    trace: (message, ...rest) => channel.trace(redactText(message), ...args(rest)),
    debug: (message, ...rest) => channel.debug(redactText(message), ...args(rest)),
    info: (message, ...rest) => channel.info(redactText(message), ...args(rest)),
    warn: (message, ...rest) => channel.warn(redactText(message), ...args(rest)),
    error: (error, ...rest) => channel.error(safe(error) as string, ...args(rest)),
    append: (value) => channel.append(redactText(value)),
    appendLine: (value) => channel.appendLine(redactText(value)),
    replace: (value) => channel.replace(redactText(value)),
    clear: () => channel.clear(),
    show: (columnOrPreserve?: vscode.ViewColumn | boolean, preserveFocus?: boolean) =>
      typeof columnOrPreserve === 'boolean' || columnOrPreserve === undefined
        ? channel.show(columnOrPreserve)
        : channel.show(columnOrPreserve, preserveFocus),
    hide: () => channel.hide(),
    dispose: () => channel.dispose(),
  };
}
