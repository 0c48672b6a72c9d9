import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { isSvdError } from '../../../../src/core/base/errors';
import type { RunEvent } from '../../../../src/core/record/events';
import { writeFileAtomic } from '../../../../src/core/record/atomicFile';
import { EXPORT_FORMATS, EXPORT_ROW_SCHEMAS, exportRun, planExport, runProtection, splitPoint } from '../../../../src/core/training/export';
import { EventLog, SYSTEM_PROMPT, sampleRun } from '../../../fixtures/events';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'svd-export-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let folders = 0;
const freshDir = () => fs.mkdtempSync(path.join(root, `${++folders}-`));

function readRows(file: string): Record<string, unknown>[] {
  const text = fs.readFileSync(file, 'utf8');
  return text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

function tmpLeftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'));
}

/** Seeds q0..q{n-1}, each with its first candidate accepted; q0 also has a second accepted one (keep_all). */
function manySeeds(n: number): RunEvent[] {
  const log = new EventLog();
  for (let i = 0; i < n; i++) {
    const seedId = `q${i}`;
    log.seed(seedId, { line: i + 1, question: `question ${seedId}` });
    const accepted = [log.candidate(seedId, 0)];
    if (i === 0) accepted.push(log.candidate(seedId, 1));
    log.outcome(seedId, 'accepted', accepted);
  }
  return log.events;
}

const seedOfRow = (row: Record<string, unknown>): string => {
  const match = /question (q\d+)/.exec(JSON.stringify(row));
  assert.ok(match, 'row names its seed');
  return match[1] ?? '';
};

describe('exportRun formats', () => {
  for (const format of EXPORT_FORMATS) {
    it(`${format}: every row parses and matches its schema`, () => {
      const out = path.join(freshDir(), 'data.jsonl');
      const summary = exportRun(sampleRun().events, { format, out });
      const rows = readRows(out);
      assert.equal(rows.length, 2);
      assert.equal(summary.rows, 2);
      assert.deepEqual(summary.files, [{ path: out, split: 'train', rows: 2 }]);
      for (const row of rows) assert.ok(EXPORT_ROW_SCHEMAS[format].safeParse(row).success, JSON.stringify(row));
    });
  }

  it('openai: the exact generation prompt then the full trace', () => {
    const out = path.join(freshDir(), 'openai.jsonl');
    exportRun(sampleRun().events, { format: 'openai', out });
    const [first] = readRows(out);
    assert.deepEqual(first, {
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: 'Solve: Question of s1?' },
        { role: 'assistant', content: '<think>thinking of s1#1</think>\nAnswer of s1#1: \\boxed{1}' },
      ],
    });
  });

  it('trl: conversational prompt-completion', () => {
    const out = path.join(freshDir(), 'trl.jsonl');
    exportRun(sampleRun().events, { format: 'trl', out });
    const [first, second] = readRows(out);
    assert.deepEqual(first, {
      prompt: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: 'Solve: Question of s1?' },
      ],
      completion: [{ role: 'assistant', content: '<think>thinking of s1#1</think>\nAnswer of s1#1: \\boxed{1}' }],
    });
    assert.deepEqual(second?.prompt, [{ role: 'user', content: 'Solve: Question of s2?' }]);
  });

  it('sharegpt: from/value turns and a dataset_info.json entry', () => {
    const dir = freshDir();
    const out = path.join(dir, 'distilled.jsonl');
    const summary = exportRun(sampleRun().events, { format: 'sharegpt', out });
    assert.deepEqual(readRows(out)[0], {
      conversations: [
        { from: 'system', value: SYSTEM_PROMPT },
        { from: 'human', value: 'Solve: Question of s1?' },
        { from: 'gpt', value: '<think>thinking of s1#1</think>\nAnswer of s1#1: \\boxed{1}' },
      ],
    });
    assert.equal(summary.datasetInfo, path.join(dir, 'dataset_info.json'));
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'dataset_info.json'), 'utf8')), {
      distilled: {
        file_name: 'distilled.jsonl',
        formatting: 'sharegpt',
        columns: { messages: 'conversations' },
        tags: { role_tag: 'from', content_tag: 'value', user_tag: 'human', assistant_tag: 'gpt', system_tag: 'system' },
      },
    });
  });

  it('sharegpt: merges into an existing dataset_info.json, keeping other entries', () => {
    const dir = freshDir();
    const existing = { alpaca_en_demo: { file_name: 'alpaca_en_demo.json' }, mine: { file_name: 'old.jsonl' } };
    fs.writeFileSync(path.join(dir, 'dataset_info.json'), JSON.stringify(existing));
    exportRun(manySeeds(40), {
      format: 'sharegpt',
      out: path.join(dir, 'x.jsonl'),
      datasetName: 'mine',
      valFraction: 0.25,
    });
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'dataset_info.json'), 'utf8')) as Record<string, { file_name: string }>;
    assert.deepEqual(info.alpaca_en_demo, existing.alpaca_en_demo);
    // The old entry of the same name stays: splits register as <name>_train and <name>_val.
    assert.deepEqual(info.mine, existing.mine);
    assert.equal(info.mine_train?.file_name, 'x.train.jsonl');
    assert.equal(info.mine_val?.file_name, 'x.val.jsonl');
    assert.deepEqual(tmpLeftovers(dir), []);
  });

  it('sharegpt: refuses to overwrite a dataset_info.json that is not JSON', () => {
    const dir = freshDir();
    fs.writeFileSync(path.join(dir, 'dataset_info.json'), '{ broken');
    assert.throws(
      () => exportRun(sampleRun().events, { format: 'sharegpt', out: path.join(dir, 'd.jsonl') }),
      (error: unknown) => isSvdError(error, 'bad_config') && error.message.includes('dataset_info.json'),
    );
    assert.equal(fs.readFileSync(path.join(dir, 'dataset_info.json'), 'utf8'), '{ broken');
    assert.deepEqual(fs.readdirSync(dir), ['dataset_info.json']);
  });

  it('alpaca: instruction is the user prompt, the system prompt goes to "system"', () => {
    const out = path.join(freshDir(), 'alpaca.jsonl');
    exportRun(sampleRun().events, { format: 'alpaca', out });
    const [first, second] = readRows(out);
    assert.deepEqual(first, {
      instruction: 'Solve: Question of s1?',
      input: '',
      output: '<think>thinking of s1#1</think>\nAnswer of s1#1: \\boxed{1}',
      system: SYSTEM_PROMPT,
    });
    assert.equal(second !== undefined && 'system' in second, false);
  });

  it('alpaca: refuses a multi-turn prompt rather than dropping turns', () => {
    const log = new EventLog();
    const seed = log.seed('m', { line: 1 });
    seed.prompt.push({ role: 'assistant', content: 'an example answer' }, { role: 'user', content: 'and now this one' });
    log.outcome('m', 'accepted', [log.candidate('m', 0)]);
    assert.throws(
      () => exportRun(log.events, { format: 'alpaca', out: path.join(freshDir(), 'a.jsonl') }),
      (error: unknown) => isSvdError(error, 'bad_config') && error.message.includes('m#0'),
    );
  });

  it('counts rows per domain and approximates tokens', () => {
    const summary = exportRun(sampleRun().events, { format: 'openai', out: path.join(freshDir(), 'd.jsonl') });
    assert.deepEqual(summary.perDomain, { math: 1, science: 1, coding: 0 });
    assert.ok(summary.approxTokens > 10 && summary.approxTokens < 200, String(summary.approxTokens));
  });
});

describe('exportRun thinking', () => {
  const run = () => {
    const log = new EventLog();
    log.seed('inline', { line: 1 });
    const inline = log.candidate('inline', 0, { text: '<think>\nlet me see\n</think>\n\nThe answer is \\boxed{2}.' });
    log.outcome('inline', 'accepted', [inline]);
    log.seed('separate', { line: 2 });
    const separate = log.candidate('separate', 0, { reasoning: 'reasoning field', text: 'So \\boxed{3}.' });
    log.outcome('separate', 'accepted', [separate]);
    return log.events;
  };
  const assistantTexts = (thinking?: 'keep' | 'strip') => {
    const out = path.join(freshDir(), 'd.jsonl');
    exportRun(run(), { format: 'trl', out, ...(thinking ? { thinking } : {}) });
    return readRows(out).map((row) => (row.completion as { content: string }[])[0]?.content);
  };

  it('keeps the full trace by default, moving a separate reasoning field into <think>', () => {
    assert.deepEqual(assistantTexts(), [
      '<think>\nlet me see\n</think>\n\nThe answer is \\boxed{2}.',
      '<think>\nreasoning field\n</think>\n\nSo \\boxed{3}.',
    ]);
    assert.deepEqual(assistantTexts('keep'), assistantTexts());
  });

  it('strips to the text after the last </think>', () => {
    assert.deepEqual(assistantTexts('strip'), ['The answer is \\boxed{2}.', 'So \\boxed{3}.']);
  });

  it('skips an accepted candidate with nothing left to train on, and says so', () => {
    const log = new EventLog();
    log.seed('t', { line: 1 });
    const truncated = log.candidate('t', 0, { invalidReason: 'unterminated_think', text: '<think>still going' });
    log.outcome('t', 'rejected');
    log.override(truncated, 'accept');
    const out = path.join(freshDir(), 'd.jsonl');
    const summary = exportRun(log.events, { format: 'openai', out, thinking: 'strip' });
    assert.equal(summary.rows, 0);
    assert.deepEqual(summary.skipped, [{ candidateId: 't#0', reason: 'empty answer' }]);
  });
});

describe('exportRun overrides', () => {
  const exported = (applyOverrides?: boolean) => {
    const out = path.join(freshDir(), 'd.jsonl');
    exportRun(sampleRun().events, { format: 'openai', out, ...(applyOverrides === undefined ? {} : { applyOverrides }) });
    return readRows(out).map((row) => {
      const messages = row.messages as { content: string }[];
      return /of (s\d#\d)/.exec(messages.at(-1)?.content ?? '')?.[1] ?? messages.at(-1)?.content;
    });
  };

  it('honours overrides by default, in seed order then candidate index', () => {
    // s2#2 accepted by a human, s4#0 rejected by one, s1#1's override cleared.
    assert.deepEqual(exported(), ['s1#1', 's2#2']);
    assert.deepEqual(exported(true), ['s1#1', 's2#2']);
  });

  it('takes the method\'s decisions alone when asked', () => {
    assert.deepEqual(exported(false), ['s1#1', 's4#0']);
  });
});

describe('exportRun split', () => {
  const events = manySeeds(200);
  const split = (dir: string, splitSeed?: number) => {
    const out = path.join(dir, 'data.jsonl');
    const summary = exportRun(events, { format: 'openai', out, valFraction: 0.3, ...(splitSeed === undefined ? {} : { splitSeed }) });
    const train = readRows(path.join(dir, 'data.train.jsonl')).map(seedOfRow);
    const val = readRows(path.join(dir, 'data.val.jsonl')).map(seedOfRow);
    return { summary, train, val };
  };

  it('writes <out>.train.jsonl and <out>.val.jsonl, disjoint by seed, covering every row', () => {
    const dir = freshDir();
    const { summary, train, val } = split(dir);
    assert.equal(fs.existsSync(path.join(dir, 'data.jsonl')), false);
    assert.deepEqual(
      summary.files.map((file) => [path.basename(file.path), file.split, file.rows]),
      [
        ['data.train.jsonl', 'train', train.length],
        ['data.val.jsonl', 'validation', val.length],
      ],
    );
    assert.equal(train.length + val.length, 201);
    const trainSeeds = new Set(train);
    assert.ok(val.every((seed) => !trainSeeds.has(seed)));
    // Both answers of q0 land on the same side.
    assert.equal([...train, ...val].filter((seed) => seed === 'q0').length, 2);
    assert.ok(val.length > 30 && val.length < 90, `validation share ${val.length}/201`);
  });

  it('puts a seed on the same side every time, and another splitSeed reshuffles', () => {
    const a = split(freshDir());
    const b = split(freshDir());
    assert.deepEqual(a.val, b.val);
    const c = split(freshDir(), 7);
    assert.notDeepEqual(new Set(c.val), new Set(a.val));
    assert.equal(splitPoint(0, 'q1'), splitPoint(0, 'q1'));
    assert.notEqual(splitPoint(0, 'q1'), splitPoint(1, 'q1'));
  });

  it('writes exactly out when there is no validation share', () => {
    const dir = freshDir();
    const summary = exportRun(events, { format: 'openai', out: path.join(dir, 'all.json'), valFraction: 0 });
    assert.deepEqual(fs.readdirSync(dir), ['all.json']);
    assert.equal(summary.rows, 201);
  });

  it('rejects a validation share outside [0, 1)', () => {
    for (const valFraction of [1, -0.1, Number.NaN]) {
      assert.throws(
        () => exportRun(events, { format: 'openai', out: path.join(freshDir(), 'd.jsonl'), valFraction }),
        (error: unknown) => isSvdError(error, 'bad_config') && error.message.includes('valFraction'),
      );
    }
  });
});

describe('exportRun files', () => {
  it('writes an empty file and reports zero rows when nothing was accepted', () => {
    const log = new EventLog();
    log.seed('none', { line: 1 });
    log.candidate('none', 0, { invalidReason: 'no_boxed_answer', text: 'words' });
    log.outcome('none', 'no_valid');
    const out = path.join(freshDir(), 'nested', 'empty.jsonl');
    const summary = exportRun(log.events, { format: 'alpaca', out });
    assert.equal(summary.rows, 0);
    assert.equal(fs.readFileSync(out, 'utf8'), '');
  });

  it('replaces an existing file and leaves no temporary file', () => {
    const dir = freshDir();
    const out = path.join(dir, 'd.jsonl');
    fs.writeFileSync(out, 'old content\n');
    exportRun(sampleRun().events, { format: 'openai', out, replace: true });
    assert.equal(readRows(out).length, 2);
    assert.deepEqual(fs.readdirSync(dir), ['d.jsonl']);
  });

  it('cleans up its temporary file when the final rename fails', () => {
    const dir = freshDir();
    const out = path.join(dir, 'taken');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep'), 'x');
    assert.throws(() => exportRun(sampleRun().events, { format: 'openai', out }));
    assert.deepEqual(tmpLeftovers(dir), []);
    assert.deepEqual(fs.readdirSync(dir), ['taken']);
  });

  it('writeFileAtomic replaces the whole file', () => {
    const dir = freshDir();
    const file = path.join(dir, 'f.json');
    writeFileAtomic(file, 'first');
    writeFileAtomic(file, 'second');
    assert.equal(fs.readFileSync(file, 'utf8'), 'second');
    assert.deepEqual(fs.readdirSync(dir), ['f.json']);
  });
});

describe('export never loses a file', () => {
  /** A run folder with its record and a seed file beside it, as runProtection sees them. */
  function fakeRun() {
    const dir = freshDir();
    const runDir = path.join(dir, 'runs', 'r1');
    fs.mkdirSync(runDir, { recursive: true });
    for (const name of ['run.json', 'events.jsonl', 'overrides.jsonl']) fs.writeFileSync(path.join(runDir, name), `${name}\n`);
    const seedFile = path.join(dir, 'seeds.jsonl');
    fs.writeFileSync(seedFile, '{"question": "q"}\n');
    const protect = runProtection({ dir: runDir, manifest: { id: 'r1', seedFile: { path: seedFile } } });
    return { dir, runDir, seedFile, protect };
  }

  it("refuses the run's own files and its seed file, even when asked to replace, under any name", () => {
    const { dir, runDir, seedFile, protect } = fakeRun();
    fs.symlinkSync(path.join(runDir, 'events.jsonl'), path.join(dir, 'link-to-events.jsonl'));
    fs.linkSync(seedFile, path.join(dir, 'hardlink-to-seeds.jsonl'));
    const cases: [string, RegExp][] = [
      [path.join(runDir, 'events.jsonl'), /is in the folder of run r1/],
      [path.join(runDir, 'run.json'), /is in the folder of run r1/],
      [path.join(runDir, 'new.jsonl'), /is in the folder of run r1/],
      [path.join(runDir, '..', 'r1', 'overrides.jsonl'), /is in the folder of run r1/],
      [path.join(dir, 'link-to-events.jsonl'), /is in the folder of run r1/],
      [seedFile, /is the seed file of run r1/],
      [path.join(dir, 'hardlink-to-seeds.jsonl'), /is the seed file of run r1/],
    ];
    for (const [out, rule] of cases) {
      for (const format of ['openai', 'sharegpt'] as const) {
        assert.throws(() => exportRun(sampleRun().events, { format, out, replace: true, protect }), (e) => isSvdError(e, 'bad_config') && rule.test(e.message), out);
      }
    }
    for (const name of ['run.json', 'events.jsonl', 'overrides.jsonl']) assert.equal(fs.readFileSync(path.join(runDir, name), 'utf8'), `${name}\n`);
    assert.deepEqual(fs.readdirSync(runDir).sort(), ['events.jsonl', 'overrides.jsonl', 'run.json']);
    assert.equal(fs.readFileSync(seedFile, 'utf8'), '{"question": "q"}\n');
  });

  it('refuses a split file or dataset_info.json that would land on a protected file', () => {
    const { dir, seedFile, protect } = fakeRun();
    // --val-fraction writes <base>.train.jsonl: the seed file here.
    const out = path.join(dir, 'seeds.train.jsonl');
    fs.renameSync(seedFile, out);
    const moved = { ...protect, files: [{ path: out, what: 'the seed file of run r1' }] };
    assert.throws(() => exportRun(sampleRun().events, { format: 'openai', out: path.join(dir, 'seeds.jsonl'), valFraction: 0.5, replace: true, protect: moved }), /is the seed file/);
    const info = path.join(dir, 'dataset_info.json');
    const asSeeds = { files: [{ path: info, what: 'the seed file of run r1' }] };
    fs.writeFileSync(info, '{}');
    assert.throws(() => exportRun(sampleRun().events, { format: 'sharegpt', out: path.join(dir, 'd.jsonl'), protect: asSeeds }), /dataset_info\.json is the seed file/);
    assert.equal(fs.existsSync(path.join(dir, 'd.jsonl')), false);
  });

  it('refuses an existing file unless asked to replace it, and keeps its mode when it does', { skip: process.platform === 'win32' }, () => {
    const { dir, protect } = fakeRun();
    const out = path.join(dir, 'train.jsonl');
    fs.writeFileSync(out, 'precious\n', { mode: 0o600 });
    fs.chmodSync(out, 0o600);
    assert.deepEqual(planExport({ format: 'openai', out, protect }).existing, [out]);
    assert.throws(() => exportRun(sampleRun().events, { format: 'openai', out, protect }), (e) => isSvdError(e, 'bad_config') && /already exists/.test(e.message));
    assert.equal(fs.readFileSync(out, 'utf8'), 'precious\n');
    exportRun(sampleRun().events, { format: 'openai', out, protect, replace: true });
    assert.equal(readRows(out).length, 2);
    assert.equal(fs.statSync(out).mode & 0o777, 0o600);
    const fresh = path.join(dir, 'fresh.jsonl');
    assert.deepEqual(planExport({ format: 'openai', out: fresh, protect }).existing, []);
  });
});
