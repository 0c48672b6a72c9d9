// The .vsix ships only what runs: the bundles, the prompts, the icons and the target's engine builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';

const ROOT = path.resolve(__dirname, '../..');

/** A zip's entries from its central directory: each name, and its content on demand. */
function zipEntries(file: string): { names: string[]; read(name: string): string } {
  const zip = readFileSync(file);
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert.ok(eocd >= 0, 'a zip file');
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  const entries = new Map<string, { method: number; size: number; local: number }>();
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(offset), 0x02014b50);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extra = zip.readUInt16LE(offset + 30);
    const comment = zip.readUInt16LE(offset + 32);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    entries.set(name, { method: zip.readUInt16LE(offset + 10), size: zip.readUInt32LE(offset + 20), local: zip.readUInt32LE(offset + 42) });
    offset += 46 + nameLength + extra + comment;
  }
  const read = (name: string): string => {
    const entry = entries.get(name);
    assert.ok(entry, `${name} is in the zip`);
    const start = entry.local + 30 + zip.readUInt16LE(entry.local + 26) + zip.readUInt16LE(entry.local + 28);
    const data = zip.subarray(start, start + entry.size);
    return (entry.method === 8 ? inflateRawSync(data) : data).toString('utf8');
  };
  return { names: [...entries.keys()], read };
}

const ENGINE = path.join(ROOT, 'scripts/engine-packages.mjs');

/** The target's engine packages, as the packaging script reads them. */
async function enginePackages(target: string): Promise<string[]> {
  const { enginePackagesFor } = (await import(ENGINE)) as { enginePackagesFor: (target: string) => string[] };
  return enginePackagesFor(target);
}

test("each target carries node-llama-cpp's builds for its machines, all of them real packages of its version", async () => {
  const { ENGINE_PACKAGES } = (await import(ENGINE)) as { ENGINE_PACKAGES: Record<string, string[]> };
  const library = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/node-llama-cpp/package.json'), 'utf8')) as {
    version: string;
    optionalDependencies: Record<string, string>;
  };
  for (const [target, packages] of Object.entries(ENGINE_PACKAGES)) {
    for (const name of packages) assert.equal(library.optionalDependencies[`@node-llama-cpp/${name}`], library.version, `${target}: ${name}`);
  }
  // GPUs where VS Code runs on them: CUDA and Vulkan beside the CPU build on x64, Metal on Apple silicon.
  assert.deepEqual(ENGINE_PACKAGES['linux-x64'], ['linux-x64', 'linux-x64-cuda', 'linux-x64-vulkan']);
  assert.deepEqual(ENGINE_PACKAGES['win32-x64'], ['win-x64', 'win-x64-cuda', 'win-x64-vulkan']);
  assert.deepEqual(ENGINE_PACKAGES['darwin-arm64'], ['mac-arm64-metal']);
  await assert.rejects(enginePackages('sunos-x64'), /unknown target "sunos-x64": the embedded engine has binaries for linux-x64, /);
});

test('npm run package builds a .vsix with only what runs, and this target\'s engine builds', { timeout: 600_000 }, async () => {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'svd-vsix-')), 'svd.vsix');
  const target = `${process.platform}-${process.arch}`;
  const engine = await enginePackages(target);
  // No registry: this platform's builds are installed by npm ci.
  const built = spawnSync(process.execPath, ['scripts/package.mjs', '--target', target, '--out', out, '--no-fetch'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  const zip = zipEntries(out);
  const names = zip.names;
  for (const needed of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/cli.js', 'extension/dist/engine.js', 'extension/dist/webview/review.js', 'extension/dist/webview/render.js', 'extension/prompts/math/generate.md', 'extension/media/svd.svg']) {
    assert.ok(names.includes(needed), `${needed} is shipped`);
  }
  for (const name of engine) {
    assert.ok(names.includes(`extension/node_modules/@node-llama-cpp/${name}/package.json`), `${name} is shipped`);
    assert.ok(names.some((n) => n.startsWith(`extension/node_modules/@node-llama-cpp/${name}/bins/`) && n.endsWith('llama-addon.node')), `${name}'s binary is shipped`);
  }
  assert.ok(names.some((n) => n.startsWith('extension/node_modules/node-llama-cpp/dist/')), 'the engine library is shipped');
  // The content types cover the files added beside vsce's own.
  const types = zip.read('[Content_Types].xml');
  const content = names.filter((n) => n.startsWith('extension/'));
  for (const extension of new Set(content.map((n) => path.extname(n).toLowerCase()).filter(Boolean))) {
    assert.ok(types.includes(`Extension="${extension}"`), `content type for ${extension}`);
  }
  const shipped = (n: string) => engine.some((name) => n.startsWith(`extension/node_modules/@node-llama-cpp/${name}/`));
  const unwanted = names.filter(
    (n) =>
      n.startsWith('extension/src/') ||
      n.startsWith('extension/test/') ||
      n.startsWith('extension/webview-ui/src/') ||
      n.endsWith('.map') ||
      n.endsWith('.vsix') ||
      /^extension\/node_modules\/(openai|zod|commander|csv-parse|typescript|esbuild|tsx|mocha|playwright-core)\//.test(n) ||
      (n.startsWith('extension/node_modules/@node-llama-cpp/') && !shipped(n)),
  );
  assert.deepEqual(unwanted.slice(0, 10), []);
});
