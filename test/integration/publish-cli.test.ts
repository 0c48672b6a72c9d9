// `svd publish`: the folder (card, svd_run.json, data) from --dry-run, then an upload to a local stand-in of the
// Hub's API that receives exactly those files, with the token only in its Authorization header and nowhere on disk.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRunConfig } from '../../src/core/base/config';
import { createAnswerChecker } from '../../src/core/check/index';
import { runPipeline } from '../../src/core/method/pipeline';
import type { SvdRunProvenance } from '../../src/core/training/publish';
import { ROOT, runCli } from '../fixtures/cli';
import { startHubServer, type HubServer } from '../fixtures/hub-server';
import { methodHandler, startScriptedServer, type SeedScript } from '../fixtures/scripted-server';

const TOKEN = 'hf_TestTokenThatMustNeverBeWritten0123456789';
const SEEDS: SeedScript[] = [{ question: 'What is 2 + 2?' }, { question: 'What is 3 + 5?', answers: ['wrong', 'right'] }, { question: 'Name a prime.' }];

/** Every file under `dir` whose bytes hold `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const file = path.join(d, name);
      const stat = statSync(file, { throwIfNoEntry: false });
      if (!stat) continue;
      if (stat.isDirectory()) walk(file);
      else if (stat.isFile() && readFileSync(file).includes(needle)) found.push(file);
    }
  };
  walk(dir);
  return found;
}

describe('svd publish', () => {
  let dir: string;
  let home: string;
  let runDir: string;
  let hub: HubServer;

  before(async () => {
    assert.equal(spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT }).status, 0);
    dir = mkdtempSync(path.join(os.tmpdir(), 'svd-publish-'));
    home = path.join(dir, 'home');
    mkdirSync(home);
    const server = await startScriptedServer({ handler: methodHandler(SEEDS) });
    const seeds = path.join(dir, 'seeds.jsonl');
    writeFileSync(seeds, SEEDS.map((s, i) => JSON.stringify({ id: `q${i}`, domain: 'math', question: s.question, answer: String(i * 10 + 7) })).join('\n') + '\n');
    const checker = createAnswerChecker();
    try {
      const result = await runPipeline({
        checker,
        seedsFile: seeds,
        runsDir: path.join(dir, 'runs'),
        runId: 'r',
        config: parseRunConfig({ promptsDir: path.join(ROOT, 'test/fixtures/prompts'), candidates: 2, votes: 1 }),
        endpoint: { baseURL: server.url, model: 'Qwen/Qwen3-0.6B', engine: 'server' },
      });
      runDir = result.dir;
    } finally {
      await checker.close();
      await server.close();
    }
    hub = await startHubServer({ token: TOKEN, echoToken: true });
  });
  after(async () => {
    await hub?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const publish = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(['publish', runDir, '--repo', 'me/svd-math', ...args], { env: { HOME: home, HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', ...env } });

  test('--dry-run writes the card, svd_run.json and the data into <run>/publish and prints the path', async () => {
    const r = await publish(['--dry-run', '--license', 'cc-by-4.0', '--source-dataset', 'openai/gsm8k']);
    assert.equal(r.code, 0, r.stderr);
    const folder = path.join(runDir, 'publish');
    assert.equal(r.stdout.trim().split('\n').pop(), folder);
    assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('file\t')).map((l) => l.slice(5)), ['README.md', 'svd_run.json', 'data/svd.jsonl']);
    const card = readFileSync(path.join(folder, 'README.md'), 'utf8');
    const yaml = card.split('---\n')[1]!;
    assert.match(yaml, /^license: "cc-by-4.0"$/m);
    assert.match(yaml, /^task_categories:\n- text-generation$/m);
    assert.match(yaml, /^tags:\n(- .*\n)*- "synthetic"\n/m);
    assert.match(yaml, /^size_categories:\n- "n<1K"$/m);
    assert.match(yaml, /^source_datasets:\n- "openai\/gsm8k"$/m);
    assert.match(yaml, /^configs:\n- config_name: default\n {2}data_files:\n {2}- split: train\n {4}path: "data\/svd.jsonl"$/m);
    assert.match(card, /Qwen\/Qwen3-0\.6B wrote 2 candidate solution\(s\)/);
    const provenance = JSON.parse(readFileSync(path.join(folder, 'svd_run.json'), 'utf8')) as SvdRunProvenance & {
      sampling: { generation: { temperature: number } };
      audit: { checked: number } | null;
    };
    assert.equal(provenance.generator.model, 'Qwen/Qwen3-0.6B');
    assert.equal(provenance.judge.model, 'Qwen/Qwen3-0.6B');
    assert.equal(provenance.candidates, 2);
    assert.equal(provenance.votes, 1);
    assert.equal(provenance.selection, 'first_valid');
    assert.equal(provenance.sampling.generation.temperature, 0.8);
    assert.equal(provenance.seedFile.sha256.length, 64);
    assert.deepEqual(provenance.seedFile.sourceDatasets, ['openai/gsm8k']);
    assert.match(provenance.prompts?.['math/generate'] ?? '', /\{\{question\}\}/);
    assert.equal(provenance.tool.version, '0.1.0');
    assert.ok(provenance.audit && provenance.audit.checked > 0, 'the seeds carried gold: the audit is there');
    const rows = readFileSync(path.join(folder, 'data/svd.jsonl'), 'utf8').trim().split('\n');
    assert.equal(rows.length, provenance.export.rows);
    assert.match(rows[0]!, /<think>/);
    assert.equal(hub.requests.length, 0, 'a dry run sends nothing');
  });

  test('uploads the folder to the Hub: the repo, then one commit with exactly those files; the token on no disk', async () => {
    const r = await publish(['--hub-url', hub.url, '--license', 'apache-2.0', '--private', '--val-fraction', '0.5'], { HF_TOKEN: TOKEN });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^created\\t${hub.url}/datasets/me/svd-math$`, 'm'));
    const repo = hub.repos.get('dataset:me/svd-math')!;
    assert.ok(repo, 'a dataset repo was created');
    assert.equal(repo.private, true);
    assert.equal(repo.license, 'apache-2.0');
    const folder = path.join(runDir, 'publish');
    const sent = [...repo.files.keys()].sort();
    assert.deepEqual(sent, ['README.md', 'data/svd.train.jsonl', 'data/svd.val.jsonl', 'svd_run.json']);
    for (const file of sent) assert.deepEqual(repo.files.get(file), readFileSync(path.join(folder, file)), file);
    assert.ok(hub.requests.some((q) => q.path.endsWith('.git/info/lfs/objects/batch')), 'the data went by LFS');
    for (const request of hub.requests.filter((q) => !q.path.startsWith('/lfs-upload/'))) assert.equal(request.authorization, `Bearer ${TOKEN}`);
    assert.deepEqual(readdirSync(path.join(folder, 'data')).sort(), ['svd.train.jsonl', 'svd.val.jsonl'], 'the earlier unsplit file is gone');
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(TOKEN));
    // The temporary HOME, the run (its record, its publish folder) and the seeds: the token is in none of them.
    assert.deepEqual(filesHolding(dir, TOKEN), []);

    const again = await publish(['--hub-url', hub.url, '--license', 'apache-2.0'], { HF_TOKEN: TOKEN });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^updated\t/m);
    assert.equal(repo.commits.length, 2);
  });

  test('no token, or one the Hub refuses: exit 6, and the refused token is not repeated', async () => {
    const none = await publish(['--hub-url', hub.url]);
    assert.equal(none.code, 6);
    assert.match(none.stderr, /HF_TOKEN/);
    const wrong = 'hf_WrongTokenThatTheHubRefuses9876543210';
    const refused = await publish(['--hub-url', hub.url], { HF_TOKEN: wrong });
    assert.equal(refused.code, 6, refused.stderr);
    assert.match(refused.stderr, /HTTP 401/);
    assert.doesNotMatch(refused.stdout + refused.stderr, new RegExp(wrong));
    assert.deepEqual(filesHolding(dir, wrong), []);
  });

  test('a bad repo id is refused before anything is written', async () => {
    const bad = await runCli(['publish', runDir, '--repo', 'no-namespace', '--dry-run', '--out', path.join(dir, 'bad')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /NAMESPACE\/NAME/);
    assert.throws(() => statSync(path.join(dir, 'bad')));
  });
});
