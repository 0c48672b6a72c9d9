// The price table (validation naming file and field, exact names before globs, a user's entries before the
// defaults, an unknown model costing unknown) and a run's usage priced per stage and per accepted answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_PRICES, costOf, formatRunCost, formatUsd, priceFor, runCost, type PriceEntry } from '../../../../src/core/method/cost';
import { loadPriceTable, priceEntries, readPriceFile } from '../../../../src/core/method/costTable';
import { isSvdError } from '../../../../src/core/base/errors';

const price = (promptPerMillion: number, completionPerMillion: number, batchDiscount = 0) => ({ promptPerMillion, completionPerMillion, batchDiscount });
const entry = (pattern: string, p = price(1, 2)): PriceEntry => ({ pattern, price: p, from: 'test' });

function tempFile(name: string, text: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'svd-prices-')), name);
  writeFileSync(file, text);
  return file;
}

test('a price table is read in its order, with its entries checked', () => {
  const file = tempFile('prices.json', JSON.stringify({ prices: { 'Qwen/*': price(0.1, 0.2), 'my-model': { promptPerMillion: 3, completionPerMillion: 4, batchDiscount: 0.5, source: 'our invoice' } } }));
  const entries = readPriceFile(file, true);
  assert.deepEqual(entries.map((e) => e.pattern), ['Qwen/*', 'my-model']);
  assert.equal(entries[0]!.price.batchDiscount, 0, 'no discount unless one is given');
  assert.equal(entries[1]!.price.source, 'our invoice');
  assert.equal(entries[1]!.from, file);
});

test('a bad price table is refused with its file and the field at fault', () => {
  const cases: [unknown, RegExp][] = [
    [{ prices: { m: { promptPerMillion: -1, completionPerMillion: 1 } } }, /prices\.m\.promptPerMillion/],
    [{ prices: { m: { promptPerMillion: 1 } } }, /prices\.m\.completionPerMillion/],
    [{ prices: { m: { promptPerMillion: 1, completionPerMillion: 1, batchDiscount: 1.5 } } }, /prices\.m\.batchDiscount/],
    [{ prices: { m: { promptPerMillion: 1, completionPerMillion: 1, input: 2 } } }, /prices\.m: .*input/],
    [{ models: {} }, /prices/],
  ];
  for (const [json, field] of cases) {
    const file = tempFile('prices.json', JSON.stringify(json));
    assert.throws(() => readPriceFile(file, true), (error: unknown) => {
      assert.ok(isSvdError(error, 'bad_config'), String(error));
      assert.ok(error.message.startsWith(`${file}: invalid price table: `), error.message);
      assert.match(error.message, field);
      return true;
    });
  }
  const notJson = tempFile('prices.json', '{ "prices": ');
  assert.throws(() => readPriceFile(notJson, true), (error: unknown) => isSvdError(error, 'bad_config') && error.message.includes(`${notJson}: the price table is not JSON`));
  assert.throws(() => priceEntries({ prices: { '': price(1, 1) } }, 'svd.prices'), /svd\.prices: invalid price table/);
});

test('a missing table: an error when named, nothing when it is only the workspace default', () => {
  const missing = path.join(os.tmpdir(), 'svd-no-such-prices.json');
  assert.throws(() => readPriceFile(missing, true), (error: unknown) => isSvdError(error, 'not_found'));
  assert.deepEqual(loadPriceTable({ workspaceFile: missing }), [...DEFAULT_PRICES]);
});

test('exact names before globs, globs in table order, case ignored, a user table before the defaults', () => {
  const table = [entry('qwen/*', price(1, 1)), entry('Qwen/Qwen3-8B', price(2, 2)), entry('*-mini', price(3, 3)), entry('gpt-?o', price(4, 4))];
  assert.equal(priceFor(table, 'Qwen/Qwen3-8B')?.price.promptPerMillion, 2, 'the exact name wins over an earlier glob');
  assert.equal(priceFor(table, 'QWEN/qwen3-32b')?.pattern, 'qwen/*');
  assert.equal(priceFor(table, 'o4-mini')?.pattern, '*-mini');
  assert.equal(priceFor(table, 'gpt-4o')?.pattern, 'gpt-?o');
  assert.equal(priceFor(table, 'gpt-40o'), undefined, '? is one character');
  assert.equal(priceFor(table, 'qwen.x'), undefined, 'a dot in a name is a dot');
  assert.equal(priceFor([entry('a.b*')], 'aXb'), undefined, 'regex characters in a glob are literal');

  const file = tempFile('prices.json', JSON.stringify({ prices: { 'gpt-4o-mini': price(9, 9) } }));
  const merged = loadPriceTable({ file });
  assert.equal(priceFor(merged, 'gpt-4o-mini')?.price.promptPerMillion, 9, "the user's price overrides the default");
  assert.equal(priceFor(merged, 'gpt-4o')?.from, 'defaults');
  assert.match(priceFor(merged, 'gpt-4o')!.price.source!, /openai\.com/, 'a default says where it comes from');
});

test('an unknown model costs unknown, never 0', () => {
  const usage = { generate: { promptTokens: 10, completionTokens: 5 }, cycle: { promptTokens: 0, completionTokens: 0 }, factuality: { promptTokens: 0, completionTokens: 0 }, correctness: { promptTokens: 0, completionTokens: 0 } };
  const cost = runCost('local-model', priceFor(DEFAULT_PRICES, 'local-model'), usage, 3);
  assert.equal(cost.total, null);
  assert.equal(cost.perAccepted, null);
  assert.deepEqual(Object.values(cost.perStage), [null, null, null, null]);
  assert.match(cost.unknown!, /no price for model "local-model"/);
  assert.match(formatRunCost(cost).join('\n'), /^Cost: unknown: no price/);
  assert.equal(formatUsd(null), 'unknown');
});

test('cost per stage, in total and per accepted answer; a batch discount', () => {
  const p = price(2, 10, 0.5);
  assert.equal(costOf({ promptTokens: 1_000_000, completionTokens: 100_000 }, p), 3);
  assert.equal(costOf({ promptTokens: 1_000_000, completionTokens: 100_000 }, p, true), 1.5);
  const usage = {
    generate: { promptTokens: 500_000, completionTokens: 100_000 },
    cycle: { promptTokens: 250_000, completionTokens: 0 },
    factuality: { promptTokens: 0, completionTokens: 50_000 },
    correctness: { promptTokens: 0, completionTokens: 0 },
  };
  const cost = runCost('m', { price: p, pattern: 'm', from: 'test' }, usage, 4);
  assert.deepEqual(cost.perStage, { generate: 2, cycle: 0.5, factuality: 0.5, correctness: 0 });
  assert.equal(cost.total, 3);
  assert.equal(cost.perAccepted, 0.75);
  assert.equal(runCost('m', { price: p, pattern: 'm', from: 'test' }, usage, 0).perAccepted, null, 'none accepted: no cost per answer');
  assert.match(formatRunCost(cost)[0]!, /^Cost: \$3\.0000 \(generate \$2\.0000, cycle \$0\.5000, factuality \$0\.5000, correctness \$0\); per accepted answer \$0\.7500$/);
});

test('a run that mixes online and batch requests prices each at its own rate', () => {
  const p = price(2, 10, 0.5);
  const match = { price: p, pattern: 'm', from: 'test' };
  const none = { promptTokens: 0, completionTokens: 0 };
  // generate: 1M prompt tokens, half of them (and all its completion) answered by a batch API.
  const usage = {
    generate: { promptTokens: 1_000_000, completionTokens: 100_000, batch: { promptTokens: 500_000, completionTokens: 100_000 } },
    cycle: { promptTokens: 1_000_000, completionTokens: 0 },
    factuality: none,
    correctness: none,
  };
  const cost = runCost('m', match, usage, 2);
  // Online: 0.5M x $2 = $1; batch: (0.5M x $2 + 0.1M x $10) x 0.5 = $1.
  assert.equal(cost.perStage.generate, 2);
  assert.equal(cost.perStage.cycle, 2);
  assert.equal(cost.total, 4);
  assert.equal(cost.batchTotal, 1);
  assert.equal(cost.perAccepted, 2);
  assert.match(formatRunCost(cost).join('\n'), /batch requests \$1\.0000 of it, at the batch price/);
  // All of it through a batch API: half of the same usage online.
  const allBatch = { generate: { ...usage.generate, batch: { promptTokens: 1_000_000, completionTokens: 100_000 } }, cycle: { ...usage.cycle, batch: usage.cycle }, factuality: none, correctness: none };
  const online = { generate: { promptTokens: 1_000_000, completionTokens: 100_000 }, cycle: usage.cycle, factuality: none, correctness: none };
  assert.equal(runCost('m', match, allBatch, 2).total, runCost('m', match, online, 2).total! / 2);
  assert.equal(runCost('m', match, online, 2).batchTotal, undefined, 'no batch requests: no batch line');
  assert.equal(formatRunCost(runCost('m', match, online, 2)).length, 2);
});
