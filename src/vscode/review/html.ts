// The review panel's HTML, built by the host on every load. Pure (no DOM, no node): the host passes the webview's
// CSP source, a fresh nonce and the URIs of the built bundle (dist/webview/review.js and review.css).
//
// The policy allows one script (the nonce), stylesheets and fonts from the extension's own files, and nothing else:
// no inline script or style, no connections, no frames, no images from anywhere but the extension.

export interface ReviewHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** Fresh for every load: `reviewNonce()`, or 16+ random bytes in base64. */
  nonce: string;
  /** `webview.asWebviewUri(<extension>/dist/webview/review.js)`, as a string. */
  scriptUri: string;
  /** `webview.asWebviewUri(<extension>/dist/webview/review.css)`, as a string. */
  styleUri: string;
  /** The document title (the run id). */
  title?: string;
}

const NONCE = /^[A-Za-z0-9+/_-]{16,}={0,2}$/;
// A CSP source list: scheme/host sources and wildcards, never quotes, semicolons or commas.
// One or more sources, as VS Code gives them (e.g. `'self' https://*.vscode-cdn.net`): host sources or 'self'.
const CSP_SOURCE = /^(?:'self'|[A-Za-z0-9+.\-*:/[\]@%_~]+)(?: (?:'self'|[A-Za-z0-9+.\-*:/[\]@%_~]+))*$/;

/** A nonce from the platform's CSPRNG (Web Crypto, in Node 20 and browsers alike). */
export function reviewNonce(): string {
  const bytes = new Uint8Array(18);
  globalThis.crypto.getRandomValues(bytes);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function reviewCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
    "connect-src 'none'",
    "frame-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** @throws Error when the nonce or the CSP source could break out of the policy. */
export function reviewHtml(options: ReviewHtmlOptions): string {
  const { cspSource, nonce, scriptUri, styleUri } = options;
  if (!NONCE.test(nonce)) throw new Error('reviewHtml: the nonce must be 16+ base64 characters');
  if (!CSP_SOURCE.test(cspSource)) throw new Error(`reviewHtml: not a CSP source: ${cspSource}`);
  const title = escapeHtml(options.title ? `Review: ${options.title}` : 'Review');
  // The stylesheet's id lets @vscode-elements' icon component load codicons inside its shadow root.
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(reviewCsp(cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${title}</title>
<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${escapeHtml(styleUri)}">
</head>
<body>
<div id="app" class="app"><p class="boot">Loading the run…</p></div>
<script nonce="${escapeHtml(nonce)}" src="${escapeHtml(scriptUri)}"></script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
