// The shown seeds' rows as columns (domain, status, candidate flag words) and their totals for the run's summary,
// made in one pass that reads rows saved on disk where they lie packed: a filter over 100,000 seeds then runs over
// typed arrays, and a loaded index never unpacks a row it does not show. Pure; the host's side only (audit).
import { RowTotals, type SeedRow } from './reviewRows';

/** The seeds as the index holds them, by position in the fold's order. */
export interface RowSource {
  /** Changes whenever a row or a seed's place may have. */
  revision(): number;
  count(): number;
  /** Where the seed's row lies in `packedRows()`, or -1 where it is an object (`rowAt`). */
  packedRowAt(position: number): number;
  packedRows(): { numbers: Float64Array; strings: readonly string[] } | undefined;
  rowAt(position: number): SeedRow;
}

export interface RowColumns {
  /** The source's revision they were read at. */
  revision: number;
  count: number;
  domain: Uint8Array;
  status: Uint8Array;
  /** The seed's flag words are `flags[start[p]]` to `flags[start[p + 1]]`. */
  start: Uint32Array;
  flags: Uint32Array;
  totals: RowTotals;
}

export function rowColumns(source: RowSource): RowColumns {
  const revision = source.revision();
  const count = source.count();
  const packed = source.packedRows();
  const numbers = packed?.numbers;
  const domain = new Uint8Array(count);
  const status = new Uint8Array(count);
  const start = new Uint32Array(count + 1);
  const totals = new RowTotals();
  // Where each row lies packed (-1: an object), and the rows that are objects, read once.
  const at = new Int32Array(count);
  const objects: SeedRow[] = [];
  let words = 0;
  for (let p = 0; p < count; p++) {
    const where = packed ? source.packedRowAt(p) : -1;
    at[p] = where;
    if (where >= 0) words += numbers![where + 3]!;
    else {
      const row = source.rowAt(p);
      objects.push(row);
      words += row.c.length;
    }
  }
  const flags = new Uint32Array(words);
  let used = 0;
  let object = 0;
  for (let p = 0; p < count; p++) {
    start[p] = used;
    const where = at[p]!;
    if (where >= 0) {
      domain[p] = numbers![where + 1]!;
      status[p] = numbers![where + 2]!;
      const n = numbers![where + 3]!;
      for (let k = 0; k < n; k++) flags[used++] = numbers![where + 4 + k]!;
      totals.addPacked(numbers!, packed!.strings, where);
    } else {
      const row = objects[object++]!;
      domain[p] = row.d;
      status[p] = row.s;
      for (const word of row.c) flags[used++] = word;
      totals.add(row);
    }
  }
  start[count] = used;
  return { revision, count, domain, status, start, flags, totals };
}
