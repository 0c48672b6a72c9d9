// The append log's index: each key's 64-bit hash, byte offset and length in typed arrays, the key itself never kept.
// A run of 10^5 seeds has millions of events and the response cache as many samples; as strings in a Map their ids
// alone took hundreds of megabytes, here an entry costs about 20 bytes plus its share of the table. Two keys may
// share a hash, so a lookup gives every slot whose hash matches and the caller checks the key against the line on
// disk.
// Nothing here ever doubles as a whole: entries live in fixed-size chunks (a new chunk, never a copy), and the table
// is split into segments by the hash's top bits, each rehashed alone, so growing holds two copies of one segment
// (a 256th of the table) at most. A run's memory then rises with its record by small steps, not by doubling.

const EMPTY = 0;
/** Entries per chunk (a power of two); the first chunk starts small and grows to this, so small logs stay small. */
const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const FIRST_CHUNK = 1 << 8;
/** Segments of the table, picked by the top bits of the hash's first half. */
const SEGMENT_BITS = 8;
const SEGMENTS = 1 << SEGMENT_BITS;
const FIRST_SEGMENT = 1 << 4;

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

/** A chunk's entries: the hash's halves and the line's length side by side, offsets apart (they pass 2^32). */
interface Chunk {
  /** [hi, lo, length] per entry. */
  words: Uint32Array;
  offsets: Float64Array;
}

function newChunk(entries: number): Chunk {
  return { words: new Uint32Array(entries * 3), offsets: new Float64Array(entries) };
}

export class KeyIndex {
  private readonly chunks: Chunk[] = [newChunk(FIRST_CHUNK)];
  /** Open addressing, linear probing: slot + 1 per bucket, 0 when empty; each segment kept at most half full. */
  private readonly segments: Int32Array[] = Array.from({ length: SEGMENTS }, () => new Int32Array(FIRST_SEGMENT));
  private readonly filled = new Uint32Array(SEGMENTS);
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(hash: readonly [number, number], offset: number, length: number): void {
    const slot = this.count;
    const chunk = this.chunkFor(slot);
    const at = slot & (CHUNK - 1);
    chunk.words[at * 3] = hash[0];
    chunk.words[at * 3 + 1] = hash[1];
    chunk.words[at * 3 + 2] = length;
    chunk.offsets[at] = offset;
    this.count++;
    const segment = hash[0] >>> (32 - SEGMENT_BITS);
    if ((this.filled[segment]! + 1) * 2 > this.segments[segment]!.length) this.growSegment(segment);
    this.place(this.segments[segment]!, slot, hash[1]);
    this.filled[segment] = this.filled[segment]! + 1;
  }

  /** The slots whose key has this hash, oldest first. */
  slots(hash: readonly [number, number]): number[] {
    const found: number[] = [];
    const table = this.segments[hash[0] >>> (32 - SEGMENT_BITS)]!;
    const mask = table.length - 1;
    for (let bucket = hash[1] & mask; ; bucket = (bucket + 1) & mask) {
      const entry = table[bucket]!;
      if (entry === EMPTY) break;
      const slot = entry - 1;
      const chunk = this.chunks[slot >>> CHUNK_BITS]!;
      const at = (slot & (CHUNK - 1)) * 3;
      if (chunk.words[at] === hash[0] && chunk.words[at + 1] === hash[1]) found.push(slot);
    }
    // A rehash places a segment's slots in table order, not insertion order.
    return found.length > 1 ? found.sort((a, b) => a - b) : found;
  }

  offset(slot: number): number {
    return this.chunks[slot >>> CHUNK_BITS]!.offsets[slot & (CHUNK - 1)]!;
  }

  length(slot: number): number {
    return this.chunks[slot >>> CHUNK_BITS]!.words[(slot & (CHUNK - 1)) * 3 + 2]!;
  }

  /** Bytes held by the index's arrays, for tests and benchmarks. */
  get bytes(): number {
    let total = this.filled.byteLength;
    for (const chunk of this.chunks) total += chunk.words.byteLength + chunk.offsets.byteLength;
    for (const table of this.segments) total += table.byteLength;
    return total;
  }

  /** The chunk that holds `slot`, made when the slot is the first of a new one. */
  private chunkFor(slot: number): Chunk {
    const index = slot >>> CHUNK_BITS;
    if (index === this.chunks.length) this.chunks.push(newChunk(CHUNK));
    const chunk = this.chunks[index]!;
    const at = slot & (CHUNK - 1);
    if (at < chunk.offsets.length) return chunk;
    // Only the first chunk is ever short: it doubles (while small) up to a full chunk.
    const grown = newChunk(Math.min(CHUNK, chunk.offsets.length * 2));
    grown.words.set(chunk.words);
    grown.offsets.set(chunk.offsets);
    this.chunks[index] = grown;
    return grown;
  }

  private lo(slot: number): number {
    return this.chunks[slot >>> CHUNK_BITS]!.words[(slot & (CHUNK - 1)) * 3 + 1]!;
  }

  private place(table: Int32Array, slot: number, lo: number): void {
    const mask = table.length - 1;
    let bucket = lo & mask;
    while (table[bucket] !== EMPTY) bucket = (bucket + 1) & mask;
    table[bucket] = slot + 1;
  }

  private growSegment(segment: number): void {
    const old = this.segments[segment]!;
    const table = new Int32Array(old.length * 2);
    for (const entry of old) if (entry !== EMPTY) this.place(table, entry - 1, this.lo(entry - 1));
    this.segments[segment] = table;
  }
}
