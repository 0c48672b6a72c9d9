// Seed screening from the CLI: `svd decontaminate` and `svd dedupe` on their own, and `svd run` that drops the seeds
// they flag, records what it dropped and why, shows it in `svd status`, and, run again, names the same run.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, runCli } from '../fixtures/cli';
import { readRows } from '../fixtures/contamination';
import { methodHandler, startScriptedServer, type ScriptedServer } from '../fixtures/scripted-server';

const AIME = path.join(ROOT, 'test/fixtures/data/aime2024.jsonl');
const PROMPTS = path.join(ROOT, 'test/fixtures/prompts');

describe('seed screening', () => {
  let dir: string;
  let seeds: string;
  let server: ScriptedServer;
  const aime = readRows(AIME);
  const rows = [
    { id: 'clean-1', question: 'What is 2 + 2?' },
    { id: 'leak-exact', question: aime[0]!.question },
    { id: 'clean-2', question: 'What is 3 + 5?' },
    { id: 'clean-2-again', question: 'WHAT is 3+5' },
    { id: 'leak-wrapped', question: `Please solve:\n\n${aime[4]!.question.replace(/\s+/g, '  ')}` },
    { id: 'clean-3', question: 'What is 7 times 6?' },
  ];

  before(async () => {
    assert.equal(spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT }).status, 0);
    dir = mkdtempSync(path.join(os.tmpdir(), 'svd-screen-'));
    seeds = path.join(dir, 'seeds.jsonl');
    writeFileSync(seeds, rows.map((r) => JSON.stringify({ ...r, domain: 'math' })).join('\n') + '\n');
    server = await startScriptedServer({ handler: methodHandler(rows.map((r) => ({ question: r.question }))) });
  });
  after(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('svd decontaminate --json: each flagged seed with the file, the item and the overlapping span', async () => {
    const r = await runCli(['decontaminate', seeds, '--against', AIME, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { flagged: Record<string, string>[]; seeds: number };
    assert.equal(out.seeds, 6);
    assert.deepEqual(out.flagged.map((f) => [f.seed, f.against, f.item, f.kind]), [
      ['leak-exact', AIME, aime[0]!.id, 'exact'],
      ['leak-wrapped', AIME, aime[4]!.id, 'ngram'],
    ]);
    for (const flag of out.flagged) assert.deepEqual(Object.keys(flag).sort(), ['against', 'item', 'kind', 'seed', 'span']);
    assert.ok(out.flagged[1]!.span.split(' ').length >= 13);
    const text = await runCli(['decontaminate', seeds, '--against', AIME]);
    assert.match(text.stdout, /^2 of 6 seeds match one of 30 evaluation items$/m);
  });

  test('svd dedupe names the seed each duplicate repeats', async () => {
    const r = await runCli(['dedupe', seeds, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { duplicates: { seed: string; duplicateOf: string; kind: string }[] };
    assert.deepEqual(out.duplicates.map((d) => [d.seed, d.duplicateOf, d.kind]), [['clean-2-again', 'clean-2', 'exact']]);
  });

  test('svd run drops the flagged seeds and the duplicates, records why, and run again names the same finished run', async () => {
    const args = ['run', seeds, '--base-url', server.url, '--model', 'm', '--prompts', PROMPTS, '--runs-dir', path.join(dir, 'runs'), '--candidates', '1', '--votes', '1'];
    const screen = ['--decontaminate-against', AIME, '--drop-contaminated', '--drop-duplicates'];
    const first = await runCli([...args, ...screen]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^seeds 3,/m);
    assert.match(first.stdout, /^screening: 2 seed\(s\) match an evaluation item, 1 repeat another, 3 left out$/m);
    const runId = /^run (\S+)/m.exec(first.stdout)![1]!;
    const runDir = path.join(dir, 'runs', runId);
    const manifest = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as { screening: { dropped: string[]; flagged: { seed: string; item: string }[] } };
    assert.deepEqual(manifest.screening.dropped, ['leak-exact', 'clean-2-again', 'leak-wrapped']);
    assert.deepEqual(manifest.screening.flagged.map((f) => f.item), [aime[0]!.id, aime[4]!.id]);
    const seen = readFileSync(path.join(runDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; seedId?: string });
    assert.deepEqual(seen.filter((e) => e.type === 'seed').map((e) => e.seedId).sort(), ['clean-1', 'clean-2', 'clean-3']);

    const status = await runCli(['status', runId, '--runs-dir', path.join(dir, 'runs')]);
    assert.match(status.stdout, /^decontamination: 2 seed\(s\) match an evaluation item, dropped; against .*aime2024\.jsonl \(30 items\)$/m);
    assert.match(status.stdout, /^left out of the run: 3 seed\(s\)$/m);
    const json = JSON.parse((await runCli(['status', runId, '--runs-dir', path.join(dir, 'runs'), '--json'])).stdout) as { screening: unknown };
    assert.deepEqual(json.screening, { flagged: 2, duplicates: 1, dropped: 3 });

    // The method's calls; the server probe ("Reply with OK.") is made on every start.
    const chats = () => server.requests.filter((r) => r.kind !== 'unknown').length;
    const requests = chats();
    const again = await runCli([...args, ...screen]);
    assert.equal(again.code, 0, again.stderr);
    // The same screening names the same run, finished already: reported, nothing asked again.
    assert.match(again.stdout, new RegExp(`^run ${runId} is finished already`, 'm'));
    assert.match(again.stdout, /^screening: 2 seed\(s\) match an evaluation item, 1 repeat another, 3 left out$/m);
    assert.equal(chats(), requests, 'no model call made twice');

    // Flagging without dropping is another run: its seeds differ.
    const flagOnly = await runCli([...args, '--decontaminate-against', AIME]);
    assert.equal(flagOnly.code, 0, flagOnly.stderr);
    assert.notEqual(/^run (\S+)/m.exec(flagOnly.stdout)![1], runId);
    assert.match(flagOnly.stdout, /^seeds 6,/m);

    const nothing = await runCli([...args, '--drop-contaminated']);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /--decontaminate-against/);
  });
});
