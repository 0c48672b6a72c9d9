// The budget's arithmetic: a request's worst case, reservations that never let spending cross the budget however
// many requests are in flight, the first refusal closing the budget, and spending counted across sessions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BudgetLedger,
  BudgetReached,
  RunSpend,
  promptTokenBound,
  requestCostBound,
  runSpending,
  TOKENS_PER_MESSAGE,
  TOKENS_PER_PROMPT,
} from '../../../../src/core/method/budget';
import { isSvdError } from '../../../../src/core/base/errors';

const price = { promptPerMillion: 1_000_000, completionPerMillion: 2_000_000, batchDiscount: 0.5 };

test("a request's bound: a token per prompt byte plus the template's, and max_tokens per sample", () => {
  const messages = [{ role: 'system' as const, content: 'abc' }, { role: 'user' as const, content: 'é?' }];
  assert.equal(promptTokenBound(messages), 3 + 3 + 2 * TOKENS_PER_MESSAGE + TOKENS_PER_PROMPT, 'UTF-8 bytes, not characters');
  const prompt = promptTokenBound(messages);
  // $1 a prompt token, $2 a completion token; n samples may be n requests.
  assert.equal(requestCostBound(price, { messages, maxTokens: 10 }, 3), 3 * (prompt + 20));
  assert.equal(requestCostBound(price, { messages, maxTokens: 10 }, 3, true), (3 * (prompt + 20)) / 2);
});

test('a reservation is granted only while spent + reserved + it fit; the first refusal closes the budget', () => {
  let spent = 0;
  const ledger = new BudgetLedger(10, () => spent);
  const a = ledger.reserve(4);
  const b = ledger.reserve(6);
  assert.equal(ledger.reserved, 10);
  assert.throws(() => ledger.reserve(0.5), (error: unknown) => error instanceof BudgetReached && isSvdError(error, 'budget'));
  // An answer that cost less than its bound frees room, but the budget stays closed: the run stops, predictably.
  spent = 1;
  ledger.settle(a);
  assert.throws(() => ledger.reserve(0.5), BudgetReached);
  assert.equal(ledger.reached?.spentUsd, 0);
  ledger.settle(b);
  ledger.settle(b);
  assert.equal(ledger.reserved, 0, 'settling twice gives back once');
});

test('exactly the budget fits; a budget of 0 refuses any request', () => {
  const ledger = new BudgetLedger(0.3, () => 0);
  ledger.reserve(0.1);
  ledger.reserve(0.2);
  assert.throws(() => new BudgetLedger(0, () => 0).reserve(1e-6), BudgetReached);
  assert.throws(() => new BudgetLedger(-1, () => 0), (error: unknown) => isSvdError(error, 'bad_config'));
});

test('many concurrent requests never take spending over the budget', async () => {
  for (let seed = 1; seed <= 20; seed++) {
    let state = seed;
    const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let spent = 0;
    const limit = 50;
    const ledger = new BudgetLedger(limit, () => spent);
    let refused = 0;
    let granted = 0;
    const request = async () => {
      const bound = 0.5 + random() * 3;
      let reservation;
      try {
        reservation = ledger.reserve(bound);
      } catch (error) {
        assert.ok(error instanceof BudgetReached);
        refused++;
        return;
      }
      granted++;
      assert.ok(spent + ledger.reserved <= limit + 1e-9, 'spent and reserved stay within the budget');
      await new Promise((resolve) => setTimeout(resolve, random() * 5));
      // The server bills at most the bound; the usage is counted before the reservation is given back.
      spent += bound * random();
      ledger.settle(reservation);
    };
    await Promise.all(Array.from({ length: 200 }, (_, i) => new Promise((resolve) => setTimeout(resolve, i % 7)).then(request)));
    await ledger.drained();
    assert.ok(spent <= limit, `seed ${seed}: spent ${spent} of ${limit}`);
    assert.ok(granted > 0 && refused > 0, `seed ${seed}: ${granted} granted, ${refused} refused`);
    assert.equal(ledger.reserved, 0);
  }
});

test('drained waits for the requests in flight', async () => {
  const ledger = new BudgetLedger(10, () => 0);
  const r = ledger.reserve(1);
  let done = false;
  const wait = ledger.drained().then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(done, false);
  ledger.settle(r);
  await wait;
  assert.equal(done, true);
});

test("spending counts the earlier sessions' recorded usage and this session's", () => {
  const zero = { promptTokens: 0, completionTokens: 0 };
  const recorded = { generate: { promptTokens: 2, completionTokens: 1 }, cycle: zero, factuality: zero, correctness: { promptTokens: 1, completionTokens: 0 } };
  let session = { generate: zero, cycle: zero, factuality: zero, correctness: zero };
  const spend = new RunSpend(price, recorded, () => session);
  assert.equal(spend.spentUsd(), 5);
  session = { ...session, cycle: { promptTokens: 1, completionTokens: 1 } };
  assert.equal(spend.spentUsd(), 8);

  const { budget } = runSpending({ price, maxUsd: 8 }, recorded, () => session);
  assert.throws(() => budget!.reserve({ purpose: 'cycle', messages: [], temperature: 0, topP: 1, maxTokens: 16 }, 1), BudgetReached, 'the budget is spent');
  assert.throws(() => runSpending({ maxUsd: 1 }, undefined, () => session), (error: unknown) => isSvdError(error, 'bad_config'), 'no budget without a price');
  assert.deepEqual(runSpending(undefined, undefined, () => session), {});
});

test("batch requests are reserved at the batch price, and spending prices each request at its own rate", () => {
  const zero = { promptTokens: 0, completionTokens: 0 };
  const session = { generate: zero, cycle: zero, factuality: zero, correctness: zero };
  // Recorded: 4 online prompt tokens ($4) and 4 batch ones ($2 at half price).
  const recorded = { ...session, generate: { promptTokens: 8, completionTokens: 0, batch: { promptTokens: 4, completionTokens: 0 } } };
  assert.equal(new RunSpend(price, recorded, () => session).spentUsd(), 6);
  const request = { purpose: 'generate' as const, messages: [], temperature: 0, topP: 1, maxTokens: 2 };
  const bound = requestCostBound(price, request, 1);
  // Room for one online request's bound: twice the batch one fits, a third does not.
  const online = runSpending({ price, maxUsd: 6 + bound }, recorded, () => session).budget!;
  online.reserve(request, 1);
  assert.throws(() => online.reserve(request, 1), BudgetReached);
  const batch = runSpending({ price, maxUsd: 6 + bound, batch: true }, recorded, () => session).budget!;
  const first = batch.reserve(request, 1);
  assert.equal(first.usd, bound / 2);
  batch.reserve(request, 1);
  assert.throws(() => batch.reserve(request, 1), BudgetReached);
});

test('a request written into a batch wave stays reserved after it is settled', () => {
  const ledger = new BudgetLedger(10, () => 0);
  const wave = ledger.reserve(6);
  ledger.commit(wave);
  assert.equal(ledger.reserved, 0, 'nothing in flight');
  assert.equal(ledger.spentUsd(), 6, 'but the batch will bill it');
  ledger.settle(wave);
  assert.equal(ledger.spentUsd(), 6, 'settling after the commit changes nothing');
  assert.throws(() => ledger.reserve(5), BudgetReached);
});
