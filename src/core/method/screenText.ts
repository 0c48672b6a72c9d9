// The one normal form that seed screening compares in: decontamination (against evaluation items) and duplicate
// detection (among seeds) must agree on when two questions are "the same text", so both tokenise here.
// Case, whitespace, punctuation, thousands separators and LaTeX spacing or delimiters make no difference.

/** LaTeX that only spaces or sizes: `\,` `\;` `\!` `\quad`, `\left(`, `\displaystyle`, ... */
const LATEX_SPACING = /\\(?:[,;:! ]|quad\b|qquad\b|enspace\b|thinspace\b|medspace\b|thickspace\b|displaystyle\b|textstyle\b|left\b|right\b|big{1,2}[lr]?\b)/g;
/** `1\,000`: a thin space as the thousands separator. */
const DIGIT_SPACE = /(\d)\\[,;:! ](?=\d{3}\b)/g;
/** Fraction and binomial spellings that typeset alike. */
const FRACTIONS = /\\[dt](frac|binom)\b/g;
/** `1{,}000`: the LaTeX way of writing a thousands comma without its space. */
const BRACED_COMMA = /\{,\}/g;
/** `1,000`, `12,345,678`, `2,003rd`: digit groups of three after a comma; not `1,2` (a list) nor `3,14`. */
const THOUSANDS = /(?<![\d.])(\d{1,3})((?:,\d{3})+)(?!\d)/g;
const TOKEN = /[\p{L}\p{N}]+/gu;

/** Tokens of the text in normal form: lower case (LaTeX's commands too), letters and digits only. */
export function screenTokens(text: string): string[] {
  const normal = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(DIGIT_SPACE, '$1')
    .replace(LATEX_SPACING, ' ')
    .replace(FRACTIONS, '\\$1')
    .replace(BRACED_COMMA, ',')
    .replace(/~/g, ' ')
    .replace(THOUSANDS, (_all, head: string, rest: string) => head + rest.replace(/,/g, ''));
  return normal.match(TOKEN) ?? [];
}
