// Exported training data is told from seed files by its rows' shapes and by the names exports get.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { EXPORT_FORMATS, exportRun } from '../../../../src/core/training/export';
import { exportFormatOfText, isExportFileName } from '../../../../src/core/training/exportShape';
import { sampleRun } from '../../../fixtures/events';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'svd-export-shape-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
const FIXTURES = path.resolve(__dirname, '../../../fixtures');

describe('exported data by its rows', () => {
  for (const format of EXPORT_FORMATS) {
    it(`${format}: an export's text is recognised as ${format}`, () => {
      const out = path.join(root, `data.${format}.jsonl`);
      exportRun(sampleRun().events, { format, out });
      assert.equal(exportFormatOfText(fs.readFileSync(out, 'utf8')), format);
    });
  }

  it('seed files are not exports, nor is text with one row of another shape or a broken line', () => {
    const seedFiles = [
      path.join(FIXTURES, 'workspace/seeds.jsonl'),
      path.join(FIXTURES, 'seeds/mixed.jsonl'),
      path.join(FIXTURES, 'data/humaneval.jsonl'),
      path.join(FIXTURES, 'data/math500.jsonl'),
      path.join(FIXTURES, 'data/mbpp_test.jsonl'),
    ];
    for (const file of seedFiles) assert.equal(exportFormatOfText(fs.readFileSync(file, 'utf8')), undefined, file);
    const row = JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] });
    assert.equal(exportFormatOfText(`${row}\n\n${row}\n`), 'openai');
    assert.equal(exportFormatOfText(`${row}\n${JSON.stringify({ id: 'q1', domain: 'math', question: 'What is 1 + 1?' })}\n`), undefined);
    assert.equal(exportFormatOfText(`${row}\n{"messages": [\n`), undefined);
    // An Alpaca seed row (a question with its context) is no export row: an export's input is always empty.
    assert.equal(exportFormatOfText(JSON.stringify({ instruction: 'Add them.', input: '1 and 2', output: '3' })), undefined);
    assert.equal(exportFormatOfText(''), undefined);
  });

  it('names exports get by default, split or not; other names are not', () => {
    for (const name of ['seeds-1a2b3c4d.openai.jsonl', 'data.trl.jsonl', 'x.sharegpt.train.jsonl', 'x.alpaca.val.jsonl', 'R.OPENAI.JSONL']) {
      assert.equal(isExportFileName(name), true, name);
    }
    for (const name of ['seeds.jsonl', 'openai.jsonl', 'my-openai-seeds.jsonl', 'x.openai.json']) assert.equal(isExportFileName(name), false, name);
  });
});
