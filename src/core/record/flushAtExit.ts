// Files with writes still waiting (the append log's deferred lines), written out when the process exits normally:
// at the end of its work or on process.exit. A killed process writes nothing more; the record stays a prefix.

interface Flushable {
  flush(): void;
}

const waiting = new Set<Flushable>();
let hooked = false;

/** `target.flush()` runs at exit unless `settled` is called first. */
export function flushAtExit(target: Flushable): void {
  waiting.add(target);
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const each of [...waiting]) {
      try {
        each.flush();
      } catch {
        // Exiting: nothing left to tell; a resumed run asks again for what was not written.
      }
    }
  });
}

export function settled(target: Flushable): void {
  waiting.delete(target);
}
