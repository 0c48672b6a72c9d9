#!/usr/bin/env node
// Packages the extension for one platform (default: this machine's) into a single .vsix in the repository root.
// The embedded engine's native binary is per platform, so each target gets its own package:
//   npm run package -- --target linux-x64   (darwin-arm64, win32-x64, ...)   [--out file.vsix]
//
// vsce runs as a library, not through its CLI, for two reasons:
// - package.json's `files` lists what npm publishes for the `svd` CLI (dist, prompts); the .vsix is described by
//   .vscodeignore, and vsce's CLI refuses a project that has both. Here the manifest vsce sees has no `files`.
// - .vscodeignore names the target's engine package as ${TARGET}: the filled-in copy goes to a temporary ignore
//   file, so the tracked .vscodeignore is never rewritten.
// README.md's relative links stay relative: the repository URL is not one vsce knows how to rewrite them for.
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const argTarget = process.argv.indexOf('--target');
const target = argTarget > 0 ? process.argv[argTarget + 1] : `${process.platform}-${process.arch}`;
const out = process.argv.includes('--out') ? path.resolve(process.argv[process.argv.indexOf('--out') + 1]) : undefined;
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

execFileSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: root, stdio: 'inherit' });
if (!existsSync(path.join(root, 'node_modules', '@node-llama-cpp', target))) {
  console.warn(`warning: @node-llama-cpp/${target} is not installed: the package will have no embedded engine for ${target}; users will be offered a server endpoint instead`);
}
// One .vsix in the repository root: the previous ones go, unless the package is written elsewhere (--out).
if (!out) for (const file of readdirSync(root)) if (file.endsWith('.vsix')) rmSync(path.join(root, file));

const vsce = require('@vscode/vsce/out/package.js');
const yazl = require(require.resolve('yazl', { paths: [path.dirname(require.resolve('@vscode/vsce/package.json'))] }));

const scratch = mkdtempSync(path.join(os.tmpdir(), 'svd-package-'));
const vsix = out ?? path.join(root, `${pkg.name}-${pkg.version}-${target}.vsix`);
try {
  const ignoreFile = path.join(scratch, '.vscodeignore');
  writeFileSync(ignoreFile, readFileSync(path.join(root, '.vscodeignore'), 'utf8').replaceAll('${TARGET}', target));
  const manifest = await vsce.readManifest(root);
  delete manifest.files;
  const options = {
    cwd: root,
    target,
    ignoreFile,
    dependencies: true,
    rewriteRelativeLinks: false,
    allowMissingRepository: true,
    skipLicense: true,
    packagePath: vsix,
  };
  const files = await vsce.collect(manifest, options);
  await vsce.printAndValidatePackagedFiles(files, root, manifest, options);
  await writeZip(files, vsix);
  console.log(`packaged ${files.length} files, ${(statSync(vsix).size / 1e6).toFixed(1)} MB`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(vsix);

/** The .vsix is a zip of vsce's file list: in-memory entries (manifests, rewritten README) and files on disk. */
function writeZip(files, file) {
  rmSync(file, { force: true });
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    for (const f of files) {
      if (f.contents !== undefined) {
        zip.addBuffer(typeof f.contents === 'string' ? Buffer.from(f.contents, 'utf8') : f.contents, f.path, { mode: f.mode });
      } else {
        zip.addFile(f.localPath, f.path, { mode: f.mode });
      }
    }
    zip.end();
    const stream = createWriteStream(file);
    zip.outputStream.pipe(stream);
    zip.outputStream.once('error', reject);
    stream.once('error', reject);
    stream.once('finish', resolve);
  });
}
