// The export's choices (core/training/exportChoices.ts): the format named, the options a pick stands for, the default
// file, and the words around an export.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { EXPORT_FORMATS, type ExportSummary } from '../../../../src/core/training/export';
import {
  DEFAULT_EXPORT_CHOICES,
  defaultExportFile,
  EXPORT_FORMAT_DETAILS,
  exportFormatOf,
  exportOptionsOf,
  exportReport,
  HOLD_OUT_FRACTION,
  replaceQuestion,
} from '../../../../src/core/training/exportChoices';

describe('export choices', () => {
  test('every format is described, and named by its id only', () => {
    assert.deepEqual(Object.keys(EXPORT_FORMAT_DETAILS).sort(), [...EXPORT_FORMATS].sort());
    for (const format of EXPORT_FORMATS) assert.equal(exportFormatOf(format), format);
    for (const other of ['OpenAI', 'jsonl', '', undefined, {}]) assert.equal(exportFormatOf(other), undefined);
  });

  test('without questions the method\'s way: thinking kept, overrides applied, no split', () => {
    const protect = { dirs: [], files: [] };
    assert.deepEqual(exportOptionsOf('trl', '/o.jsonl', DEFAULT_EXPORT_CHOICES, protect), {
      format: 'trl',
      out: '/o.jsonl',
      thinking: 'keep',
      applyOverrides: true,
      valFraction: 0,
      protect,
    });
    const other = exportOptionsOf('openai', '/o.jsonl', { keepThinking: false, applyOverrides: false, holdOut: true }, protect);
    assert.deepEqual([other.thinking, other.applyOverrides, other.valFraction], ['strip', false, HOLD_OUT_FRACTION]);
  });

  test('the default file, the question before replacing, and the report', () => {
    assert.equal(defaultExportFile('/w', 'seeds-1a2b', 'sharegpt'), path.join('/w', 'seeds-1a2b.sharegpt.jsonl'));
    assert.equal(replaceQuestion(['/o/a.jsonl'], 'r'), 'a.jsonl already exists. Replace it with the export of r?');
    assert.equal(replaceQuestion(['/o/a.train.jsonl', '/o/a.val.jsonl'], 'r'), 'a.train.jsonl and a.val.jsonl already exist. Replace them with the export of r?');
    const summary = {
      format: 'openai',
      rows: 3,
      perDomain: { math: 2, code: 1, science: 0 },
      approxTokens: 1200,
      files: [{ path: '/o/a.jsonl', split: 'train', rows: 3 }],
      skipped: [],
    } as unknown as ExportSummary;
    assert.equal(exportReport(summary), 'Exported 3 examples as openai (math 2, code 1; train 3; about 1200 tokens).');
  });
});
