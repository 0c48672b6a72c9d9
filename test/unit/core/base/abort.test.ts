import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { Slots, abortableSleep, watchAbort } from '../../../../src/core/base/abort';

test('watchAbort calls every watcher still subscribed, once, and leaves the others out', () => {
  const controller = new AbortController();
  const calls: string[] = [];
  watchAbort(controller.signal, () => calls.push('a'));
  const stopB = watchAbort(controller.signal, () => calls.push('b'));
  watchAbort(controller.signal, () => calls.push('c'));
  stopB();
  controller.abort();
  controller.abort();
  assert.deepEqual(calls, ['a', 'c']);
});

test('a signal watched by many keeps one listener of its own', () => {
  const controller = new AbortController();
  const stops = Array.from({ length: 500 }, () => watchAbort(controller.signal, () => {}));
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  for (const stop of stops) stop();
  // A later watcher after all left is still told.
  let told = false;
  watchAbort(controller.signal, () => (told = true));
  controller.abort();
  assert.equal(told, true);
});

test('a sleep ends early with the given error when its signal aborts, and leaves no watcher behind', async () => {
  const controller = new AbortController();
  const sleeping = abortableSleep(60_000, controller.signal, () => new Error('stopped'));
  controller.abort();
  await assert.rejects(sleeping, /stopped/);
  await abortableSleep(1, controller.signal, () => new Error('already')).then(
    () => assert.fail('an aborted signal must not sleep'),
    (error: Error) => assert.equal(error.message, 'already'),
  );
});

test('a waiter for a slot leaves the queue when its signal aborts; the slot goes to the next', async () => {
  const slots = new Slots(1, () => new Error('cancelled'));
  await slots.acquire();
  const controller = new AbortController();
  const first = slots.acquire(controller.signal);
  const second = slots.acquire();
  controller.abort();
  await assert.rejects(first, /cancelled/);
  slots.release();
  await second;
  assert.equal(slots.used, 1);
});
