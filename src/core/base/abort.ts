// Waiting that a cancellation ends at once: retry backoffs and polling loops sleep here, and the model client's
// requests queue here for a concurrency slot.

/** Resolves after `ms`, or rejects with `onAbort()`'s error as soon as `signal` fires. */
export function abortableSleep(ms: number, signal: AbortSignal | undefined, onAbort: () => Error): Promise<void> {
  if (signal?.aborted) return Promise.reject(onAbort());
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(timer);
      reject(onAbort());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', abort, { once: true });
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
      const onAbort = () => {
        this.waiters.delete(waiter);
        reject(this.onAbort());
      };
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
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
