// Decontamination: seeds that are (or contain) an evaluation item must not become training data, or the held-out
// figures the method is judged by (AIME, HMMT, GPQA, ...) measure memory. A seed is flagged when, in normal form
// (screenText.ts), it equals an item, shares a 13-gram with it, or, where either is too short for 13-grams, shares
// an 8-gram. Items shorter than 8 tokens can only match whole: short questions are the ones 13-gram checks miss.
import { screenTokens } from './screenText';

export const LONG_NGRAM = 13;
export const SHORT_NGRAM = 8;

/** One question of an evaluation file. */
export interface EvalItem {
  /** The evaluation file, as the user named it. */
  against: string;
  /** The item's id in that file. */
  item: string;
  question: string;
}

export interface ContaminationFlag {
  seed: string;
  against: string;
  item: string;
  kind: 'exact' | 'ngram';
  /** The overlapping text, in normal form (lower case, punctuation gone): the longest shared run of tokens. */
  span: string;
}

interface IndexedItem {
  ref: EvalItem;
  tokens: string[];
}

/** The evaluation items indexed once, checked against any number of seeds. */
export class ContaminationIndex {
  private readonly items: IndexedItem[] = [];
  private readonly exact = new Map<string, number>();
  private readonly long = new Map<string, number[]>();
  private readonly short = new Map<string, number[]>();

  constructor(items: Iterable<EvalItem>) {
    for (const ref of items) {
      const tokens = screenTokens(ref.question);
      if (tokens.length === 0) continue;
      const index = this.items.push({ ref, tokens }) - 1;
      const whole = tokens.join(' ');
      if (!this.exact.has(whole)) this.exact.set(whole, index);
      addGrams(this.long, tokens, LONG_NGRAM, index);
      addGrams(this.short, tokens, SHORT_NGRAM, index);
    }
  }

  get size(): number {
    return this.items.length;
  }

  /** The first item the seed's question matches, or undefined when it matches none. Deterministic. */
  check(seedId: string, question: string): ContaminationFlag | undefined {
    const tokens = screenTokens(question);
    if (tokens.length === 0) return undefined;
    const whole = this.exact.get(tokens.join(' '));
    if (whole !== undefined) return this.flag(seedId, whole, 'exact', tokens.join(' '));
    const long = this.firstShared(tokens, LONG_NGRAM, this.long, () => true);
    if (long) return this.flag(seedId, long.item, 'ngram', long.span);
    // 8-grams only where 13-grams cannot decide: a short seed, or a short item.
    const seedShort = tokens.length < LONG_NGRAM;
    const short = this.firstShared(tokens, SHORT_NGRAM, this.short, (item) => seedShort || this.items[item]!.tokens.length < LONG_NGRAM);
    if (short) return this.flag(seedId, short.item, 'ngram', short.span);
    return undefined;
  }

  private flag(seed: string, item: number, kind: ContaminationFlag['kind'], span: string): ContaminationFlag {
    const ref = this.items[item]!.ref;
    return { seed, against: ref.against, item: ref.item, kind, span };
  }

  /** The first item (in seed order) sharing an n-gram, with the longest run of tokens the two share from there. */
  private firstShared(
    tokens: string[],
    n: number,
    grams: Map<string, number[]>,
    admit: (item: number) => boolean,
  ): { item: number; span: string } | undefined {
    for (let i = 0; i + n <= tokens.length; i++) {
      const hits = grams.get(tokens.slice(i, i + n).join(' '));
      if (!hits) continue;
      for (const item of hits) {
        if (!admit(item)) continue;
        return { item, span: longestRun(tokens, i, this.items[item]!.tokens, n).join(' ') };
      }
    }
    return undefined;
  }
}

function addGrams(map: Map<string, number[]>, tokens: string[], n: number, index: number): void {
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join(' ');
    const list = map.get(key);
    if (!list) map.set(key, [index]);
    else if (list[list.length - 1] !== index) list.push(index);
  }
}

/** The shared run of tokens through seed position `at`, grown both ways as far as the two texts agree. */
function longestRun(seed: string[], at: number, item: string[], n: number): string[] {
  const key = seed.slice(at, at + n).join(' ');
  let start = -1;
  for (let j = 0; j + n <= item.length; j++) {
    if (item.slice(j, j + n).join(' ') === key) {
      start = j;
      break;
    }
  }
  if (start === -1) return seed.slice(at, at + n);
  let s = at;
  let t = start;
  while (s > 0 && t > 0 && seed[s - 1] === item[t - 1]) {
    s--;
    t--;
  }
  let e = at + n;
  let u = start + n;
  while (e < seed.length && u < item.length && seed[e] === item[u]) {
    e++;
    u++;
  }
  return seed.slice(s, e);
}

/** Every flagged seed, in seed order. */
export function decontaminate(seeds: Iterable<{ id: string; question: string }>, index: ContaminationIndex): ContaminationFlag[] {
  const flagged: ContaminationFlag[] = [];
  for (const seed of seeds) {
    const flag = index.check(seed.id, seed.question);
    if (flag) flagged.push(flag);
  }
  return flagged;
}
