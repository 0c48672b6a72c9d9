// A LaTeX final answer in the shape the math checker compares: first cleaned of what does not change its value
// (spacing, \left \right, dollar signs, units, degree signs, thousands separators), then split into its structure.
import { splitRelation, type RelationOp } from './relations';

/** What a final answer is. `raw` is the cleaned text, kept for comparing words. */
export type Answer =
  | { kind: 'text'; raw: string }
  /** `name`: the `y` of `y = 2x + 3`, dropped from raw, kept to compare with an equation. */
  | { kind: 'expr'; raw: string; name?: string }
  /** `a < x \le b`, `x \ne 3`: signs normalised to \le, \ge, \ne, <, >. */
  | { kind: 'relation'; raw: string; parts: string[]; ops: RelationOp[] }
  | { kind: 'equation'; raw: string; left: string; right: string }
  /** Ordered, with its brackets: a tuple, a point, an interval. */
  | { kind: 'seq'; raw: string; open: string; close: string; items: Answer[] }
  /** Unordered: a set, a list of solutions, the two values of \pm, a union of intervals. */
  | { kind: 'list'; raw: string; items: Answer[] }
  | { kind: 'matrix'; raw: string; rows: Answer[][] };

const TEXT_COMMANDS = 'text|textbf|textit|textrm|textsf|texttt|textnormal|mathrm|mathit|mathbf|mathsf|mbox|hbox';
const WHOLE_TEXT = new RegExp(`^\\\\(?:${TEXT_COMMANDS})\\s*\\{([^{}]*)\\}$`);
const TEXT_GROUP = new RegExp(`\\\\(?:${TEXT_COMMANDS})\\s*\\{([^{}]*)\\}(\\s*\\^\\s*\\{?\\s*[23]\\s*\\}?)?`, 'g');
// Units written without \text after a plain number: "36 dollars", "15 cm^2".
const SHORT_UNITS = new Set(['cm', 'mm', 'km', 'm', 'ft', 'in', 'yd', 'mi', 'kg', 'g', 'mg', 'lb', 'lbs', 'oz', 's', 'h', 'hr', 'ml', 'l']);

/** Drops what never changes an answer's value. Keeps the structure (brackets, commas, \\ and &) intact. */
export function cleanLatex(input: string): string {
  let s = input.trim();
  s = s.replace(/\\\$/g, '').replace(/\$/g, '');
  s = s.replace(/^\\\(|\\\)$/g, '').replace(/^\\\[|\\\]$/g, '');
  s = s.replace(/\\(?:display|text|script)style\b/g, '');
  s = s.replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|bigg|Bigg|big|Big)(?![a-zA-Z])\.?/g, '');
  s = s.replace(/\\(?:dfrac|tfrac|cfrac)(?![a-zA-Z])/g, '\\frac').replace(/\\(?:dbinom|tbinom)(?![a-zA-Z])/g, '\\binom');
  // Thin and negative spaces: `10,\!080`, `1\,000`. A preceding backslash makes it a row break (`\\`), kept.
  s = s.replace(/,\s*\\!\s*/g, ',');
  s = s.replace(/(?<!\\)\\[,;:! ]/g, ' ').replace(/\\q?quad(?![a-zA-Z])/g, ' ').replace(/~/g, ' ');
  s = s.replace(/\{,\}/g, ',');
  // `\cos 60^\circ`: an angle in degrees inside a function is converted, elsewhere the sign is dropped.
  s = s.replace(/(\\(?:sin|cos|tan|cot|sec|csc)\s*\(?\s*)(\d+(?:\.\d+)?)\s*\^\s*\{?\s*\\circ\s*\}?/g, '$1\\frac{$2\\pi}{180}');
  s = s.replace(/\^\s*\{?\s*\\circ\s*\}?/g, '').replace(/\\circ(?![a-zA-Z])|\\degree(?![a-zA-Z])|°/g, '');
  s = s.replace(/\\?%/g, '');
  s = s
    .replace(/\\(?:geqslant|geq|ge)(?![a-zA-Z])|>=|≥/g, '\\ge ')
    .replace(/\\(?:leqslant|leq|le)(?![a-zA-Z])|<=|≤/g, '\\le ')
    .replace(/\\(?:neq|ne)(?![a-zA-Z])|!=|≠/g, '\\ne ')
    .replace(/\\lt(?![a-zA-Z])/g, '<')
    .replace(/\\gt(?![a-zA-Z])/g, '>');
  s = s.replace(/[\u2212\u2013]/g, '-').replace(/×/g, '\\times ').replace(/[·⋅]/g, '\\cdot ').replace(/π/g, '\\pi ').replace(/∞/g, '\\infty ');
  s = s.replace(/\s+/g, ' ').trim();
  s = s.replace(/\s*\.$/, '');
  return s;
}

/** Units and words after a value are dropped; a one-letter or numeric \text{} (`\mathrm{i}`) keeps its content. */
function dropUnits(s: string): string {
  let out = s.replace(TEXT_GROUP, (_match, content: string) => {
    const inner = content.trim();
    if (/^(?:and|or)$/i.test(inner)) return ',';
    if (/^[a-zA-Z]$/.test(inner) || /^[-+]?[\d.]+$/.test(inner)) return inner;
    return ' ';
  });
  out = out.replace(/\s+/g, ' ').trim();
  const plain = /^([-+]?[\d.,]+(?:\/[\d.]+)?)\s+([a-zA-Z]+(?:\s+[a-zA-Z]+)*)\s*(?:\^\s*\{?[23]\}?)?$/.exec(out);
  if (plain) {
    const words = plain[2]!.split(/\s+/);
    if (words.every((w) => w.length >= 3 || SHORT_UNITS.has(w.toLowerCase()))) out = plain[1]!;
  }
  return out;
}

/** `1,000` and `11,111,100` as one number; a comma between other things separates list items. */
function dropThousands(s: string): string {
  const t = s.trim();
  // `32, 349` is two numbers: a separator has no space after it. `1 000` (a thin space) is one.
  if (/^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(t)) return t.replace(/,/g, '');
  if (/^[-+]?\d{1,3}(?: \d{3})+(?:\.\d+)?$/.test(t)) return t.replace(/ /g, '');
  return s;
}

/** `25\%`, `33\frac13\%` as the fraction they stand for, when the whole answer is one value in percent. */
export function percentAsFraction(input: string): Answer | undefined {
  if (!/%\s*\$?\s*\.?\s*$/.test(input)) return undefined;
  const value = parseAnswer(input);
  return value.kind === 'expr' ? { kind: 'expr', raw: `\\frac{${value.raw}}{100}` } : undefined;
}

const SUBSCRIPTED = '[a-zA-Z](?:_\\{?\\w+\\}?)?';
/** What names a value rather than being part of it: `x`, `x_1`, `AB`, `\angle ABC`, `f(x)`, `(p, q)`, `\theta`. */
const LABEL = new RegExp(
  `^(?:${[
    '',
    SUBSCRIPTED,
    '[A-Z]{2,3}',
    '(?:m\\s*)?\\\\angle\\s*[A-Z]{1,3}',
    '\\\\(?:alpha|beta|gamma|delta|theta|lambda|mu|phi|omega|sigma|rho|tau)',
    '[a-zA-Z]\\s*\\(\\s*[a-zA-Z0-9]+(?:\\s*,\\s*[a-zA-Z0-9]+)*\\s*\\)',
    `\\(\\s*${SUBSCRIPTED}(?:\\s*,\\s*${SUBSCRIPTED})+\\s*\\)`,
  ].join('|')})$`,
);
const VARIABLE_NAME = new RegExp(`^${SUBSCRIPTED}$`);

export function isLabel(s: string): boolean {
  return LABEL.test(s.trim());
}

/** A name an equation can be rebuilt from (`y` of `y = 2x`). */
export function isVariableName(s: string): boolean {
  return VARIABLE_NAME.test(s);
}

/** The cleaned answer, parsed into its structure. */
export function parseAnswer(input: string): Answer {
  const cleaned = cleanLatex(input);
  const whole = WHOLE_TEXT.exec(cleaned);
  // A whole-answer \text{} with no digit is a word answer (a name, a direction, a choice "(C)").
  if (whole && !/\d/.test(whole[1]!)) return { kind: 'text', raw: whole[1]!.trim() };
  let s = dropUnits(cleaned);
  // `1 and 2`, `x = 1 or x = 2`: words between values separate them.
  if (/[\d\\]/.test(s)) s = s.replace(/\s+(?:and|or)\s+/gi, ', ');
  return parseStructure(dropThousands(s));
}

function parseStructure(input: string): Answer {
  // `x \in [-2, 7]`, `x = 5`: the name of what is answered is not part of the answer.
  let s = input.trim().replace(/^[a-zA-Z]\s*\\in\s+/, '');
  // `\frac13 \approx 0.33` is the exact value; `x \approx 0.33` the approximation.
  const approx = splitTopLevel(s, ['\\approx']);
  if (approx.length > 1) s = isLabel(approx[0]!) ? approx[approx.length - 1]! : approx[0]!;
  const equals = topLevelIndexOf(s, '=');
  if (equals.length > 0) {
    const left = s.slice(0, equals[0]).trim();
    // `x = 5 + 6 = 11`: the last value. `AB = 4, CD = 5` is a list of labelled values, split first.
    const rest = dropThousands(s.slice(equals[0]! + 1).trim());
    if (isLabel(left) && splitTopLevel(rest, [',', ';']).length === 1) {
      const value = parseValue(dropThousands(s.slice(equals[equals.length - 1]! + 1).trim()));
      return value.kind === 'expr' && left !== '' ? { ...value, name: left.replace(/\s+/g, '') } : value;
    }
  }
  return parseValue(dropThousands(s));
}

function parseValue(s: string): Answer {
  const union = splitTopLevel(s, ['\\cup']);
  if (union.length > 1) return { kind: 'list', raw: s, items: union.map(parseStructure) };

  const set = /^\\\{(.*)\\\}$/s.exec(s);
  if (set && closes(s, 0) === s.length - 1) {
    // A set written with an item twice is the same set.
    const items = [...new Set(splitTopLevel(set[1]!, [',', ';']).map((item) => item.replace(/\s+/g, ' ')))];
    return { kind: 'list', raw: s, items: items.flatMap(expandItem) };
  }

  const matrix = /^\\begin\{([pbBvV]?matrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$/s.exec(s);
  if (matrix) {
    const rows = splitTopLevel(matrix[2]!, ['\\\\'])
      .map((row) => row.trim())
      .filter((row) => row !== '');
    return { kind: 'matrix', raw: s, rows: rows.map((row) => splitTopLevel(row, ['&']).map(parseStructure)) };
  }

  const first = s[0];
  const last = s[s.length - 1];
  const wrapped = closes(s, 0) === s.length - 1;
  // `{1, 2, 3}` written with plain braces is a set; `{x}` a group.
  if (first === '{' && wrapped) {
    const items = splitTopLevel(s.slice(1, -1), [',', ';']);
    return items.length > 1 ? { kind: 'list', raw: s, items: items.flatMap(expandItem) } : parseStructure(s.slice(1, -1));
  }
  // A matrix in brackets: `\left[\begin{array}{cc} ... \end{array}\right]`.
  if ((first === '(' || first === '[') && wrapped && /^\\begin\{[a-zA-Z]*\}.*\\end\{[a-zA-Z]*\}$/s.test(s.slice(1, -1).trim())) {
    return parseValue(s.slice(1, -1).trim());
  }
  if ((first === '(' || first === '[') && (last === ')' || last === ']') && wrapped) {
    const items = splitTopLevel(s.slice(1, -1), [',']);
    if (items.length > 1) return { kind: 'seq', raw: s, open: first, close: last, items: items.map(parseStructure) };
  }

  const items = splitTopLevel(s, [',', ';']);
  if (items.length > 1) return { kind: 'list', raw: s, items: items.flatMap(expandItem) };

  const expanded = expandPlusMinus(s);
  if (expanded.length > 1) return { kind: 'list', raw: s, items: expanded.map(parseStructure) };

  const relation = splitRelation(s);
  if (relation) return { kind: 'relation', raw: s, ...relation };

  const equals = topLevelIndexOf(s, '=');
  if (equals.length === 1) {
    const at = equals[0]!;
    return { kind: 'equation', raw: s, left: s.slice(0, at).trim(), right: s.slice(at + 1).trim() };
  }
  const mixed = /^([-+]?)(\d+)\s*\\frac\s*\{?(\d+)\}?\s*\{?(\d+)\}?$/.exec(s);
  if (mixed) return { kind: 'expr', raw: `${mixed[1]}(${mixed[2]}+\\frac{${mixed[3]}}{${mixed[4]}})` };
  const plainMixed = /^([-+]?)(\d{1,3}(?: \d{3})+|\d+)\s+(\d+)\s*\/\s*(\d+)$/.exec(s);
  if (plainMixed && Number(plainMixed[3]) < Number(plainMixed[4])) {
    return { kind: 'expr', raw: `${plainMixed[1]}(${plainMixed[2]!.replace(/ /g, '')}+\\frac{${plainMixed[3]}}{${plainMixed[4]}})` };
  }
  if (s !== '' && !/[\d\\]/.test(s) && /[a-zA-Z]{2,}\s+[a-zA-Z]{2,}/.test(s)) return { kind: 'text', raw: s };
  return { kind: 'expr', raw: s };
}

/** A list item: `1 \pm \sqrt5` stands for two items. */
function expandItem(item: string): Answer[] {
  const parsed = parseStructure(item);
  return parsed.kind === 'list' && /\\(?:pm|mp)(?![a-zA-Z])/.test(item) ? parsed.items : [parsed];
}

// More signs than this are left as they are: 2^n values would say nothing a person means.
const MAX_PLUS_MINUS = 4;

/** `a \pm b` as [a + b, a - b]; several signs multiply out. */
export function expandPlusMinus(s: string): string[] {
  if ((s.match(/\\(?:pm|mp)(?![a-zA-Z])/g) ?? []).length > MAX_PLUS_MINUS) return [s];
  return expandSigns(s);
}

function expandSigns(s: string): string[] {
  const at = /\\(pm|mp)(?![a-zA-Z])/.exec(s);
  if (!at) return [s];
  const before = s.slice(0, at.index);
  const after = s.slice(at.index + at[0].length);
  const [first, second] = at[1] === 'pm' ? ['+', '-'] : ['-', '+'];
  return [...expandSigns(`${before}${first}${after}`), ...expandSigns(`${before}${second}${after}`)];
}

const OPENERS = new Set(['(', '[', '{']);
const CLOSERS = new Set([')', ']', '}']);

/** Steps over one character or one escaped pair (`\{`, `\\`), returning the bracket depth change and the width. */
function step(s: string, i: number): { delta: number; width: number } {
  const ch = s[i]!;
  if (ch === '\\') {
    const next = s[i + 1];
    if (next === '{') return { delta: 1, width: 2 };
    if (next === '}') return { delta: -1, width: 2 };
    return { delta: 0, width: next === undefined ? 1 : 2 };
  }
  if (OPENERS.has(ch)) return { delta: 1, width: 1 };
  if (CLOSERS.has(ch)) return { delta: -1, width: 1 };
  return { delta: 0, width: 1 };
}

/** Index of the bracket that closes the one at `open` (any bracket kind closes any: `(3, 4]` is an interval). */
function closes(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; ) {
    const { delta, width } = step(s, i);
    depth += delta;
    if (depth === 0) return i + width - 1;
    i += width;
  }
  return -1;
}

/** Splits on separators that stand outside every bracket. */
export function splitTopLevel(s: string, separators: string[]): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; ) {
    if (depth === 0) {
      const sep = separators.find((candidate) => s.startsWith(candidate, i) && !(candidate.startsWith('\\') && /[a-zA-Z]/.test(s[i + candidate.length] ?? '')));
      if (sep !== undefined && !(sep === ',' && s[i - 1] === '\\')) {
        parts.push(s.slice(start, i).trim());
        i += sep.length;
        start = i;
        continue;
      }
    }
    const { delta, width } = step(s, i);
    depth += delta;
    i += width;
  }
  parts.push(s.slice(start).trim());
  const filled = parts.filter((part) => part !== '');
  return filled.length > 0 ? filled : [''];
}

function topLevelIndexOf(s: string, ch: string): number[] {
  const found: number[] = [];
  let depth = 0;
  for (let i = 0; i < s.length; ) {
    if (depth === 0 && s[i] === ch && s[i - 1] !== '\\' && s[i + 1] !== '=' && s[i - 1] !== '<' && s[i - 1] !== '>' && s[i - 1] !== '!') found.push(i);
    const { delta, width } = step(s, i);
    depth += delta;
    i += width;
  }
  return found;
}

/** The key two word answers are compared by: letters and digits only, lower case, `(C)` and `C` alike. */
export function textKey(s: string): string {
  let t = cleanLatex(s);
  const whole = WHOLE_TEXT.exec(t);
  if (whole) t = whole[1]!;
  return t.toLowerCase().replace(/[^a-z0-9]/g, '');
}
