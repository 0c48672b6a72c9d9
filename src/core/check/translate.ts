// A LaTeX expression as a mathjs expression: \frac, \sqrt, powers, functions, implicit products made explicit.
// Letters are one variable each (LaTeX `ab` is a times b), renamed `v_a` so that none collides with a mathjs name;
// `i` is the imaginary unit and `e` Euler's number. Anything else it does not know makes it give up (undefined).

export interface Translated {
  expression: string;
  variables: string[];
}

const FUNCTIONS: Record<string, string> = {
  sin: 'sin', cos: 'cos', tan: 'tan', cot: 'cot', sec: 'sec', csc: 'csc',
  arcsin: 'asin', arccos: 'acos', arctan: 'atan', sinh: 'sinh', cosh: 'cosh', tanh: 'tanh',
  ln: 'log', log: 'log10', exp: 'exp',
};
const CONSTANTS: Record<string, string> = { pi: 'pi', infty: 'Infinity', infin: 'Infinity' };
const OPERATORS: Record<string, string> = { cdot: '*', times: '*', ast: '*', div: '/' };

class Unsupported extends Error {}

// A sum written out longer than this is not read: no answer needs it, and it would cost.
const MAX_SUM_TERMS = 200;
const MAX_SUM_LENGTH = 20_000;

export function latexToMathjs(latex: string): Translated | undefined {
  try {
    const t = new Translator(latex);
    const expression = t.sequence(new Set());
    if (t.i < latex.length) return undefined;
    return { expression, variables: [...t.variables] };
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

class Translator {
  i = 0;
  readonly variables = new Set<string>();
  /** The index letters of the sums being read: `i` there is not the imaginary unit. */
  private readonly indices = new Set<string>();

  constructor(private readonly s: string) {}

  private skip(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  private command(): string {
    const m = /^\\([a-zA-Z]+|.)/.exec(this.s.slice(this.i));
    if (!m) throw new Unsupported();
    this.i += m[0].length;
    return m[1]!;
  }

  /** Terms and operators up to one of `end` (not consumed). */
  sequence(end: Set<string>): string {
    const out: string[] = [];
    let value = false;
    for (;;) {
      this.skip();
      const c = this.s[this.i];
      if (c === undefined || end.has(c)) break;
      if ('+-*/='.includes(c)) {
        out.push(c);
        this.i++;
        value = false;
        continue;
      }
      if (c === '^') {
        this.i++;
        out.push(`^(${this.argument()})`);
        value = true;
        continue;
      }
      if (c === '!') {
        // n! as gamma(n + 1): defined between the integers too, so that sample points can be non-integers.
        this.i++;
        const last = out.pop();
        if (last === undefined || !value) throw new Unsupported();
        out.push(`boundedGamma((${last}) + 1)`);
        continue;
      }
      if (c === '_') {
        this.i++;
        const sub = this.rawArgument().replace(/[^a-zA-Z0-9]/g, '');
        const last = out[out.length - 1];
        if (!last || !last.startsWith('v_')) throw new Unsupported();
        this.variables.delete(last);
        out[out.length - 1] = `${last}_${sub}`;
        this.variables.add(out[out.length - 1]!);
        continue;
      }
      if (c === '\\') {
        const save = this.i;
        const name = this.command();
        if (OPERATORS[name]) {
          out.push(OPERATORS[name]!);
          value = false;
          continue;
        }
        if (name === 'sum') {
          if (value) out.push('*');
          out.push(this.sum(end));
          value = true;
          continue;
        }
        this.i = save;
      }
      const before = this.i;
      const atom = this.atom();
      // `11 6/6` is not 11 times 6/6: two numbers side by side are not a product anyone writes.
      if (value && /^\d|^\.\d/.test(this.s.slice(before).trimStart()) && /^(?:\d+\.?\d*|\.\d+)$/.test(out[out.length - 1]!)) throw new Unsupported();
      if (value) out.push('*');
      out.push(atom);
      value = true;
    }
    if (out.length === 0) throw new Unsupported();
    return out.join(' ');
  }

  /** One value: a number, a letter, a group, a command with its arguments. */
  private atom(): string {
    this.skip();
    const c = this.s[this.i];
    if (c === undefined) throw new Unsupported();
    const number = /^(?:\d+\.?\d*|\.\d+)/.exec(this.s.slice(this.i));
    if (number) {
      this.i += number[0].length;
      return number[0];
    }
    if (/[a-zA-Z]/.test(c)) {
      this.i++;
      if ((c === 'i' || c === 'e') && !this.indices.has(c)) return c;
      const name = `v_${c}`;
      this.variables.add(name);
      return name;
    }
    if (c === '(' || c === '[') {
      this.i++;
      const inner = this.sequence(new Set([')', ']']));
      if (this.s[this.i] === undefined) throw new Unsupported();
      this.i++;
      return `(${inner})`;
    }
    if (c === '{') {
      this.i++;
      const inner = this.sequence(new Set(['}']));
      if (this.s[this.i] !== '}') throw new Unsupported();
      this.i++;
      return `(${inner})`;
    }
    if (c === '|') {
      this.i++;
      const inner = this.sequence(new Set(['|']));
      if (this.s[this.i] !== '|') throw new Unsupported();
      this.i++;
      return `abs(${inner})`;
    }
    if (c === '\\') {
      const name = this.command();
      if (name === 'frac') return `((${this.argument()})/(${this.argument()}))`;
      if (name === 'binom') {
        const n = this.argument();
        const k = this.argument();
        return `(boundedGamma((${n}) + 1) / (boundedGamma((${k}) + 1) * boundedGamma((${n}) - (${k}) + 1)))`;
      }
      if (name === 'sqrt') {
        this.skip();
        if (this.s[this.i] === '[') {
          this.i++;
          const n = this.sequence(new Set([']']));
          this.i++;
          return `nthRoot(${this.argument()}, ${n})`;
        }
        return `sqrt(${this.argument()})`;
      }
      if (CONSTANTS[name]) return CONSTANTS[name]!;
      if (FUNCTIONS[name]) return this.functionCall(name);
      if (name === 'mathrm' || name === 'mathit' || name === 'mathbf' || name === 'text') return this.argument();
      if (/^[a-zA-Z]+$/.test(name) && GREEK.has(name)) {
        const v = `v_${name}`;
        this.variables.add(v);
        return v;
      }
    }
    throw new Unsupported();
  }

  /** `\sin x`, `\sin(2x)`, `\sin^2 x`, `\log_2 8`. */
  private functionCall(name: string): string {
    this.skip();
    let power: string | undefined;
    let base: string | undefined;
    for (;;) {
      if (this.s[this.i] === '^') {
        this.i++;
        power = this.argument();
      } else if (this.s[this.i] === '_' && name === 'log') {
        this.i++;
        base = this.argument();
      } else break;
      this.skip();
    }
    // `\log_3 81`, `\sin 30`: a whole number, where \frac43 would take one digit.
    const number = /^(?:\d+\.?\d*|\.\d+)/.exec(this.s.slice(this.i));
    if (number) this.i += number[0].length;
    this.skip();
    const grouped = this.s[this.i] === '(' || this.s[this.i] === '{';
    let arg = number ? number[0] : this.argument();
    // `\ln e^3` is ln(e^3); `\sin(x)^2` stays (sin x)^2.
    this.skip();
    if (!grouped && this.s[this.i] === '^') {
      this.i++;
      arg = `(${arg})^(${this.argument()})`;
    }
    const call = base !== undefined ? `log(${arg}, ${base})` : `${FUNCTIONS[name]}(${arg})`;
    return power === undefined ? call : `(${call})^(${power})`;
  }

  /** `\sum_{k=1}^{10} body`, the body up to the next + or -, written out term by term (integer bounds only). */
  private sum(end: Set<string>): string {
    this.skip();
    if (this.s[this.i] !== '_') throw new Unsupported();
    this.i++;
    const bound = /^\s*([a-zA-Z])\s*=\s*(-?\d+)\s*$/.exec(this.rawArgument());
    this.skip();
    if (!bound || this.s[this.i] !== '^') throw new Unsupported();
    this.i++;
    const top = /^\s*(-?\d+)\s*$/.exec(this.rawArgument());
    if (!top) throw new Unsupported();
    const from = Number(bound[2]);
    const to = Number(top[1]);
    if (to - from + 1 > MAX_SUM_TERMS) throw new Unsupported();
    const letter = bound[1]!;
    const name = `v_${letter}`;
    const had = this.variables.has(name);
    const nested = this.indices.has(letter);
    this.indices.add(letter);
    const body = this.sequence(new Set([...end, '+', '-', '=']));
    if (!nested) this.indices.delete(letter);
    if (!had) this.variables.delete(name);
    const index = new RegExp(`${name}(?![_a-zA-Z0-9])`, 'g');
    const terms: string[] = [];
    let length = 0;
    for (let k = from; k <= to; k++) {
      const term = `(${body.replace(index, `(${k})`)})`;
      length += term.length;
      // Nested sums multiply: the written-out expression is capped, not the count alone.
      if (length > MAX_SUM_LENGTH) throw new Unsupported();
      terms.push(term);
    }
    return terms.length === 0 ? '0' : `(${terms.join(' + ')})`;
  }

  /** A braced group, else one atom (`\frac43`, `x^2`). */
  private argument(): string {
    this.skip();
    const c = this.s[this.i];
    if (c === '{') return this.atom();
    if (c !== undefined && /\d/.test(c)) {
      this.i++;
      return c;
    }
    if (c === '-' || c === '+') {
      this.i++;
      return `${c}${this.argument()}`;
    }
    return this.atom();
  }

  private rawArgument(): string {
    this.skip();
    if (this.s[this.i] === '{') {
      const close = this.s.indexOf('}', this.i);
      if (close < 0) throw new Unsupported();
      const inner = this.s.slice(this.i + 1, close);
      this.i = close + 1;
      return inner;
    }
    return this.s[this.i++] ?? '';
  }
}

const GREEK = new Set([
  'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'varepsilon', 'zeta', 'eta', 'theta', 'vartheta', 'iota', 'kappa',
  'lambda', 'mu', 'nu', 'xi', 'rho', 'sigma', 'tau', 'upsilon', 'phi', 'varphi', 'chi', 'psi', 'omega',
  'Gamma', 'Delta', 'Theta', 'Lambda', 'Xi', 'Sigma', 'Phi', 'Psi', 'Omega',
]);
