// The API key never reaches a file or an output stream, whatever the server does with it: echoed in a 401 body, in
// a 5xx body, or in the model's own text. Every file under the test's folder (runs, cache, train/) and every byte the
// CLI prints is searched for it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT_CODES } from '../../src/core/base/errors';
import { ROOT, runCli } from '../fixtures/cli';
import { methodHandler, startScriptedServer, type ChatHandler, type ScriptedServer, type SeedScript } from '../fixtures/scripted-server';

const PROMPTS = path.join(ROOT, 'test/fixtures/prompts');
const FAKE_TRAINER = path.join(ROOT, 'test/fixtures/fake-trainer.py');

// Regex metacharacters, a quote and a backslash (escaped differently in JSON), around a core with none of them: a
// search for the core finds the key in any escaping.
const CORE = 'e2eKEYcore7f3a91';
const KEY = `sk-${CORE}.+*?^$(x)|[y]"\\z`;
const OTHER_KEY = 'sk-openai-env-key-5b1c77d0';
const PASSWORD = 'pa55-in-the-url-c9d2';

const svd = (args: string[], env: NodeJS.ProcessEnv) => runCli(args, { env });

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Fails naming the file and the neighbourhood of the first secret found. */
function assertNoSecret(where: string, text: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    const at = text.indexOf(secret);
    assert.equal(at, -1, `${where} holds a secret: ...${text.slice(Math.max(0, at - 80), at + 80)}...`);
  }
}

const SECRETS = [CORE, OTHER_KEY, PASSWORD];

describe('secrets', () => {
  const scripts: SeedScript[] = [
    { question: 'What is 2 + 2?' },
    { question: 'What is 3 + 5?', answers: ['wrong', 'right'] },
    { question: 'What is 9 - 1?' },
  ];
  let dir: string;
  let seeds: string;
  let echoing: ScriptedServer;
  const outputs: { where: string; text: string }[] = [];

  before(async () => {
    const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    dir = mkdtempSync(path.join(os.tmpdir(), 'svd-secrets-'));
    seeds = path.join(dir, 'seeds.jsonl');
    writeFileSync(seeds, scripts.map((s, i) => JSON.stringify({ id: `q${i}`, domain: 'math', question: s.question })).join('\n') + '\n');
    // A model that repeats the key in its thinking, behind a server that quotes it in its error bodies.
    const method = methodHandler(scripts);
    const parrot: ChatHandler = async (call) => {
      const reply = await method(call);
      return { ...reply, thinking: `${reply.thinking ?? ''} (the caller's key is ${call.bearer ?? 'none'})` };
    };
    echoing = await startScriptedServer({ models: ['scripted'], apiKey: KEY, echoKey: true, handler: parrot });
  });
  after(async () => {
    await echoing?.close();
  });

  const runArgs = (runsDir: string, url: string) => [
    'run', seeds, '--base-url', url, '--model', 'scripted', '--runs-dir', runsDir, '--prompts', PROMPTS,
    '--candidates', '2', '--votes', '1', '--retries', '0', '--concurrency', '1', '--events',
  ];

  test('a key echoed in a 401 body reaches neither the run, the printed error nor --events', async () => {
    const wrong = await startScriptedServer({ models: ['scripted'], apiKey: 'sk-the-key-the-server-wants', echoKey: true });
    try {
      const r = await svd(runArgs(path.join(dir, 'runs'), wrong.url), { SVD_API_KEY: KEY, OPENAI_API_KEY: OTHER_KEY });
      outputs.push({ where: 'svd run (401) stdout', text: r.stdout }, { where: 'svd run (401) stderr', text: r.stderr });
      assert.equal(r.code, EXIT_CODES.auth, r.stderr);
      assert.match(r.stderr, /401/);
      assert.match(r.stdout, /"type":"error","code":"auth"/);
      assertNoSecret('the printed error', r.stderr, SECRETS);
      assertNoSecret('--events', r.stdout, SECRETS);
      for (const file of filesUnder(path.join(dir, 'runs'))) assertNoSecret(file, readFileSync(file, 'utf8'), SECRETS);
    } finally {
      await wrong.close();
    }
  });

  test('a key the model repeats and a 5xx body quotes is redacted in the events and the cache', async () => {
    echoing.inject({ kind: '500', match: 'correctness' });
    const r = await svd([...runArgs(path.join(dir, 'runs'), echoing.url), '--run', 'echo'], { SVD_API_KEY: KEY, OPENAI_API_KEY: OTHER_KEY });
    outputs.push({ where: 'svd run stdout', text: r.stdout }, { where: 'svd run stderr', text: r.stderr });
    assert.equal(r.code, 0, r.stderr);
    const events = readFileSync(path.join(dir, 'runs', 'echo', 'events.jsonl'), 'utf8');
    assert.match(events, /"type":"error"/, 'the 500 was recorded as a seed error');
    assert.match(events, /\[redacted\]/, 'the echoes were recorded, without the key');
    assert.equal(echoing.pendingFaults, 0);
  });

  test('svd train: a local trainer does not inherit the key, and what it prints is redacted in train.log', async () => {
    const command = JSON.stringify(['python3', FAKE_TRAINER, '--data', '{data}', `--token=${KEY}`]);
    const r = await svd(['train', path.join(dir, 'runs', 'echo'), '--trainer', 'custom', '--command', command], {
      SVD_API_KEY: KEY,
      OPENAI_API_KEY: OTHER_KEY,
      FAKE_PRINT_ENV: '1',
      FAKE_EXIT: '3',
    });
    outputs.push({ where: 'svd train stdout', text: r.stdout }, { where: 'svd train stderr', text: r.stderr });
    assert.equal(r.code, 3, r.stderr);
    const printed = /^ENV (.*)$/m.exec(r.stderr);
    assert.ok(printed, r.stderr);
    const env = JSON.parse(printed[1]!) as Record<string, string>;
    assert.equal(env.SVD_API_KEY, undefined);
    assert.equal(env.OPENAI_API_KEY, undefined);
    assert.ok(env.PATH, 'the rest of the environment is inherited');
    const log = readFileSync(path.join(dir, 'runs', 'echo', 'train', 'train.log'), 'utf8');
    assert.match(log, /--token=\[redacted\]/, 'a key passed on purpose in the arguments is redacted in the log');
  });

  test('a base URL with user:password@ is stored and printed without them, and sent as Basic auth', async () => {
    const plain = await startScriptedServer({ models: ['scripted'], handler: methodHandler(scripts) });
    try {
      const url = plain.url.replace('http://', `http://svd-user:${PASSWORD}@`);
      const r = await svd([...runArgs(path.join(dir, 'runs'), url), '--run', 'basic'], {});
      outputs.push({ where: 'svd run (basic) stdout', text: r.stdout }, { where: 'svd run (basic) stderr', text: r.stderr });
      assert.equal(r.code, 0, r.stderr);
      const manifest = JSON.parse(readFileSync(path.join(dir, 'runs', 'basic', 'run.json'), 'utf8')) as { model: { baseURL: string } };
      assert.equal(manifest.model.baseURL, plain.url);
      const expected = `Basic ${Buffer.from(`svd-user:${PASSWORD}`).toString('base64')}`;
      assert.ok(plain.requests.length > 0);
      assert.ok(plain.requests.every((request) => request.authorization === expected), 'every request carried the credentials');

      const both = await svd([...runArgs(path.join(dir, 'runs'), url), '--run', 'both'], { SVD_API_KEY: KEY });
      outputs.push({ where: 'svd run (both) stdout', text: both.stdout }, { where: 'svd run (both) stderr', text: both.stderr });
      assert.equal(both.code, EXIT_CODES.bad_config, both.stderr);
      assert.match(both.stderr, /credentials/);
    } finally {
      await plain.close();
    }
  });

  test('no file under the runs, the cache or train/, and no output, holds a secret', () => {
    const files = filesUnder(dir).filter((file) => file !== seeds);
    assert.ok(files.some((file) => file.endsWith(path.join('cache', 'samples.jsonl'))));
    assert.ok(files.some((file) => file.endsWith(path.join('train', 'train.log'))));
    assert.ok(files.some((file) => file.endsWith('training.json')));
    for (const file of files) assertNoSecret(file, readFileSync(file, 'utf8'), SECRETS);
    assert.ok(outputs.length >= 6);
    for (const { where, text } of outputs) assertNoSecret(where, text, SECRETS);
  });
});
