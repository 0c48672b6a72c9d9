// Opens a webview that greets and posts "ready" back; the panel title then records the round trip,
// so both host tests (command result, message) and UI tests (tab title, webview text) can assert on it.
const vscode = require('vscode');

let lastMessage;
const waiters = [];

function html(webview, nonce) {
  return `<!DOCTYPE html>
<html><head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<style nonce="${nonce}">body { font-family: sans-serif; }</style>
</head><body>
<h1 id="greeting">Hello from the harness sample</h1>
<script nonce="${nonce}">
  const api = acquireVsCodeApi();
  api.postMessage({ type: 'ready', text: document.getElementById('greeting').textContent });
</script>
</body></html>`;
}

function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('harnessSample.hello', () => {
      const panel = vscode.window.createWebviewPanel('harnessSample', 'Harness Sample', vscode.ViewColumn.One, {
        enableScripts: true,
        localResourceRoots: [],
      });
      const nonce = Math.random().toString(36).slice(2) + Date.now().toString(36);
      panel.webview.onDidReceiveMessage((m) => {
        lastMessage = m;
        panel.title = `Harness Sample (${m.type})`;
        waiters.splice(0).forEach((resolve) => resolve(m));
      }, undefined, context.subscriptions);
      panel.webview.html = html(panel.webview, nonce);
      return 'opened';
    }),
    // Test hook: resolves with the first message the webview posted.
    vscode.commands.registerCommand('harnessSample.waitForMessage', () =>
      lastMessage ?? new Promise((resolve) => waiters.push(resolve)),
    ),
  );
}

function deactivate() {}

module.exports = { activate, deactivate };
