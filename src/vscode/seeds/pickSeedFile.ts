// The seed file a command runs on: its argument (a Uri or a path), else the active editor's file, else one the user
// chooses in a dialog.
import * as vscode from 'vscode';
import { answered } from '../platform/commandResult';
import { isSeedFile } from './codelens';

/** The file an argument names, when it is a seed file on disk (any JSON or CSV name counts: the user chose it). */
export function seedFileArgument(arg: unknown, active: vscode.Uri | undefined): vscode.Uri | undefined {
  const uri = arg instanceof vscode.Uri ? arg : typeof arg === 'string' && arg ? vscode.Uri.file(arg) : active;
  return uri && uri.scheme === 'file' && isSeedFile(uri.fsPath, true) ? uri : undefined;
}

/** The seed file of the command; declines as cancelled when the dialog is closed. */
export async function pickSeedFile(arg: unknown): Promise<vscode.Uri> {
  const given = seedFileArgument(arg, vscode.window.activeTextEditor?.document.uri);
  if (given) return given;
  const picked = await vscode.window.showOpenDialog({ title: 'Seed file', canSelectMany: false, filters: { 'Seed files': ['jsonl', 'ndjson', 'json', 'csv'] } });
  return answered(picked?.[0]);
}
