// `svd run` over several servers as a user runs it: --base-url twice, --endpoints FILE with a key named by its
// environment variable, the servers in --events progress lines and in `svd status`, and a run id that does not
// depend on which servers served it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT_CODES } from '../../src/core/base/errors';
import { RunProgressEvent } from '../../src/protocol/cliEvents';
import { ROOT, runCli } from '../fixtures/cli';
import { methodHandler, rightValue, startScriptedServer, type ScriptedServer, type SeedScript } from '../fixtures/scripted-server';

const PROMPTS = path.join(ROOT, 'test/fixtures/prompts');
const KEY = 'sk-replica-b-0123456789';
const SCRIPTS: SeedScript[] = Array.from({ length: 6 }, (_, i) => ({ question: `Endpoint seed ${i}: what is ${i} * 2?` }));

describe('svd run over several servers', () => {
  let dir: string;
  let seeds: string;
  let a: ScriptedServer;
  let b: ScriptedServer;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'svd-endpoints-cli-'));
    seeds = path.join(dir, 'seeds.jsonl');
    writeFileSync(seeds, SCRIPTS.map((s, i) => JSON.stringify({ id: `e${i}`, domain: 'math', question: s.question })).join('\n') + '\n');
    a = await startScriptedServer({ models: ['scripted'], handler: methodHandler(SCRIPTS), latencyMs: 5 });
    b = await startScriptedServer({ models: ['scripted'], handler: methodHandler(SCRIPTS), latencyMs: 5, apiKey: KEY });
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('--endpoints FILE: both servers serve, each with its own key; status shows them; the id ignores the servers', async () => {
    const file = path.join(dir, 'endpoints.jsonl');
    writeFileSync(file, `{"url": "${a.url}"}\n{"url": "${b.url}", "apiKeyEnv": "REPLICA_B_KEY", "weight": 2}\n`);
    const runsDir = path.join(dir, 'runs');
    const common = ['--model', 'scripted', '--prompts', PROMPTS, '--runs-dir', runsDir, '--concurrency', '4'];
    const ran = await runCli(['run', seeds, '--endpoints', file, ...common, '--events'], { env: { REPLICA_B_KEY: KEY } });
    assert.equal(ran.code, 0, ran.stderr);
    const lines = ran.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; runId?: string });
    const progress = lines.filter((l) => l.type === 'progress').map((l) => RunProgressEvent.parse(l));
    const last = progress.at(-1)!;
    assert.deepEqual(last.endpoints?.map((e) => e.url), [a.url, b.url]);
    assert.ok(last.endpoints!.every((e) => e.requests > 0 && e.state === 'up'));
    assert.ok(a.countBy() > 0 && b.countBy() > 0);
    assert.ok(b.requests.every((r) => r.authorization === `Bearer ${KEY}`));
    assert.ok(a.requests.every((r) => r.authorization !== `Bearer ${KEY}`));
    assert.ok(!ran.stdout.includes(KEY) && !ran.stderr.includes(KEY));

    const runId = lines.find((l) => l.type === 'start')!.runId!;
    const manifest = JSON.parse(readFileSync(path.join(runsDir, runId, 'run.json'), 'utf8')) as { model: { endpoints?: string[] } };
    assert.deepEqual(manifest.model.endpoints, [a.url, b.url]);
    assert.ok(!readFileSync(path.join(runsDir, runId, 'endpoints.json'), 'utf8').includes(KEY));

    const status = await runCli(['status', runId, '--runs-dir', runsDir]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /servers \(as of /);
    assert.match(status.stdout, new RegExp(`${a.url.replace(/\./g, '\\.')}\\s+up\\s+requests [1-9]`));

    // The same seeds and method on one server (named once, or twice) are the same run: found finished.
    const again = await runCli(['run', seeds, '--base-url', a.url, '--base-url', a.url, ...common, '--json']);
    assert.equal(again.code, 0, again.stderr);
    const summary = JSON.parse(again.stdout) as { runId: string; alreadyFinished: boolean };
    assert.equal(summary.runId, runId);
    assert.equal(summary.alreadyFinished, true);
  });

  test('svd sweep and svd eval take the same servers: --base-url twice, --endpoints FILE', async () => {
    // With gold, so that the evaluation has questions to ask; each command with a cache of its own (runs-dir/../cache).
    const labeled = path.join(dir, 'labeled.jsonl');
    writeFileSync(labeled, SCRIPTS.map((s, i) => JSON.stringify({ id: `e${i}`, domain: 'math', question: s.question, answer: rightValue(SCRIPTS, i) })).join('\n') + '\n');
    const served = () => [a.countBy(), b.countBy()];
    const more = (before: number[]) => served().map((n, i) => n - before[i]!);

    let before = served();
    const common = ['--model', 'scripted', '--prompts', PROMPTS, '--concurrency', '4'];
    const sweep = await runCli(['sweep', labeled, '--base-url', a.url, '--base-url', b.url, ...common, '--candidates', '1,2', '--votes', '1', '--runs-dir', path.join(dir, 'sweep', 'runs'), '--json'], { env: { SVD_API_KEY: KEY } });
    assert.equal(sweep.code, 0, sweep.stderr);
    assert.ok(more(before).every((n) => n > 0), `sweep: both servers asked (${more(before).join(', ')})`);

    const file = path.join(dir, 'eval-endpoints.json');
    writeFileSync(file, JSON.stringify([{ url: a.url }, { url: b.url, apiKeyEnv: 'REPLICA_B_KEY' }]));
    before = served();
    const evaluated = await runCli(['eval', labeled, '--endpoints', file, ...common, '--samples', '4', '--runs-dir', path.join(dir, 'eval', 'runs'), '--json'], { env: { REPLICA_B_KEY: KEY } });
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const result = JSON.parse(evaluated.stdout) as { models: { model: string; passAt1: { overall: { questions: number } } }[] };
    assert.equal(result.models[0]!.passAt1.overall.questions, SCRIPTS.length);
    assert.ok(more(before).every((n) => n > 0), `eval: both servers asked (${more(before).join(', ')})`);
    assert.ok(b.requests.every((r) => r.authorization === `Bearer ${KEY}`), 'each with its own key');

    // A model no entry serves is named; an evaluation without a server is refused.
    const one = path.join(dir, 'one-model.json');
    writeFileSync(one, JSON.stringify([{ url: a.url, model: 'scripted' }]));
    const unserved = await runCli(['eval', labeled, '--endpoints', one, '--model', 'scripted', '--model', 'other', '--runs-dir', path.join(dir, 'eval-runs')]);
    assert.equal(unserved.code, EXIT_CODES.bad_config, unserved.stderr);
    assert.match(unserved.stderr, /no server for model "other"/);
    const none = await runCli(['eval', labeled, '--model', 'scripted', '--runs-dir', path.join(dir, 'eval-runs')]);
    assert.equal(none.code, EXIT_CODES.bad_config, none.stderr);
    assert.match(none.stderr, /--base-url or --endpoints/);
  });

  test('a key in the endpoints file, or a key variable not set, is refused with the file, line and field', async () => {
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, `[\n  {"url": "${a.url}"},\n  {"url": "${b.url}", "apiKey": "${KEY}"}\n]\n`);
    const bad = await runCli(['run', seeds, '--endpoints', file, '--model', 'scripted', '--runs-dir', path.join(dir, 'bad-runs')]);
    assert.equal(bad.code, EXIT_CODES.bad_config, bad.stderr);
    assert.match(bad.stderr, /bad\.json:3: keys are never kept in this file/);
    assert.ok(!bad.stderr.includes(KEY));

    const unset = path.join(dir, 'unset.jsonl');
    writeFileSync(unset, `{"url": "${a.url}"}\n{"url": "${b.url}", "apiKeyEnv": "NOT_SET_ANYWHERE"}\n`);
    const missing = await runCli(['run', seeds, '--endpoints', unset, '--model', 'scripted', '--runs-dir', path.join(dir, 'bad-runs')]);
    assert.equal(missing.code, EXIT_CODES.bad_config, missing.stderr);
    assert.match(missing.stderr, /apiKeyEnv: the environment variable NOT_SET_ANYWHERE is not set/);
  });
});
