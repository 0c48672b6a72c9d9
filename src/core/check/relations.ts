// Relations as sets of real numbers: `x \ge 5`, `5 \ge x`, `-x < -5` and `[5, \infty)` are one answer, as are
// `-3 < a < 10` and `(-3, 10)`, or `x < -2` or `x > 3` and `(-\infty, -2) \cup (3, \infty)`.

export type RelationOp = '<' | '>' | 'le' | 'ge' | 'ne';

/** `a < b \le c`: the parts between the signs, and the signs. */
export interface Relation {
  parts: string[];
  ops: RelationOp[];
}

export interface Interval {
  lo: number;
  hi: number;
  loClosed: boolean;
  hiClosed: boolean;
}

/** A union of intervals, sorted and merged. */
export type RealSet = Interval[];

/** `f - g` of one variable as a + b x: what a relation between two linear sides needs. */
export interface LinearForm {
  variable: string;
  slope: number;
  intercept: number;
}

const OPS: Array<[string, RelationOp]> = [
  ['\\le', 'le'],
  ['\\ge', 'ge'],
  ['\\ne', 'ne'],
  ['<', '<'],
  ['>', '>'],
];

/** The relation signs standing outside every bracket; undefined when there are none. */
export function splitRelation(s: string): Relation | undefined {
  const parts: string[] = [];
  const ops: RelationOp[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; ) {
    const ch = s[i]!;
    if (ch === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) {
      depth += s[i + 1] === '{' ? 1 : -1;
      i += 2;
      continue;
    }
    if (depth === 0) {
      const op = OPS.find(([sign]) => s.startsWith(sign, i) && !(sign.startsWith('\\') && /[a-zA-Z]/.test(s[i + sign.length] ?? '')));
      if (op) {
        parts.push(s.slice(start, i).trim());
        ops.push(op[1]);
        i += op[0].length;
        start = i;
        continue;
      }
    }
    if (ch === '\\') {
      i += 2;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    i++;
  }
  parts.push(s.slice(start).trim());
  if (ops.length === 0 || parts.some((part) => part === '')) return undefined;
  return { parts, ops };
}

const FLIP: Record<RelationOp, RelationOp> = { '<': '>', '>': '<', le: 'ge', ge: 'le', ne: 'ne' };

export function flipped(op: RelationOp): RelationOp {
  return FLIP[op];
}

const ALL: RealSet = [{ lo: -Infinity, hi: Infinity, loClosed: false, hiClosed: false }];

/** The set where a x + b `op` 0. */
function halfLine(form: LinearForm, op: RelationOp): RealSet {
  const root = -form.intercept / form.slope;
  const effective = form.slope > 0 ? op : flipped(op);
  switch (effective) {
    case '<':
      return [{ lo: -Infinity, hi: root, loClosed: false, hiClosed: false }];
    case 'le':
      return [{ lo: -Infinity, hi: root, loClosed: false, hiClosed: true }];
    case '>':
      return [{ lo: root, hi: Infinity, loClosed: false, hiClosed: false }];
    case 'ge':
      return [{ lo: root, hi: Infinity, loClosed: true, hiClosed: false }];
    case 'ne':
      return [
        { lo: -Infinity, hi: root, loClosed: false, hiClosed: false },
        { lo: root, hi: Infinity, loClosed: false, hiClosed: false },
      ];
  }
}

/**
 * The set a relation describes, each link of a chain intersected: defined only when every link is linear in one
 * and the same variable. `linear` reads `left - right` as a linear form (undefined otherwise).
 */
export function relationSet(
  relation: Relation,
  linear: (left: string, right: string) => LinearForm | undefined,
): { variable: string; set: RealSet } | undefined {
  let variable: string | undefined;
  let set = ALL;
  for (let k = 0; k < relation.ops.length; k++) {
    const form = linear(relation.parts[k]!, relation.parts[k + 1]!);
    if (!form || (variable !== undefined && form.variable !== variable)) return undefined;
    variable = form.variable;
    set = intersect(set, halfLine(form, relation.ops[k]!));
  }
  return variable === undefined ? undefined : { variable, set: normalize(set) };
}

/** An interval from its written ends: `(a, b]`. undefined when the ends are not in order. */
export function interval(lo: number, hi: number, open: string, close: string): RealSet | undefined {
  if (!(lo <= hi)) return undefined;
  return [{ lo, hi, loClosed: open === '[' && Number.isFinite(lo), hiClosed: close === ']' && Number.isFinite(hi) }];
}

export function union(sets: RealSet[]): RealSet {
  return normalize(sets.flat());
}

function intersect(a: RealSet, b: RealSet): RealSet {
  const out: Interval[] = [];
  for (const x of a) {
    for (const y of b) {
      const lo = Math.max(x.lo, y.lo);
      const hi = Math.min(x.hi, y.hi);
      const loClosed = (x.lo === lo ? x.loClosed : true) && (y.lo === lo ? y.loClosed : true);
      const hiClosed = (x.hi === hi ? x.hiClosed : true) && (y.hi === hi ? y.hiClosed : true);
      if (lo < hi || (lo === hi && loClosed && hiClosed)) out.push({ lo, hi, loClosed, hiClosed });
    }
  }
  return out;
}

/** Sorted, with overlapping or touching intervals merged, so that equal sets read the same. */
function normalize(set: RealSet): RealSet {
  const sorted = [...set].sort((x, y) => x.lo - y.lo || Number(y.loClosed) - Number(x.loClosed));
  const out: Interval[] = [];
  for (const next of sorted) {
    const last = out[out.length - 1];
    if (last && (next.lo < last.hi || (next.lo === last.hi && (last.hiClosed || next.loClosed)))) {
      if (next.hi > last.hi) {
        last.hi = next.hi;
        last.hiClosed = next.hiClosed;
      } else if (next.hi === last.hi) last.hiClosed ||= next.hiClosed;
    } else out.push({ ...next });
  }
  return out;
}

export function contains(set: RealSet, t: number): boolean {
  return set.some((p) => (p.lo < t || (p.lo === t && p.loClosed)) && (t < p.hi || (t === p.hi && p.hiClosed)));
}

// Points away from any end a person writes, from far left to far right.
const GRID = [-1000, -97.3, -10.7, -3.61, -1.47, -0.53, 0.29, 1.13, 2.87, 7.31, 41.9, 1000];

/** Where a relation that cannot be solved is tested against a set: each end of the set, just inside and out, and a
 * grid between. */
export function probePoints(set: RealSet): number[] {
  const points = [...GRID];
  for (const p of set) {
    for (const end of [p.lo, p.hi]) {
      if (!Number.isFinite(end)) continue;
      const step = 1e-6 * Math.max(1, Math.abs(end));
      points.push(end - step, end, end + step);
    }
  }
  return points;
}

/** The same set: the same intervals, their ends equal within `close`, the same ends included. */
export function sameSet(a: RealSet, b: RealSet, close: (x: number, y: number) => boolean): boolean {
  const x = normalize(a);
  const y = normalize(b);
  return (
    x.length === y.length &&
    x.every((p, i) => {
      const q = y[i]!;
      return close(p.lo, q.lo) && close(p.hi, q.hi) && (p.loClosed === q.loClosed || !Number.isFinite(p.lo)) && (p.hiClosed === q.hiClosed || !Number.isFinite(p.hi));
    })
  );
}
