// Bundles each entry point into dist/. `--watch` rebuilds on change, `--production` minifies.
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // Native and ESM-only engine code stays outside the bundle and is loaded at run time.
  external: ['vscode', 'node-llama-cpp'],
};

const entries = [
  { ...node, entryPoints: ['src/vscode/extension.ts'], outfile: 'dist/extension.js' },
  { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { ...node, entryPoints: ['src/engine/server.ts'], outfile: 'dist/engine.js' },
  // The review webview: its script, its stylesheet (dist/webview/review.css) and the codicon font beside them, and
  // the text renderer (dist/webview/render.js), which the panel loads once its first rows are painted.
  {
    entryPoints: { review: 'webview-ui/src/main.ts', render: 'webview-ui/src/renderer.ts' },
    outdir: 'dist/webview',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: production,
    sourcemap: !production,
    logLevel: 'warning',
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file' },
    assetNames: '[name]',
  },
];

if (watch) {
  for (const entry of entries) await (await esbuild.context(entry)).watch();
} else {
  await Promise.all(entries.map((entry) => esbuild.build(entry)));
}
