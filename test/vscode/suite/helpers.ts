// Shared by the extension-host suites: the extension's API, the workspace that run-project.mjs prepared, the run
// records on disk, and polling.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { SvdApi } from '../../../src/vscode/extension';
import { isDeclined, isFailed, type CommandResult } from '../../../src/vscode/platform/commandResult';
import type { RunOutcome } from '../../../src/vscode/runs/runner';

export type { RunOutcome, SvdApi };

export const EXTENSION_ID = 'svd-tools.self-verified-distillation';

/** What run-project.mjs knows and the workspace must not hold: see its `fixture.json`. */
export interface Fixture {
  /** The scripted server that answers anyone (also in the workspace settings). */
  url: string;
  /** The one that answers only `Authorization: Bearer <apiKey>`. */
  strictUrl: string;
  apiKey: string;
  model: string;
}

export function fixture(): Fixture {
  const file = process.env.SVD_TEST_FIXTURE;
  assert.ok(file, 'SVD_TEST_FIXTURE is not set: run the suites through test/vscode/run-project.mjs');
  return JSON.parse(readFileSync(file, 'utf8')) as Fixture;
}

export async function api(): Promise<SvdApi> {
  const extension = vscode.extensions.getExtension<SvdApi>(EXTENSION_ID);
  assert.ok(extension, `extension ${EXTENSION_ID} is not installed`);
  const exported = await extension.activate();
  assert.ok(exported && typeof exported.startRun === 'function', 'activate() returned no SvdApi');
  return exported;
}

/**
 * What a command resolved with, as it is: its value, a Declined (it chose not to act, and why) or a Failed (an error
 * it reported; `internal` for a bug). See src/vscode/platform/commandResult.ts.
 */
export async function commandResult<T>(id: string, ...args: unknown[]): Promise<CommandResult<T>> {
  return vscode.commands.executeCommand<CommandResult<T>>(id, ...args);
}

/** The value of a command that must do its work; the test fails, saying why, when it declined or failed. */
export async function commandValue<T>(id: string, ...args: unknown[]): Promise<T> {
  const result = await commandResult<T>(id, ...args);
  assert.ok(!isFailed(result), `${id} failed: ${JSON.stringify(result)}`);
  assert.ok(!isDeclined(result), `${id} declined: ${JSON.stringify(result)}`);
  return result as T;
}

export function workspaceRoot(): string {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert.ok(root, 'no workspace folder is open');
  return root;
}

export const seedFile = (name: string) => path.join(workspaceRoot(), name);

/** A seed row of the fixture workspace: `expect` says what the scripted model makes of it. */
export interface SeedRow {
  id: string;
  question: string;
  expect: 'accepted' | 'rejected' | 'no_valid';
  /** The candidate the method accepts; default `<id>#0`. */
  acceptedId?: string;
}

export function seedRows(file: string): SeedRow[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as SeedRow);
}

/** seedId -> status, and the sorted accepted candidate ids, as the seed file's rows say they must come out. */
export function expectedFunnel(file: string): { statuses: Record<string, string>; accepted: string[] } {
  const rows = seedRows(file);
  return {
    statuses: Object.fromEntries(rows.map((row) => [row.id, row.expect])),
    accepted: rows
      .filter((row) => row.expect === 'accepted')
      .map((row) => row.acceptedId ?? `${row.id}#0`)
      .sort(),
  };
}

export interface RecordedEvent {
  id: string;
  type: string;
  seedId?: string;
  status?: string;
  state?: string;
  acceptedCandidateIds?: string[];
}

export function readEvents(runDir: string): RecordedEvent[] {
  return readFileSync(path.join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as RecordedEvent);
}

/** What `svd status` would count: the seeds' outcomes and the accepted candidate ids. */
export function funnelOf(runDir: string): { statuses: Record<string, string>; accepted: string[]; runStates: string[] } {
  const events = readEvents(runDir);
  const outcomes = events.filter((event) => event.type === 'outcome');
  return {
    statuses: Object.fromEntries(outcomes.map((event) => [event.seedId!, event.status!])),
    accepted: outcomes.flatMap((event) => event.acceptedCandidateIds ?? []).sort(),
    runStates: events.filter((event) => event.type === 'run').map((event) => event.state!),
  };
}

/** Folders under `dir` (none when it does not exist). */
export function foldersIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => statSync(path.join(dir, name)).isDirectory()).sort();
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/** Sets a workspace setting for the duration of `body`, then puts back what the workspace had. */
export async function withSetting<T>(key: string, value: unknown, body: () => Promise<T>): Promise<T> {
  const configuration = vscode.workspace.getConfiguration('svd');
  const before = configuration.inspect(key)?.workspaceValue;
  await configuration.update(key, value, vscode.ConfigurationTarget.Workspace);
  try {
    return await body();
  } finally {
    await vscode.workspace.getConfiguration('svd').update(key, before, vscode.ConfigurationTarget.Workspace);
  }
}

/**
 * The VS Code server's state folder: the harness gives the server (and so the extension host) HOME=<state>/home;
 * logs, user settings and extensions live under <state>.
 */
export function serverStateDir(): string {
  const home = process.env.HOME;
  assert.ok(home, 'no HOME in the extension host');
  const state = path.dirname(home);
  assert.ok(existsSync(path.join(state, 'user')), `${state} does not look like the harness's server state folder`);
  return state;
}

/** Every file below `dir` whose path matches `test`. */
export function findFiles(dir: string, test: (file: string) => boolean): string[] {
  const found: string[] = [];
  const walk = (folder: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && test(full)) found.push(full);
    }
  };
  walk(dir);
  return found;
}

/** The extension's log channel file(s): `<logs>/.../exthost/<extension id>/*.log` (the extension's logUri). */
export function extensionLogFiles(): string[] {
  return findFiles(serverStateDir(), (file) => file.split(path.sep).includes(EXTENSION_ID) && file.endsWith('.log'));
}
