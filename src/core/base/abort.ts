// Waiting that a cancellation ends at once: retry backoffs and polling loops sleep here, and the model client's
// requests queue here for a concurrency slot.

const fanOuts = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `listener` once when `signal` aborts; the returned function unsubscribes. A run's signal is watched by every
 * request in flight and every request waiting for a slot, hundreds at once: an EventTarget walks its whole listener
 * list on each add and remove, so the signal gets one listener here that fans out to a set.
 */
export function watchAbort(signal: AbortSignal, listener: () => void): () => void {
  let listeners = fanOuts.get(signal);
  if (!listeners) {
    const created = new Set<() => void>();
    listeners = created;
    fanOuts.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        fanOuts.delete(signal);
        for (const each of created) each();
      },
      { once: true },
    );
  }
  const set = listeners;
  set.add(listener);
  return () => void set.delete(listener);
}

/** Resolves after `ms`, or rejects with `onAbortError()`'s error as soon as `signal` fires. */
export function abortableSleep(ms: number, signal: AbortSignal | undefined, onAbortError: () => Error): Promise<void> {
  if (signal?.aborted) return Promise.reject(onAbortError());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop?.();
      resolve();
    }, ms);
    const stop = signal
      ? watchAbort(signal, () => {
          clearTimeout(timer);
          reject(onAbortError());
        })
      : undefined;
  });
}

/** A counting semaphore whose waiters leave the queue as soon as their signal aborts. */
export class Slots {
  used = 0;
  private readonly waiters = new Set<{ resolve: () => void; reject: (error: unknown) => void }>();

  constructor(
    private readonly size: number,
    private readonly onAbort: () => Error,
  ) {}

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(this.onAbort());
    if (this.used < this.size) {
      this.used += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          stop?.();
          resolve();
        },
        reject,
      };
      this.waiters.add(waiter);
      const stop = signal
        ? watchAbort(signal, () => {
            this.waiters.delete(waiter);
            reject(this.onAbort());
          })
        : undefined;
    });
  }

  release(): void {
    const next = this.waiters.values().next();
    if (next.done) {
      this.used -= 1;
      return;
    }
    // The slot passes straight to the next waiter.
    this.waiters.delete(next.value);
    next.value.resolve();
  }
}
