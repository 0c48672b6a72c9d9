// The review's view of a run's seed screening: each flagged seed carries why, the seeds left out are listed in the
// summary, and both pass the message schema the webview checks.
import '../../stubs/register-vscode';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunEvent } from '../../../src/core/record/events';
import type { Screening } from '../../../src/core/record/screening';
import { DEFAULT_FILTER, parseHostMessage } from '../../../src/protocol/review';
import { ReviewFeed } from '../../../src/protocol/reviewFeed';
import { reviewScreening } from '../../../src/vscode/review/reviewPanel';

const seedEvent = (id: string): RunEvent =>
  ({ id: `seed:${id}`, at: '2025-01-01T00:00:00.000Z', type: 'seed', seedId: id, line: 1, domain: 'math', question: `Question ${id}`, prompt: [{ role: 'user', content: `Question ${id}` }] }) as RunEvent;

test('flagged seeds carry why, dropped ones are listed, and the messages pass the schema', () => {
  const screening: Screening = {
    against: [{ file: 'aime.jsonl', path: '/e/aime.jsonl', fingerprint: 'f', items: 30 }],
    flagged: [
      { seed: 'kept', against: 'aime.jsonl', item: 'aime-1', kind: 'ngram', span: 'a b c' },
      { seed: 'gone', against: 'aime.jsonl', item: '<b>aime-2</b>', kind: 'exact', span: 'x' },
    ],
    dropContaminated: false,
    duplicateThreshold: 0.8,
    duplicates: [{ seed: 'twin', duplicateOf: 'kept', kind: 'near', similarity: 0.9 }],
    dropDuplicates: true,
    dropped: ['twin'],
  };
  const feed = new ReviewFeed('r', { canOverride: true, ...reviewScreening(screening) });
  feed.load([seedEvent('kept'), seedEvent('clean')]);
  const page = feed.page({ type: 'requestPage', requestId: 1, filter: DEFAULT_FILTER, offset: 0, limit: 10 });
  const marks = Object.fromEntries(page.seeds.map((seed) => [seed.id, seed.screening]));
  assert.deepEqual(marks, { kept: 'flagged: matches aime.jsonl item aime-1 (ngram)', clean: undefined });
  const init = feed.init();
  assert.deepEqual(init.run.screening, { flagged: 2, duplicates: 1, dropped: [{ seed: 'twin', why: 'dropped: duplicate of kept' }], droppedTotal: 1 });
  assert.ok(parseHostMessage(init), 'init passes the schema');
  assert.ok(parseHostMessage(page), 'the page passes the schema');
  assert.deepEqual(reviewScreening(undefined), {});
});
