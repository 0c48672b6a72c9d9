// The .vsix ships only what runs: the bundles, the prompts, the icons and this platform's engine binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/** Entry names from a zip's central directory. */
function zipEntries(file: string): string[] {
  const zip = readFileSync(file);
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert.ok(eocd >= 0, 'a zip file');
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(offset), 0x02014b50);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extra = zip.readUInt16LE(offset + 30);
    const comment = zip.readUInt16LE(offset + 32);
    names.push(zip.toString('utf8', offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extra + comment;
  }
  return names;
}

test('npm run package builds a .vsix with only what runs', { timeout: 180_000 }, () => {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'svd-vsix-')), 'svd.vsix');
  const target = `${process.platform}-${process.arch}`;
  const built = spawnSync(process.execPath, ['scripts/package.mjs', '--target', target, '--out', out], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  const names = zipEntries(out);
  for (const needed of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/cli.js', 'extension/dist/engine.js', 'extension/dist/webview/review.js', 'extension/dist/webview/render.js', 'extension/prompts/math/generate.md', 'extension/media/svd.svg']) {
    assert.ok(names.includes(needed), `${needed} is shipped`);
  }
  assert.ok(names.some((n) => n.startsWith(`extension/node_modules/@node-llama-cpp/${target}/`)), "this platform's engine is shipped");
  assert.ok(names.some((n) => n.startsWith('extension/node_modules/node-llama-cpp/dist/')), 'the engine library is shipped');
  const unwanted = names.filter(
    (n) =>
      n.startsWith('extension/src/') ||
      n.startsWith('extension/test/') ||
      n.startsWith('extension/webview-ui/src/') ||
      n.endsWith('.map') ||
      n.endsWith('.vsix') ||
      /^extension\/node_modules\/(openai|zod|commander|csv-parse|typescript|esbuild|tsx|mocha|playwright-core)\//.test(n) ||
      (n.startsWith('extension/node_modules/@node-llama-cpp/') && !n.startsWith(`extension/node_modules/@node-llama-cpp/${target}/`)),
  );
  assert.deepEqual(unwanted.slice(0, 10), []);
});
