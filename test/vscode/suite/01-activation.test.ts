// The extension activates from the installed .vsix and registers every command it contributes.
import assert from 'node:assert/strict';
import path from 'node:path';
import * as vscode from 'vscode';
import { EXTENSION_ID, api, workspaceRoot } from './helpers';

suite('activation', () => {
  test('activates and returns its API', async () => {
    const svd = await api();
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.equal(extension?.isActive, true);
    assert.ok(svd.runs() instanceof Map);
    assert.equal(svd.runs().size, 0, 'no run goes before any was started');
    assert.equal(svd.runsDir(), path.join(workspaceRoot(), '.svd', 'runs'));
  });

  test('every command in contributes.commands is registered', async () => {
    await api();
    const contributed = (vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON.contributes.commands ?? []) as { command: string }[];
    assert.ok(contributed.length >= 12, `only ${contributed.length} commands contributed`);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.map((c) => c.command).filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });
});
