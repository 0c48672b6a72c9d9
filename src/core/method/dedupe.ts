// Duplicates among seeds: the same question twice (in normal form, screenText.ts) or nearly twice (MinHash over
// token shingles, with locality-sensitive hashing so that 10,000 seeds are not 50 million comparisons). Each
// duplicate names the earlier seed it repeats; keeping the first of each group keeps the file's order.
import { SvdError } from '../base/errors';
import { screenTokens } from './screenText';

export const DEFAULT_DUPLICATE_THRESHOLD = 0.8;
/** Tokens per shingle: three keep short questions (a dozen words) comparable. */
const SHINGLE = 3;
const PERMUTATIONS = 128;
// 32 bands of 4 rows: a pair at Jaccard 0.5 becomes a candidate with probability 0.87, at 0.7 with 0.9999; every
// candidate is then measured against the threshold, so the bands only decide what is looked at.
const BANDS = 32;
const ROWS = PERMUTATIONS / BANDS;

export interface DuplicateSeed {
  seed: string;
  /** The earlier seed, kept, that this one repeats. */
  duplicateOf: string;
  kind: 'exact' | 'near';
  /** Estimated Jaccard similarity of the two seeds' shingles (1 for exact). */
  similarity: number;
}

export interface DedupeOptions {
  /** Near-duplicates from this estimated Jaccard similarity up, in (0, 1]; default 0.8. */
  threshold?: number;
}

export function checkThreshold(threshold: number, source = 'threshold'): number {
  if (!(threshold > 0 && threshold <= 1)) {
    throw new SvdError('bad_config', `${source}: expected a similarity above 0 and at most 1, got ${threshold}`);
  }
  return threshold;
}

/** Seeds that repeat an earlier one, in seed order. Deterministic: the same seeds give the same answer. */
export function findDuplicates(seeds: Iterable<{ id: string; question: string }>, options: DedupeOptions = {}): DuplicateSeed[] {
  const threshold = checkThreshold(options.threshold ?? DEFAULT_DUPLICATE_THRESHOLD);
  const exact = new Map<string, string>();
  const kept: { id: string; signature: Uint32Array }[] = [];
  const buckets = new Map<string, number[]>();
  const duplicates: DuplicateSeed[] = [];
  for (const seed of seeds) {
    const tokens = screenTokens(seed.question);
    const whole = tokens.join(' ');
    const first = exact.get(whole);
    if (first !== undefined) {
      duplicates.push({ seed: seed.id, duplicateOf: first, kind: 'exact', similarity: 1 });
      continue;
    }
    const signature = minhash(shingles(tokens));
    const keys = bandKeys(signature);
    let best: { index: number; similarity: number } | undefined;
    const seen = new Set<number>();
    for (const key of keys) {
      for (const index of buckets.get(key) ?? []) {
        if (seen.has(index)) continue;
        seen.add(index);
        const similarity = agreement(signature, kept[index]!.signature);
        // The earliest kept seed over the threshold, so a group always points at its first member.
        if (similarity >= threshold && (best === undefined || index < best.index)) best = { index, similarity };
      }
    }
    if (best) {
      duplicates.push({ seed: seed.id, duplicateOf: kept[best.index]!.id, kind: 'near', similarity: Math.round(best.similarity * 100) / 100 });
      continue;
    }
    exact.set(whole, seed.id);
    const index = kept.push({ id: seed.id, signature }) - 1;
    for (const key of keys) {
      const list = buckets.get(key);
      if (list) list.push(index);
      else buckets.set(key, [index]);
    }
  }
  return duplicates;
}

function shingles(tokens: string[]): Set<number> {
  const out = new Set<number>();
  if (tokens.length < SHINGLE) {
    out.add(fnv1a(tokens.join(' ')));
    return out;
  }
  for (let i = 0; i + SHINGLE <= tokens.length; i++) out.add(fnv1a(tokens.slice(i, i + SHINGLE).join(' ')));
  return out;
}

// Fixed salts, one per permutation, so signatures are the same on every machine and every run.
const SALTS = Uint32Array.from({ length: PERMUTATIONS }, (_, i) => fmix32((i + 1) * 0x9e3779b9));

function minhash(set: Set<number>): Uint32Array {
  const signature = new Uint32Array(PERMUTATIONS).fill(0xffffffff);
  for (const value of set) {
    for (let p = 0; p < PERMUTATIONS; p++) {
      const h = fmix32(value ^ SALTS[p]!);
      if (h < signature[p]!) signature[p] = h;
    }
  }
  return signature;
}

function bandKeys(signature: Uint32Array): string[] {
  const keys: string[] = [];
  for (let b = 0; b < BANDS; b++) {
    let key = `${b}`;
    for (let r = 0; r < ROWS; r++) key += `:${signature[b * ROWS + r]!.toString(36)}`;
    keys.push(key);
  }
  return keys;
}

/** The share of equal positions: MinHash's estimate of the Jaccard similarity. */
function agreement(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: a cheap bijective mix of 32 bits. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
