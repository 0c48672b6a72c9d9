// Code blocks highlighted by their language: highlight.js core with the languages seed questions are asked in.
// Unknown languages are shown as escaped text. highlight.js escapes the code it wraps in spans.
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import latex from 'highlight.js/lib/languages/latex';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';

const LANGUAGES: Record<string, typeof python> = { bash, c, cpp, go, java, javascript, json, latex, python, rust, sql, typescript };
const ALIASES: Record<string, string> = {
  py: 'python', python3: 'python', js: 'javascript', mjs: 'javascript', jsx: 'javascript', ts: 'typescript', tsx: 'typescript',
  sh: 'bash', shell: 'bash', zsh: 'bash', 'c++': 'cpp', cc: 'cpp', cxx: 'cpp', hpp: 'cpp', h: 'c', rs: 'rust', golang: 'go',
  tex: 'latex',
};

/** A language's grammar is built the first time a block asks for it, not when the panel loads. */
function language(lang: string): string | undefined {
  const name = ALIASES[lang] ?? lang;
  const grammar = LANGUAGES[name];
  if (!grammar) return undefined;
  if (!hljs.getLanguage(name)) hljs.registerLanguage(name, grammar);
  return name;
}

/** Longer code is not highlighted (it would stall the panel); it is still shown, escaped. */
const HIGHLIGHT_LIMIT = 40_000;

export function highlightCode(code: string, info: string): string {
  // Only the first word of the info string, and only characters a language name has: it becomes a class.
  const lang = (info.trim().split(/\s+/)[0] ?? '').toLowerCase().replace(/[^a-z0-9+#_-]/g, '');
  const known = lang === '' ? undefined : language(lang);
  const body =
    known && code.length <= HIGHLIGHT_LIMIT
      ? hljs.highlight(code, { language: known, ignoreIllegals: true }).value
      : escapeCode(code);
  const label = lang ? `<span class="code-lang">${escapeCode(lang)}</span>` : '';
  return `<div class="code-block">${label}<pre><code class="hljs${known ? ` language-${known}` : ''}">${body}</code></pre></div>\n`;
}

function escapeCode(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}
