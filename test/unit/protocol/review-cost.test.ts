// The run's cost in the review's summary: priced by the host's table per stage and per accepted answer, following
// a live run's usage, unknown (never 0) for a model without a price, and valid in the protocol's schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunSummary } from '../../../src/protocol/review';
import { costText } from '../../../src/protocol/reviewCost';
import { ReviewFeed } from '../../../src/protocol/reviewFeed';
import { EventLog, usageOf } from '../../fixtures/events';

function stoppedForBudget(): EventLog {
  const log = new EventLog();
  log.run('started');
  log.seed('s1', { line: 1 });
  const first = log.candidate('s1', 0);
  log.cascade(first, { cycle: ['yes'], factuality: ['yes'], correctness: ['yes'] });
  log.outcome('s1', 'accepted', [first]);
  log.seed('s2', { line: 2 });
  const second = log.candidate('s2', 0);
  log.cascade(second, { cycle: ['yes'], factuality: ['yes'], correctness: ['yes'] });
  log.outcome('s2', 'accepted', [second]);
  log.run('stopped', {
    usage: usageOf({ generate: { requests: 2, promptTokens: 1_000_000, completionTokens: 500_000 }, cycle: { requests: 4, promptTokens: 200_000 } }),
    message: 'stopped for budget: spent $2.2000 of $2.5000',
  });
  return log;
}

const price = { promptPerMillion: 1, completionPerMillion: 2, batchDiscount: 0 };

test('the summary carries the cost per stage, in total and per accepted answer, and says it in its line', () => {
  const log = stoppedForBudget();
  const feed = new ReviewFeed('r', { price: { model: 'm', match: { price, pattern: 'm*', from: 'prices.json' } } });
  feed.load(log.events);
  const { run } = feed.init();
  assert.doesNotThrow(() => RunSummary.parse(run));
  assert.deepEqual(run.cost?.perStage, { generate: 2, cycle: 0.2, factuality: 0, correctness: 0 });
  assert.equal(run.cost?.total, 2.2);
  assert.equal(run.cost?.perAccepted, 1.1);
  assert.equal(costText(run.cost!), 'cost $2.2000, $1.1000 per accepted answer');

  // A live run's usage checkpoint moves the cost.
  log.run('started');
  log.usage(usageOf({ correctness: { requests: 1, completionTokens: 100_000 } }), 100);
  const update = feed.update(log.events, log.events.slice(-2));
  assert.ok(Math.abs(update!.run.cost!.total! - 2.4) < 1e-12, String(update?.run.cost?.total));
});

test('a model without a price costs unknown in the review, never 0; a host that priced nothing shows no cost', () => {
  const feed = new ReviewFeed('r', { price: { model: 'local' } });
  feed.load(stoppedForBudget().events);
  const cost = feed.init().run.cost!;
  assert.equal(cost.total, null);
  assert.equal(cost.perAccepted, null);
  assert.equal(costText(cost), 'cost unknown');
  assert.doesNotThrow(() => RunSummary.parse(feed.init().run));

  const plain = new ReviewFeed('r');
  plain.load(stoppedForBudget().events);
  assert.equal(plain.init().run.cost, undefined);
});
