// The append log's index: each key's 64-bit hash, byte offset and length in typed arrays, the key itself never kept.
// A run of 10^5 seeds has millions of events and the response cache as many samples; as strings in a Map their ids
// alone took hundreds of megabytes, here an entry costs about 28 bytes. Two keys may share a hash, so a lookup gives
// every slot whose hash matches and the caller checks the key against the line on disk.

const EMPTY = 0;
const INITIAL = 1 << 10;

/** Two independent 32-bit hashes of the key's UTF-16 units (FNV-1a and a murmur-style mix). */
export function hashKey(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b ^= key.length;
  b = Math.imul(b ^ (b >>> 16), 0xc2b2ae35);
  b ^= b >>> 16;
  return [a >>> 0, b >>> 0];
}

export class KeyIndex {
  private hi = new Uint32Array(INITIAL);
  private lo = new Uint32Array(INITIAL);
  private offsetOf = new Float64Array(INITIAL);
  private lengthOf = new Uint32Array(INITIAL);
  /** Open addressing, linear probing: slot + 1 per bucket, 0 when empty; kept at most half full. */
  private table = new Int32Array(INITIAL * 2);
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(hash: readonly [number, number], offset: number, length: number): void {
    if (this.count === this.hi.length) this.growEntries();
    if ((this.count + 1) * 2 > this.table.length) this.growTable();
    const slot = this.count++;
    this.hi[slot] = hash[0];
    this.lo[slot] = hash[1];
    this.offsetOf[slot] = offset;
    this.lengthOf[slot] = length;
    this.place(slot);
  }

  /** The slots whose key has this hash, oldest first. */
  slots(hash: readonly [number, number]): number[] {
    const found: number[] = [];
    const mask = this.table.length - 1;
    for (let bucket = hash[1] & mask; ; bucket = (bucket + 1) & mask) {
      const entry = this.table[bucket]!;
      if (entry === EMPTY) return found;
      const slot = entry - 1;
      if (this.hi[slot] === hash[0] && this.lo[slot] === hash[1]) found.push(slot);
    }
  }

  offset(slot: number): number {
    return this.offsetOf[slot]!;
  }

  length(slot: number): number {
    return this.lengthOf[slot]!;
  }

  private place(slot: number): void {
    const mask = this.table.length - 1;
    let bucket = this.lo[slot]! & mask;
    while (this.table[bucket] !== EMPTY) bucket = (bucket + 1) & mask;
    this.table[bucket] = slot + 1;
  }

  private growEntries(): void {
    const size = this.hi.length * 2;
    const grow = <A extends Uint32Array | Float64Array>(from: A, make: (n: number) => A): A => {
      const to = make(size);
      to.set(from);
      return to;
    };
    this.hi = grow(this.hi, (n) => new Uint32Array(n));
    this.lo = grow(this.lo, (n) => new Uint32Array(n));
    this.offsetOf = grow(this.offsetOf, (n) => new Float64Array(n));
    this.lengthOf = grow(this.lengthOf, (n) => new Uint32Array(n));
  }

  private growTable(): void {
    this.table = new Int32Array(this.table.length * 2);
    // Slots go back in insertion order, so probing still meets older slots of a hash first.
    for (let slot = 0; slot < this.count; slot++) this.place(slot);
  }
}
