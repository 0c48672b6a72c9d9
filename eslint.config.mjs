// The project's layers, checked as you type: each folder imports only what lies below it.
//   core/base <- core/record <- core/method <- core/check, core/training <- core/experiments
//   core <- engine (base only), protocol (pure core only) <- cli, vscode;  webview-ui <- protocol only
// Only src/vscode imports `vscode`; only core/method/openaiClient.ts imports `openai`; only src/engine loads
// llama.cpp; protocol and webview code import nothing from Node.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import { builtinModules } from 'node:module';

const NODE_BUILTINS = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

/** `from` folders that `target` may not import. Paths are relative to the repository root. */
const zone = (target, from, message) => ({ target, from, message });
const CORE_ABOVE = {
  base: ['record', 'method', 'check', 'training', 'experiments'],
  record: ['method', 'check', 'training', 'experiments'],
  method: ['check', 'training', 'experiments'],
  check: ['training', 'experiments'],
  training: ['check', 'experiments'],
};
const OUTSIDE_CORE = ['./src/cli', './src/vscode', './src/engine', './src/protocol', './webview-ui'];

const zones = [
  ...Object.entries(CORE_ABOVE).filter(([, above]) => above.length > 0).map(([layer, above]) =>
    zone(`./src/core/${layer}`, above.map((name) => `./src/core/${name}`), `core/${layer} sits below ${above.join(', ')}: move the code down, or pass what it needs in.`),
  ),
  zone('./src/core', OUTSIDE_CORE, 'core is the method itself: it imports no other layer.'),
  zone('./src/engine', ['./src/cli', './src/vscode', './src/protocol', './webview-ui', './src/core/record', './src/core/method', './src/core/check', './src/core/training', './src/core/experiments'], 'the engine is a model server: it knows only core/base.'),
  zone('./src/protocol', ['./src/cli', './src/vscode', './src/engine', './webview-ui'], 'protocol is shared by both ends: it imports neither.'),
  // The webview's bundle takes protocol whole: only core modules that need neither Node nor all of zod.
  {
    target: './src/protocol',
    from: './src/core',
    except: ['./base/types.ts', './base/errors.ts', './record/events.ts', './record/runview.ts', './method/trace.ts', './method/cost.ts', './record/audit.ts'],
    message: 'protocol reaches into core only for pure modules that the webview can bundle.',
  },
  zone(['./src/protocol/review.ts', './src/protocol/reviewSeeds.ts'], ['./src/core/record/audit.ts'], 'core/record/audit takes zod whole: only the host-side feed may import it, or the webview bundle grows by all of zod.'),
  zone('./src/cli', ['./src/vscode', './webview-ui'], 'the CLI runs without the editor.'),
  zone('./src/vscode', ['./src/cli', './webview-ui'], 'the editor runs the CLI as a process (dist/cli.js), never its modules; the webview is a bundle of its own.'),
  zone('./webview-ui', ['./src/core', './src/cli', './src/vscode', './src/engine'], 'webview code speaks to the host only through src/protocol.'),
];

const restrictedImports = (extra = []) => ({
  paths: [
    { name: 'vscode', message: 'Only src/vscode imports vscode: pass what the code needs through a small interface.' },
    { name: 'openai', allowTypeImports: true, message: 'Only core/method/openaiClient.ts builds OpenAI clients.' },
    { name: 'node-llama-cpp', message: 'Only src/engine loads llama.cpp, in its own child process.' },
    ...extra,
  ],
});
/** The restricted list with one name let through (for the module or folder that owns it). */
const allowing = (name) => ({ paths: restrictedImports().paths.filter((p) => p.name !== name) });
const pureCode = restrictedImports(NODE_BUILTINS.map((name) => ({ name, message: 'This code also runs in the webview: no Node modules.' })));

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.test-cache/**', 'test-results/**', 'test/vscode/sample/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts', '**/*.mjs', '**/*.js'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.mts', '.js', '.mjs', '.json'] })],
      // How to read an imported file, for the rules that follow imports (cycles).
      'import-x/extensions': ['.ts', '.mts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.mts'] },
    },
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones }],
      'import-x/no-default-export': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-imports': ['error', restrictedImports()],
    },
  },
  // The one module that makes OpenAI clients, and the only folders that import vscode or load llama.cpp.
  { files: ['src/core/method/openaiClient.ts'], rules: { 'no-restricted-imports': ['error', allowing('openai')] } },
  { files: ['src/vscode/**', 'test/vscode/**'], rules: { 'no-restricted-imports': ['error', allowing('vscode')] } },
  { files: ['webview-ui/**', 'test/webview/**'], languageOptions: { globals: { ...globals.browser } } },
  { files: ['test/vscode/**'], languageOptions: { globals: { ...globals.mocha } } },
  { files: ['src/engine/**', 'test/**', 'bench/**'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['src/protocol/**', 'webview-ui/**'], rules: { 'no-restricted-imports': ['error', pureCode] } },
  // Config files export their configuration by default, as their tools require.
  { files: ['eslint.config.mjs', '.vscode-test.mjs', 'esbuild.mjs'], rules: { 'import-x/no-default-export': 'off' } },
);
