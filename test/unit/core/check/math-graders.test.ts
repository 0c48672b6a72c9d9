import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { readPairs, scoreMathTable } from '../../../../bench/mathTable';

const TABLE = path.resolve(__dirname, '../../../fixtures/check/math-graders.jsonl');

describe("math checker against the graders' table", () => {
  const rows = readPairs(TABLE);

  test('hundreds of pairs, a third or so different, each with a class and a source', () => {
    assert.ok(rows.length >= 400, `${rows.length} pairs`);
    const different = rows.filter((row) => !row.equivalent).length / rows.length;
    assert.ok(different >= 0.3 && different <= 0.45, `${different.toFixed(3)} different`);
    for (const row of rows) {
      assert.ok(row.class && (row as { source?: string }).source, JSON.stringify(row));
      assert.ok((row.answer === undefined) !== (row.text === undefined), JSON.stringify(row));
    }
  });

  test('agrees on at least 95% of the pairs and says "equivalent" of under 3% of the different ones', () => {
    const score = scoreMathTable(rows);
    const misses = score.disagreements.map((row) => `[${row.class}] ${row.gold} vs ${row.text ?? row.answer}`).join('\n');
    assert.ok(score.agree / score.pairs >= 0.95, `${score.agree}/${score.pairs}\n${misses}`);
    assert.ok(score.falseEquivalent / score.different < 0.03, `${score.falseEquivalent}/${score.different}\n${misses}`);
    // Shared CI machines are slow and noisy: the bench reports the real figure; this only catches a runaway.
    assert.ok(score.meanMs < 10, `${score.meanMs.toFixed(2)} ms mean`);
  });
});
