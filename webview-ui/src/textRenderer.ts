// Model text for the rows: rendered by dist/webview/render.js, loaded after the first rows are painted, with a
// cache and a per-frame budget so a frame never stalls on a long answer. Until the renderer is there, and for text
// past a frame's budget, rows show plain text.
import { RENDERER_READY, type RendererSlot, type TextRenderer } from './rendererSlot';

const cache = new Map<string, string>();
const CACHE_SIZE = 400;

// Read while this bundle runs: the renderer's script carries the same nonce and lies beside it.
const ownScript = document.currentScript instanceof HTMLScriptElement ? document.currentScript : null;

let renderer: TextRenderer | undefined;
let loadRequested = false;
const readyListeners = new Set<() => void>();

/** Called once the renderer is there (at once if it already is); rows showing plain text re-render then. */
export function onTextRendererReady(listener: () => void): void {
  if (renderer) listener();
  else readyListeners.add(listener);
}

function requestRenderer(): void {
  if (loadRequested) return;
  loadRequested = true;
  const slot = globalThis as RendererSlot;
  window.addEventListener(
    RENDERER_READY,
    () => {
      renderer = slot.svdTextRenderer;
      for (const listener of readyListeners) listener();
      readyListeners.clear();
    },
    { once: true },
  );
  // After this frame is painted: the first rows do not wait for the renderer's download and evaluation.
  requestAnimationFrame(() =>
    setTimeout(() => {
      if (!ownScript) {
        console.error('review: cannot find the panel script, model text stays plain');
        return;
      }
      const script = document.createElement('script');
      script.nonce = ownScript.nonce;
      script.src = new URL('render.js', ownScript.src).href;
      script.onerror = () => console.error('review: the text renderer did not load, model text stays plain');
      document.head.append(script);
    }, 0),
  );
}

// A frame renders model text until its budget is spent; what is left shows as plain text until the next frame.
let budgetEnd = Number.POSITIVE_INFINITY;
let deferred = false;

export function startRenderBudget(ms: number): void {
  budgetEnd = performance.now() + ms;
  deferred = false;
}

/** @returns whether some text was left for a later frame (not counting text waiting for the renderer). */
export function endRenderBudget(): boolean {
  budgetEnd = Number.POSITIVE_INFINITY;
  const left = deferred;
  deferred = false;
  return left;
}

/** The sanitised HTML; undefined while the renderer is loading, or when it is not cached and the budget is spent. */
export function renderModelTextWithinBudget(text: string): string | undefined {
  const hit = cache.get(text);
  if (hit !== undefined) {
    cache.delete(text);
    cache.set(text, hit);
    return hit;
  }
  if (!renderer) {
    requestRenderer();
    return undefined;
  }
  if (performance.now() > budgetEnd) {
    deferred = true;
    return undefined;
  }
  const html = renderer.renderModelText(text);
  cache.set(text, html);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return html;
}
