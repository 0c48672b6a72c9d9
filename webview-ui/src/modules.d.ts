// highlight.js types its root and its languages, not its core entry (the same API without languages).
declare module 'highlight.js/lib/core' {
  import hljs from 'highlight.js';
  export default hljs;
}
