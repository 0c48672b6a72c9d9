// Model text (answers, thinking, judges' replies, seed questions) to safe HTML: markdown, math as MathML, code
// highlighted by language, then DOMPurify over the result. Raw HTML in the text is shown as text, never parsed.
//
// Math is MathML (KaTeX `output: 'mathml'`), which Chromium lays out natively: KaTeX's HTML output needs inline
// style attributes, which the panel's CSP (rightly) refuses and the sanitizer strips.
import DOMPurify from 'dompurify';
import type katexType from 'katex';
import { Marked, type Tokens, type TokenizerAndRendererExtension } from 'marked';
import { isOpenableHref } from '../../src/protocol/links';
import { highlightCode } from './highlight';

/** Longer texts are rendered in part; the rest is shown as plain text (a long thinking trace stays cheap). */
export const MARKDOWN_LIMIT = 60_000;

// ---------------------------------------------------------------- math

const KATEX_OPTIONS = {
  throwOnError: false,
  // No \href, \url, \includegraphics, \htmlClass/Id/Style/Data.
  trust: false,
  strict: 'ignore' as const,
  output: 'mathml' as const,
  // Bounds on macro expansion and sizes: a hostile expression cannot stall the panel.
  maxExpand: 500,
  maxSize: 50,
};

// KaTeX is loaded the first time a formula needs it: as a CommonJS module esbuild evaluates it on that first
// require(), not while the panel starts (it is the largest thing in the bundle).
declare const require: (id: string) => unknown;
let katexLib: typeof katexType | undefined;
function katex(): typeof katexType {
  katexLib ??= require('katex') as typeof katexType;
  return katexLib;
}

function renderMath(tex: string, displayMode: boolean): string {
  try {
    return katex().renderToString(tex, { ...KATEX_OPTIONS, displayMode });
  } catch {
    return `<code class="math-error">${escapeHtml(tex)}</code>`;
  }
}

interface MathToken extends Tokens.Generic {
  type: 'mathBlock' | 'mathInline';
  raw: string;
  text: string;
  display: boolean;
}

const BLOCK_MATH = /^ {0,3}(?:\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\])[ \t]*(?:\n|$)/;
const INLINE_MATH = [
  { re: /^\$\$([\s\S]+?)\$\$/, display: true },
  { re: /^\\\[([\s\S]+?)\\\]/, display: true },
  { re: /^\\\(([\s\S]+?)\\\)/, display: false },
  // $x$: no space inside the dollars and no digit after the closing one, so "$5 and $6" stays text.
  { re: /^\$(?!\s)((?:\\.|[^\\$\n])+?)(?<!\s)\$(?!\d)/, display: false },
];

/** A bare \boxed{...} (balanced braces): the final-answer marker, shown as math even outside delimiters. */
function bareBoxed(src: string): string | undefined {
  if (!src.startsWith('\\boxed{')) return undefined;
  let depth = 0;
  for (let i = '\\boxed'.length; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return src.slice(0, i + 1);
  }
  return undefined;
}

const mathExtensions: TokenizerAndRendererExtension[] = [
  {
    name: 'mathBlock',
    level: 'block',
    start: (src: string) => src.match(/\$\$|\\\[/)?.index,
    tokenizer(src: string): MathToken | undefined {
      const match = BLOCK_MATH.exec(src);
      if (!match) return undefined;
      return { type: 'mathBlock', raw: match[0], text: (match[1] ?? match[2] ?? '').trim(), display: true };
    },
    renderer: (token) => `<div class="math-block">${renderMath((token as MathToken).text, true)}</div>\n`,
  },
  {
    name: 'mathInline',
    level: 'inline',
    start: (src: string) => src.match(/\$|\\\(|\\\[|\\boxed\{/)?.index,
    tokenizer(src: string): MathToken | undefined {
      for (const { re, display } of INLINE_MATH) {
        const match = re.exec(src);
        if (match) return { type: 'mathInline', raw: match[0], text: (match[1] ?? '').trim(), display };
      }
      const boxed = bareBoxed(src);
      if (boxed) return { type: 'mathInline', raw: boxed, text: boxed, display: false };
      return undefined;
    },
    renderer: (token) => renderMath((token as MathToken).text, (token as MathToken).display),
  },
];

// ---------------------------------------------------------------- markdown

const markdown = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  extensions: mathExtensions,
  renderer: {
    // Raw HTML in model text is content to read, not markup to apply.
    html: ({ text }) => escapeHtml(text),
    code: ({ text, lang }) => highlightCode(text, lang ?? ''),
    // Nothing is fetched for an image: the reader sees its description and where it points.
    image: ({ href, text }) =>
      `<span class="image-ref" title="${escapeHtml(href)}">[image: ${escapeHtml(text || 'no description')}]</span>`,
  },
});

// ---------------------------------------------------------------- sanitiser

const FORBID_TAGS = [
  'style', 'script', 'img', 'image', 'svg', 'iframe', 'frame', 'object', 'embed', 'video', 'audio', 'source',
  'track', 'picture', 'link', 'meta', 'base', 'form', 'input', 'button', 'textarea', 'select', 'option', 'dialog',
  'template', 'slot', 'portal', 'canvas', 'annotation-xml',
];
const FORBID_ATTR = [
  'style', 'id', 'name', 'src', 'srcset', 'action', 'formaction', 'background', 'poster', 'target', 'ping', 'xlink:href',
];

let hooked = false;
function installHooks(): void {
  if (hooked) return;
  hooked = true;
  // Links never navigate: the address moves to data-href and a click asks the host (which asks the user).
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName !== 'A') {
      // MathML allows href on any element; only anchors may carry one, and those only as data-href.
      node.removeAttribute('href');
      return;
    }
    const href = node.getAttribute('href') ?? '';
    node.removeAttribute('href');
    node.removeAttribute('xlink:href');
    if (isOpenableHref(href)) {
      node.setAttribute('data-href', href);
      node.setAttribute('class', 'model-link');
      node.setAttribute('role', 'link');
      node.setAttribute('tabindex', '0');
      node.setAttribute('title', href);
    } else {
      node.setAttribute('class', 'model-link-dead');
    }
  });
}

export function sanitize(html: string): string {
  installHooks();
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true, mathMl: true },
    FORBID_TAGS,
    FORBID_ATTR,
    // The TeX source KaTeX keeps in <annotation> would otherwise be shown next to the formula.
    ADD_FORBID_CONTENTS: ['annotation', 'annotation-xml'],
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: true,
    // DOMPurify checks every attribute value against this: plain values pass, and of the values that name a scheme
    // only http, https and mailto do (its default list also lets tel:, sms:, cid: ... through).
    ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
    RETURN_TRUSTED_TYPE: false,
  });
}

// ---------------------------------------------------------------- the entry point

/** Model text as sanitised HTML. Not cached here: textRenderer.ts in the panel's own bundle keeps the cache. */
export function renderModelText(text: string): string {
  const head = text.length > MARKDOWN_LIMIT ? text.slice(0, MARKDOWN_LIMIT) : text;
  let html: string;
  try {
    html = markdown.parse(head, { async: false }) as string;
  } catch {
    html = `<pre>${escapeHtml(head)}</pre>`;
  }
  if (head.length < text.length) {
    const rest = text.length - head.length;
    html += `<p class="truncated-note">${rest.toLocaleString()} more characters, as plain text:</p><pre class="plain-rest">${escapeHtml(text.slice(head.length))}</pre>`;
  }
  return sanitize(html);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
