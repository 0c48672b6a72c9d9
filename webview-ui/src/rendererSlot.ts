// How the panel's bundle and the text renderer's bundle (dist/webview/render.js) meet: the renderer puts itself in
// a global slot and says so with an event. Nothing else is shared between the two bundles.

export interface TextRenderer {
  /** Model text as sanitised HTML. */
  renderModelText(text: string): string;
}

export const RENDERER_READY = 'svd-text-renderer-ready';

export interface RendererSlot {
  svdTextRenderer?: TextRenderer;
}
