// Runs inside the real VS Code extension host (Node), loaded by test/vscode/index.ts.
const assert = require('node:assert/strict');
const vscode = require('vscode');

const ID = 'svd-tools-test.harness-sample';

suite('harness sample (extension host)', () => {
  test('runs in a Node extension host', () => {
    assert.equal(typeof process.versions.node, 'string');
    assert.ok(vscode.version, 'vscode API is available');
  });

  test('activates and executes its command', async () => {
    const ext = vscode.extensions.getExtension(ID);
    assert.ok(ext, `${ID} is loaded`);
    await ext.activate();
    assert.ok(ext.isActive);
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('harnessSample.hello'));

    assert.equal(await vscode.commands.executeCommand('harnessSample.hello'), 'opened');
    const message = await vscode.commands.executeCommand('harnessSample.waitForMessage');
    assert.equal(message.type, 'ready');
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label));
    assert.ok(tabs.some((l) => l.startsWith('Harness Sample')), `tabs: ${tabs.join(', ')}`);
  });
});
