// The editor's publishing under plain Node (the `vscode` stub): the token kept in secret storage and known to
// redaction, a run written as a publish folder, then uploaded to a local stand-in of the Hub with that token.
import '../../stubs/register-vscode';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import type * as vscode from 'vscode';
import { parseRunConfig } from '../../../src/core/base/config';
import { redactText } from '../../../src/core/base/redact';
import { RunStore } from '../../../src/core/record/store';
import { ApiKeys } from '../../../src/vscode/platform/apiKeys';
import type { CommandResult } from '../../../src/vscode/platform/commandResult';
import { createPlatform, type FeatureContext } from '../../../src/vscode/platform/feature';
import { RunsTreeProvider } from '../../../src/vscode/runs/runsTree';
import { registerPublishCommands, repoIdProblem } from '../../../src/vscode/training/publishCommand';
import { startHubServer, type HubServer } from '../../fixtures/hub-server';
import { commands, stub, Uri, window } from '../../stubs/vscode';

const TOKEN = 'hf_EditorTokenKeptInSecretStorage0123456';
const scratch = mkdtempSync(path.join(os.tmpdir(), 'svd-vscode-publish-'));
let hub: HubServer;
before(async () => (hub = await startHubServer({ token: TOKEN })));
after(async () => {
  await hub.close();
  rmSync(scratch, { recursive: true, force: true });
});

function workspaceWithRun(): string {
  const root = path.join(scratch, 'ws');
  const runDir = path.join(root, '.svd', 'runs', 'r');
  if (existsSync(runDir)) return root;
  const store = RunStore.create(runDir, {
    version: 1,
    id: 'r',
    createdAt: '2025-01-01T00:00:00.000Z',
    seedFile: { path: path.join(root, 'seeds.jsonl'), fingerprint: 'a'.repeat(64), format: 'jsonl', rows: 1 },
    model: { model: 'qwen3', baseURL: 'http://localhost:8000/v1', engine: 'server' },
    config: parseRunConfig({}),
    methodFingerprint: 'f',
  });
  store.append({ id: 'seed:1', type: 'seed', seedId: '1', line: 1, domain: 'math', question: 'What is 1 + 1?', prompt: [{ role: 'user', content: 'What is 1 + 1?' }] });
  store.append({ id: 'cand:1#0', type: 'candidate', seedId: '1', candidateId: '1#0', index: 0, text: '<think>one and one</think>\\boxed{2}', finishReason: 'stop', promptTokens: 1, completionTokens: 1, cached: false, valid: true, finalAnswer: '\\boxed{2}' });
  store.append({ id: 'outcome:1', type: 'outcome', seedId: '1', status: 'accepted', acceptedCandidateIds: ['1#0'] });
  store.close();
  return root;
}

function featureContext(values: Map<string, string>): { ctx: FeatureContext; dispose(): void } {
  const secrets = { get: async (k: string) => values.get(k), store: async (k: string, v: string) => void values.set(k, v), delete: async (k: string) => void values.delete(k) } as unknown as vscode.SecretStorage;
  const extension = { subscriptions: [], extensionPath: '/ext', extensionUri: Uri.file('/ext'), globalStorageUri: Uri.file('/storage'), secrets } as unknown as vscode.ExtensionContext;
  const log = window.createOutputChannel('test') as unknown as vscode.LogOutputChannel;
  const platform = createPlatform(extension, log, new ApiKeys(secrets));
  const tree = new RunsTreeProvider({ runsDir: platform.runsDir, isRunning: () => false, log });
  return { ctx: { ...platform, tree }, dispose: () => tree.dispose() };
}

beforeEach(() => stub.reset(workspaceWithRun()));

describe('publishing from the editor', () => {
  test('the repo id is checked as it is typed', () => {
    assert.equal(repoIdProblem('me/data'), undefined);
    assert.match(repoIdProblem('data') ?? '', /NAMESPACE\/NAME/);
    assert.match(repoIdProblem('me/da ta') ?? '', /NAMESPACE\/NAME/);
  });

  test('without a token the upload is refused with a way to set one; the folder alone needs none', async () => {
    const { ctx, dispose } = featureContext(new Map());
    registerPublishCommands(ctx);
    const folder = await commands.executeCommand<CommandResult<{ dir: string; files: string[] }>>('svd.publish', 'r', 'me/data', 'folder', 'mit');
    assert.ok(!('declined' in folder) && !('failed' in folder));
    assert.deepEqual(folder.files, ['README.md', 'svd_run.json', 'data/svd.jsonl']);
    assert.match(readFileSync(path.join(folder.dir, 'README.md'), 'utf8'), /^license: "mit"$/m);
    assert.deepEqual(await commands.executeCommand('svd.publish', 'r', 'me/data', 'public', 'mit'), { declined: 'refused' });
    assert.deepEqual(stub.messages.at(-1)?.items, ['Set Hugging Face Token']);
    dispose();
  });

  test('the token from secret storage (never settings) reaches the Hub and nothing else', async () => {
    const values = new Map<string, string>();
    const { ctx, dispose } = featureContext(values);
    registerPublishCommands(ctx);
    stub.settings.set('svd.publish.hubUrl', hub.url);
    stub.answer(TOKEN);
    assert.equal(await commands.executeCommand('svd.setHubToken'), true);
    assert.deepEqual([...values.values()], [TOKEN]);
    assert.ok(!redactText(`token ${TOKEN}`).includes(TOKEN), 'known to redaction');
    const result = await commands.executeCommand<CommandResult<{ url: string; created: boolean }>>('svd.publish', 'r', 'me/editor-data', 'private', '');
    assert.ok(!('declined' in result) && !('failed' in result), JSON.stringify(result));
    assert.equal(result.url, `${hub.url}/datasets/me/editor-data`);
    const repo = hub.repos.get('dataset:me/editor-data')!;
    assert.equal(repo.private, true);
    assert.deepEqual([...repo.files.keys()].sort(), ['README.md', 'data/svd.jsonl', 'svd_run.json']);
    for (const request of hub.requests.filter((q) => !q.path.startsWith('/lfs-upload/'))) assert.equal(request.authorization, `Bearer ${TOKEN}`);
    assert.ok(![...stub.settings.values()].some((v) => String(v).includes(TOKEN)));
    dispose();
  });
});
