// Which links in model text may be offered at all. No zod here: the webview's text renderer, a bundle of its own,
// imports this and nothing else from the protocol.

export const MAX_HREF_LENGTH = 2_048;

const LINK_SCHEMES = ['http:', 'https:', 'mailto:'];

/** Whether a link found in model text may be offered to the user at all (the host still asks before opening). */
export function isOpenableHref(href: string): boolean {
  if (href.length > MAX_HREF_LENGTH) return false;
  try {
    return LINK_SCHEMES.includes(new URL(href).protocol);
  } catch {
    return false;
  }
}
