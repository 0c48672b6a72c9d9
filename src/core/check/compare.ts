// Whether two parsed final answers are the same: structure first (tuples in order, sets and lists in any order),
// then each value exactly (plain numbers), as a word, or numerically at sample points (expressions).
import { isVariableName, parseAnswer, percentAsFraction, textKey, type Answer } from './latex';
import { contains, flipped, interval, probePoints, relationSet, sameSet, union, type LinearForm, type RealSet, type Relation } from './relations';

export interface Complex {
  re: number;
  im: number;
}

/** An expression read from LaTeX, as a function of its free variables. */
export interface CompiledExpression {
  variables: readonly string[];
  /** undefined where the expression has no finite value (division by zero, outside a function's domain). */
  evaluate(scope: Readonly<Record<string, number>>): Complex | undefined;
  /** A constant of integers, the four operations and small integer powers, as an exact fraction `n/d`. */
  exact?(): string | undefined;
}

/** Reads LaTeX expressions; undefined when one cannot be read. */
export interface ExpressionReader {
  compile(latex: string): CompiledExpression | undefined;
}

const RELATIVE_TOLERANCE = 1e-6;
const MAX_CACHED = 10_000;
const ABSOLUTE_FLOOR = 1e-12;
// Fixed sample points: results must not depend on a random draw. Away from 0, 1 and integers, where
// non-equivalent expressions tend to agree by accident; negative ones too, so that \sqrt{x^2} is not x.
const POINTS = [0.613, -0.742, 1.379, 2.241, -1.563, 0.287, 1.847, -2.903];
// A decimal this many significant digits long may stand for an exact value it rounds correctly: 1.7321 for \sqrt3.
const ROUNDED_DIGITS = 5;
const MAX_PARSED_LENGTH = 4000;
const MAX_NESTING = 64;

/** Too long or too deeply nested to parse in the time one check may take. */
function tooDeep(s: string): boolean {
  if (s.length > MAX_PARSED_LENGTH) return true;
  let depth = 0;
  for (const ch of s) {
    if (ch === '(' || ch === '[' || ch === '{') {
      if (++depth > MAX_NESTING) return true;
    } else if (ch === ')' || ch === ']' || ch === '}') depth--;
  }
  return false;
}

export function closeEnough(a: Complex, b: Complex): boolean {
  if (!Number.isFinite(a.re) || !Number.isFinite(b.re)) return a.re === b.re && Math.abs(a.im - b.im) <= ABSOLUTE_FLOOR;
  const sizeA = Math.hypot(a.re, a.im);
  const sizeB = Math.hypot(b.re, b.im);
  const scale = Math.max(sizeA, sizeB);
  // The floor absorbs rounding noise next to zero (\sin\pi against 0); two tiny nonzero values (10^{-20} and
  // 10^{-21}) still compare by their ratio.
  const floor = sizeA > 0 && sizeB > 0 && scale < ABSOLUTE_FLOOR ? 0 : ABSOLUTE_FLOOR;
  return Math.hypot(a.re - b.re, a.im - b.im) <= Math.max(RELATIVE_TOLERANCE * scale, floor);
}

const PLAIN_NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)$/;
const BASE_NUMBER = /^([0-9A-Za-z]+)_\{?(\d+)\}?$/;

/** Plain decimals compare exactly, so 11111111100 and 11111111000 differ though a relative tolerance would not see it. */
function decimalKey(s: string): string {
  let t = s.replace(/^\+/, '');
  const negative = t.startsWith('-');
  if (negative) t = t.slice(1);
  let [whole = '', fraction = ''] = t.split('.');
  whole = whole.replace(/^0+/, '');
  fraction = fraction.replace(/0+$/, '');
  const key = `${whole || '0'}${fraction ? `.${fraction}` : ''}`;
  return negative && key !== '0' ? `-${key}` : key;
}

export class AnswerComparer {
  private readonly cache = new Map<string, CompiledExpression | undefined>();

  constructor(private readonly reader: ExpressionReader) {}

  /** Two final answers (LaTeX, as found in \boxed{}) mean the same. */
  equivalent(answer: string, gold: string): boolean {
    // Past this size the structure is not parsed (each level of nesting costs a pass): text only.
    if (tooDeep(answer) || tooDeep(gold)) return answer.replace(/\s+/g, '') === gold.replace(/\s+/g, '');
    if (this.same(parseAnswer(answer), parseAnswer(gold))) return true;
    // `10\%` and `0.1`: a percentage may also be read as its fraction (but `0.28` is not `28`).
    const answerFraction = percentAsFraction(answer);
    const goldFraction = percentAsFraction(gold);
    if (answerFraction !== undefined && this.same(answerFraction, parseAnswer(gold))) return true;
    return goldFraction !== undefined && this.same(parseAnswer(answer), goldFraction);
  }

  private same(a: Answer, b: Answer): boolean {
    if (a.kind === 'text' || b.kind === 'text') {
      const key = textKey(a.raw);
      return key !== '' && key === textKey(b.raw);
    }
    if (a.kind === 'list' && a.items.length === 1) return this.same(a.items[0]!, b);
    if (b.kind === 'list' && b.items.length === 1) return this.same(a, b.items[0]!);
    if (hasRelation(a) || hasRelation(b)) return this.sameRelation(a, b);
    if (a.kind === 'list' || b.kind === 'list') {
      return a.kind === 'list' && b.kind === 'list' && this.matchUnordered(a.items, b.items);
    }
    if (a.kind === 'matrix' || b.kind === 'matrix') return this.sameGrid(grid(a), grid(b));
    if (a.kind === 'seq' || b.kind === 'seq') {
      return (
        a.kind === 'seq' &&
        b.kind === 'seq' &&
        a.open === b.open &&
        a.close === b.close &&
        a.items.length === b.items.length &&
        a.items.every((item, i) => this.same(item, b.items[i]!))
      );
    }
    if (a.kind === 'equation' || b.kind === 'equation') {
      // `y = 2 - x` was read as the value 2 - x named y: against an equation, it is the equation again.
      const asEquation = (x: Answer) =>
        x.kind === 'expr' && x.name !== undefined && isVariableName(x.name) ? { left: x.name, right: x.raw } : x.kind === 'equation' ? x : undefined;
      const left = asEquation(a);
      const right = asEquation(b);
      return left !== undefined && right !== undefined && this.sameEquation(left, right);
    }
    return this.sameValue(a.raw, b.raw);
  }

  private sameGrid(a: Answer[][] | undefined, b: Answer[][] | undefined): boolean {
    if (!a || !b || a.length !== b.length) return false;
    return a.every((row, i) => row.length === b[i]!.length && row.every((cell, j) => this.same(cell, b[i]![j]!)));
  }

  /** Every item of one list equals a distinct item of the other: a bipartite matching (augmenting paths). */
  private matchUnordered(a: Answer[], b: Answer[]): boolean {
    if (a.length !== b.length) return false;
    const memo = new Map<number, boolean>();
    const equal = (i: number, j: number): boolean => {
      const key = i * b.length + j;
      let value = memo.get(key);
      if (value === undefined) memo.set(key, (value = this.sameItem(a[i]!, b[j]!)));
      return value;
    };
    const owner = new Array<number>(b.length).fill(-1);
    const augment = (i: number, seen: boolean[]): boolean => {
      for (let j = 0; j < b.length; j++) {
        if (seen[j] || !equal(i, j)) continue;
        seen[j] = true;
        if (owner[j] === -1 || augment(owner[j]!, seen)) {
          owner[j] = i;
          return true;
        }
      }
      return false;
    };
    for (let i = 0; i < a.length; i++) {
      if (!augment(i, new Array<boolean>(b.length).fill(false))) return false;
    }
    return true;
  }

  /** Items of a list: `a = 1, b = 2` is not `a = 2, b = 1`, though the values match. */
  private sameItem(a: Answer, b: Answer): boolean {
    if (a.kind === 'expr' && b.kind === 'expr' && a.name && b.name && a.name !== b.name) return false;
    return this.same(a, b);
  }

  /** Relations as sets of reals (against intervals, unions, other relations); else sign by sign. */
  private sameRelation(a: Answer, b: Answer): boolean {
    const x = this.realSet(a);
    const y = this.realSet(b);
    if (x && y) {
      if (x.variable !== undefined && y.variable !== undefined && x.variable !== y.variable) return false;
      return sameSet(x.set, y.set, (p, q) => (Number.isFinite(p) || Number.isFinite(q) ? closeEnough({ re: p, im: 0 }, { re: q, im: 0 }) : p === q));
    }
    // `|x| < 1`, `x^2 < 4`: not solved, but tested against the other side's set at and around its ends.
    if (x && !y && b.kind === 'relation') return this.holdsOn(b, x.set);
    if (y && !x && a.kind === 'relation') return this.holdsOn(a, y.set);
    if (a.kind !== 'relation' || b.kind !== 'relation' || a.ops.length !== b.ops.length) return false;
    // `f(2) < f(1) < f(4)`, read the same way or backwards with the signs turned.
    const forward = a.ops.every((op, i) => op === b.ops[i]) && a.parts.every((part, i) => this.sameValue(part, b.parts[i]!));
    const n = b.parts.length - 1;
    const backward = a.ops.every((op, i) => op === flipped(b.ops[n - 1 - i]!)) && a.parts.every((part, i) => this.sameValue(part, b.parts[n - i]!));
    return forward || backward;
  }

  /** The relation holds exactly where the set contains the point, at every probe point (one variable only). */
  private holdsOn(relation: Relation, set: RealSet): boolean {
    const parts = relation.parts.map((part) => this.compile(part));
    if (parts.some((part) => !part)) return false;
    const names = new Set(parts.flatMap((part) => part!.variables));
    if (names.size !== 1) return false;
    const variable = [...names][0]!;
    const OPS: Record<string, (p: number, q: number) => boolean> = { '<': (p, q) => p < q, '>': (p, q) => p > q, le: (p, q) => p <= q, ge: (p, q) => p >= q, ne: (p, q) => p !== q };
    for (const t of probePoints(set)) {
      const values = parts.map((part) => part!.evaluate({ [variable]: t }));
      // Where a side has no real value (1/x at 0), the relation does not hold.
      const real = values.every((v) => v !== undefined && isReal(v) && Number.isFinite(v.re));
      const holds = real && relation.ops.every((op, k) => OPS[op]!(values[k]!.re, values[k + 1]!.re));
      if (holds !== contains(set, t)) return false;
    }
    return true;
  }

  private realSet(a: Answer): { variable?: string; set: RealSet } | undefined {
    if (a.kind === 'relation') return relationSet(a, (left, right) => this.linearForm(left, right));
    if (a.kind === 'seq' && a.items.length === 2 && '(['.includes(a.open) && ')]'.includes(a.close)) {
      const lo = this.constant(a.items[0]!);
      const hi = this.constant(a.items[1]!);
      const set = lo === undefined || hi === undefined ? undefined : interval(lo, hi, a.open, a.close);
      return set && { set };
    }
    if (a.kind === 'list') {
      const parts = a.items.map((item) => this.realSet(item));
      if (parts.some((part) => part === undefined)) return undefined;
      const names = new Set(parts.map((part) => part!.variable).filter((name) => name !== undefined));
      if (names.size > 1) return undefined;
      return { variable: [...names][0], set: union(parts.map((part) => part!.set)) };
    }
    return undefined;
  }

  private constant(a: Answer): number | undefined {
    if (a.kind !== 'expr') return undefined;
    const f = this.compile(a.raw);
    if (!f || f.variables.length > 0) return undefined;
    const value = f.evaluate({});
    return value && Math.abs(value.im) < ABSOLUTE_FLOOR ? value.re : undefined;
  }

  /** left - right as slope * v + intercept, when it is linear in one variable. */
  private linearForm(left: string, right: string): LinearForm | undefined {
    const f = this.compileDifference(left, right);
    if (!f || f.variables.length !== 1) return undefined;
    const variable = f.variables[0]!;
    const at = (x: number) => {
      const value = f.evaluate({ [variable]: x });
      return value && Math.abs(value.im) < ABSOLUTE_FLOOR && Number.isFinite(value.re) ? value.re : undefined;
    };
    const f0 = at(0);
    const f1 = at(1);
    const f2 = at(2.5);
    // A point on the other side of 0 too: |x| - 1 is linear on 0, 1, 2.5.
    const f3 = at(-1.7);
    if (f0 === undefined || f1 === undefined || f2 === undefined || f3 === undefined) return undefined;
    const slope = f1 - f0;
    const off = (value: number, t: number) => Math.abs(value - (f0 + t * slope)) > 1e-9 * Math.max(1, Math.abs(value));
    if (Math.abs(slope) < 1e-12 || off(f2, 2.5) || off(f3, -1.7)) return undefined;
    return { variable, slope, intercept: f0 };
  }

  /** Equations are the same when left - right of one is a nonzero constant multiple of the other's. */
  private sameEquation(a: { left: string; right: string }, b: { left: string; right: string }): boolean {
    const f = this.compileDifference(a.left, a.right);
    const g = this.compileDifference(b.left, b.right);
    if (!f || !g) return false;
    const variables = [...new Set([...f.variables, ...g.variables])];
    let ratio: Complex | undefined;
    let compared = 0;
    for (const scope of scopes(variables)) {
      const u = f.evaluate(scope);
      const v = g.evaluate(scope);
      if (!u || !v) continue;
      const size = Math.hypot(v.re, v.im);
      if (size < 1e-9) {
        if (Math.hypot(u.re, u.im) > 1e-9) return false;
        continue;
      }
      const r = divide(u, v);
      if (ratio === undefined) {
        if (Math.hypot(r.re, r.im) < 1e-12) return false;
        ratio = r;
      } else if (!closeEnough(r, ratio)) return false;
      compared++;
    }
    return compared > 0;
  }

  private compileDifference(left: string, right: string): CompiledExpression | undefined {
    return this.compile(`${left}-(${right})`);
  }

  private sameValue(a: string, b: string): boolean {
    const x = a.replace(/\s+/g, '');
    const y = b.replace(/\s+/g, '');
    if (x === y) return true;
    if (PLAIN_NUMBER.test(x) && PLAIN_NUMBER.test(y)) return decimalKey(x) === decimalKey(y);
    const bx = BASE_NUMBER.exec(x);
    const by = BASE_NUMBER.exec(y);
    if (bx || by) {
      // A number in another base (`52_8`): the digits must agree, and the base too where both name it.
      const digitsX = bx ? bx[1]! : x;
      const digitsY = by ? by[1]! : y;
      return digitsX.toLowerCase() === digitsY.toLowerCase() && (!bx || !by || bx[2] === by[2]);
    }
    const f = this.compile(a);
    const g = this.compile(b);
    if (!f || !g) return false;
    const variables = [...new Set([...f.variables, ...g.variables])];
    // Rational constants compare exactly where floats cannot: 10^{15} + 1 and 10^{15}. A decimal is left to the
    // rounding rule below, since 4.666666667 stands for 14/3.
    if (variables.length === 0 && !x.includes('.') && !y.includes('.')) {
      const p = f.exact?.();
      const q = g.exact?.();
      if (p !== undefined && q !== undefined) return p === q;
    }
    // Infinity only where it is written: 200! and 300! both overflow, which says nothing.
    const infinite = /\\infty/.test(a) && /\\infty/.test(b);
    const rounded = variables.length === 0 ? roundingStep(x) ?? roundingStep(y) : undefined;
    let compared = 0;
    for (const scope of scopes(variables)) {
      const u = f.evaluate(scope);
      const v = g.evaluate(scope);
      if (!u && !v) continue;
      if (!u || !v) return false;
      if (!infinite && !(isFinite(u) && isFinite(v))) return false;
      // One side real and the other not: a branch of a root or logarithm (x^{1/3} at x < 0), not a difference.
      if (variables.length > 0 && isReal(u) !== isReal(v)) continue;
      if (!closeEnough(u, v) && !(rounded !== undefined && Math.abs(u.im - v.im) <= ABSOLUTE_FLOOR && Math.abs(u.re - v.re) <= rounded)) return false;
      compared++;
    }
    // An expression in variables must agree at two points at least: one may be all its real branch has.
    return compared > (variables.length > 0 ? 1 : 0);
  }

  private compile(latex: string): CompiledExpression | undefined {
    if (!this.cache.has(latex)) {
      // A long-lived process checks many answers: the cache is for repeats within a batch, not for ever.
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      this.cache.set(latex, this.reader.compile(latex));
    }
    return this.cache.get(latex);
  }
}

/** A matrix, a column or row vector, or a parenthesised tuple, as rows of cells. */
function grid(a: Answer): Answer[][] | undefined {
  if (a.kind === 'matrix') {
    // A single row or column compares with a tuple: (1, 2, 3) and a column vector are the same answer.
    if (a.rows.every((row) => row.length === 1)) return a.rows;
    if (a.rows.length === 1) return a.rows[0]!.map((cell) => [cell]);
    return a.rows;
  }
  if (a.kind === 'seq' && a.open === '(' && a.close === ')') return a.items.map((item) => [item]);
  return undefined;
}

function isFinite(a: Complex): boolean {
  return Number.isFinite(a.re) && Number.isFinite(a.im);
}

function isReal(a: Complex): boolean {
  return Math.abs(a.im) <= ABSOLUTE_FLOOR * Math.max(1, Math.abs(a.re));
}

/** Half a unit of a decimal's last place, when it is long enough to be read as a rounding; else undefined. */
function roundingStep(s: string): number | undefined {
  if (!PLAIN_NUMBER.test(s) || !s.includes('.')) return undefined;
  const places = s.length - s.indexOf('.') - 1;
  const significant = s.replace(/^[-+]?[0.]*/, '').replace('.', '').length;
  return significant >= ROUNDED_DIGITS ? 0.5 * 10 ** -places * (1 + 1e-9) : undefined;
}

function hasRelation(a: Answer): boolean {
  return a.kind === 'relation' || (a.kind === 'list' && a.items.some((item) => item.kind === 'relation'));
}

function divide(a: Complex, b: Complex): Complex {
  const d = b.re * b.re + b.im * b.im;
  return { re: (a.re * b.re + a.im * b.im) / d, im: (a.im * b.re - a.re * b.im) / d };
}

function* scopes(variables: readonly string[]): Generator<Record<string, number>> {
  if (variables.length === 0) {
    yield {};
    return;
  }
  for (let k = 0; k < POINTS.length; k++) {
    const scope: Record<string, number> = {};
    // Each variable takes a different point, so x - y and y - x are told apart.
    variables.forEach((name, i) => (scope[name] = POINTS[(k + i * 2) % POINTS.length]! + i * 0.0731));
    yield scope;
  }
}
