// Entry of dist/webview/render.js: markdown, math, highlighting and the sanitiser, two thirds of the panel's code.
// The panel loads it once its first rows are on screen, so they do not wait for it; until then model text shows
// as plain text.
import { renderModelText } from './modelText';
import { RENDERER_READY, type RendererSlot } from './rendererSlot';

(globalThis as RendererSlot).svdTextRenderer = { renderModelText };
window.dispatchEvent(new Event(RENDERER_READY));
