#!/usr/bin/env node
// Packages the extension for one platform (default: this machine's) into a single .vsix in the repository root.
// The embedded engine's native binaries are per platform, so each target gets its own package, carrying the
// prebuilt llama.cpp builds its machines may use (scripts/engine-packages.mjs: CPU, CUDA and Vulkan on x64 Linux
// and Windows, Metal on Apple silicon):
//   npm run package -- --target linux-x64   (darwin-arm64, win32-x64, ...)   [--out file.vsix]
//   --list        print the files the package would hold and their total size, write nothing
//   --no-fetch    take the engine packages from node_modules only; never ask the npm registry
// A target's engine package that `npm ci` did not install here (another platform's) is fetched with `npm pack`
// from the registry into node_modules/.cache/svd-engine-packages, once.
//
// vsce runs as a library, not through its CLI, for two reasons:
// - package.json's `files` lists what npm publishes for the `svd` CLI (dist, prompts); the .vsix is described by
//   .vscodeignore, and vsce's CLI refuses a project that has both. Here the manifest vsce sees has no `files`.
// - the engine packages of another platform are not in node_modules, so vsce cannot collect them: they are added to
//   its file list here, and the package's content types recomputed over the whole list.
// README.md's relative links stay relative: the repository URL is not one vsce knows how to rewrite them for.
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentTarget, enginePackagesFor } from './engine-packages.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const valueOf = (flag) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
const target = valueOf('--target') ?? currentTarget();
const out = valueOf('--out') === undefined ? undefined : path.resolve(valueOf('--out'));
const listOnly = argv.includes('--list');
const fetch = !argv.includes('--no-fetch');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const engineVersion = JSON.parse(readFileSync(path.join(root, 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8')).version;
const fetchedDir = path.join(root, 'node_modules', '.cache', 'svd-engine-packages', engineVersion);

const enginePackages = enginePackagesFor(target).map((name) => ({ name, dir: enginePackageDir(name) }));

execFileSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: root, stdio: listOnly ? 'ignore' : 'inherit' });

const vsce = require('@vscode/vsce/out/package.js');
const yazl = require(require.resolve('yazl', { paths: [path.dirname(require.resolve('@vscode/vsce/package.json'))] }));

const manifest = await vsce.readManifest(root);
delete manifest.files;
const vsix = out ?? path.join(root, `${pkg.name}-${pkg.version}-${target}.vsix`);
const options = {
  cwd: root,
  target,
  ignoreFile: path.join(root, '.vscodeignore'),
  dependencies: true,
  rewriteRelativeLinks: false,
  allowMissingRepository: true,
  skipLicense: true,
  packagePath: vsix,
};
const files = await withEnginePackages(await vsce.collect(manifest, options));

if (listOnly) {
  const bytes = files.reduce((sum, f) => sum + (f.contents !== undefined ? f.contents.length : statSync(f.localPath).size), 0);
  for (const f of files) console.log(f.path);
  console.error(`${target}: ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB before compression; engine: ${enginePackages.map((p) => p.name).join(', ')}`);
  process.exit(0);
}

// One .vsix in the repository root: the previous ones go, unless the package is written elsewhere (--out).
if (!out) for (const file of readdirSync(root)) if (file.endsWith('.vsix')) rmSync(path.join(root, file));
await vsce.printAndValidatePackagedFiles(files, root, manifest, options);
await writeZip(files, vsix);
console.log(`packaged ${files.length} files, ${(statSync(vsix).size / 1e6).toFixed(1)} MB; engine: ${enginePackages.map((p) => p.name).join(', ')}`);
console.log(vsix);

/** Where the package's files are: installed here (this platform's), else fetched from the registry once. */
function enginePackageDir(name) {
  const installed = path.join(root, 'node_modules', '@node-llama-cpp', name);
  if (versionOf(installed) === engineVersion) return installed;
  const fetched = path.join(fetchedDir, name, 'package');
  if (versionOf(fetched) === engineVersion) return fetched;
  const spec = `@node-llama-cpp/${name}@${engineVersion}`;
  if (!fetch) throw new Error(`${spec} is not installed and --no-fetch was given: run npm ci on a ${target} machine, or package without --no-fetch`);
  const into = path.join(fetchedDir, name);
  rmSync(into, { recursive: true, force: true });
  mkdirSync(into, { recursive: true });
  console.error(`fetching ${spec} (not installed on this platform) with npm pack`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const tarball = execFileSync(npm, ['pack', spec, '--silent', '--pack-destination', into], { encoding: 'utf8', shell: process.platform === 'win32' })
    .trim()
    .split('\n')
    .at(-1);
  execFileSync('tar', ['-xzf', path.join(into, tarball), '-C', into]);
  if (versionOf(fetched) !== engineVersion) throw new Error(`${spec}: the fetched package is not version ${engineVersion}`);
  return fetched;
}

function versionOf(dir) {
  const file = path.join(dir, 'package.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : undefined;
}

/** vsce's files plus every file of the target's engine packages, with content types over the whole list. */
async function withEnginePackages(collected) {
  const meta = new Set(['extension.vsixmanifest', '[Content_Types].xml']);
  const added = enginePackages.flatMap(({ name, dir }) =>
    walk(dir).map((localPath) => ({
      path: `extension/node_modules/@node-llama-cpp/${name}/${path.relative(dir, localPath).split(path.sep).join('/')}`,
      localPath,
      mode: statSync(localPath).mode,
    })),
  );
  const body = [...collected.filter((f) => !meta.has(f.path)), ...added];
  const contentTypes = await vsce.toContentTypes(body);
  return [
    ...collected.filter((f) => f.path === 'extension.vsixmanifest'),
    { path: '[Content_Types].xml', contents: Buffer.from(contentTypes, 'utf8') },
    ...body,
  ];
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : entry.isFile() ? [full] : [];
  });
}

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
