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
        out.push('!');
        this.i++;
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
        this.i = save;
      }
      const atom = this.atom();
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
      if (c === 'i' || c === 'e') return c;
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
      if (name === 'binom') return `combinations(${this.argument()}, ${this.argument()})`;
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
    const arg = this.argument();
    const call = base !== undefined ? `log(${arg}, ${base})` : `${FUNCTIONS[name]}(${arg})`;
    return power === undefined ? call : `(${call})^(${power})`;
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
