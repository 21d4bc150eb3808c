/**
 * Where the browser keeps its token: sessionStorage only, so it dies with the tab and never travels in
 * a cookie or a URL. The portal link carries its token in the URL fragment (never sent to a
 * server, never in a Referer); the portal moves it here and removes it from the address bar at once.
 */

/** Dashboard or portal: they keep separate tokens, so an embedded portal never signs the dashboard out. */
export type Mode = 'dashboard' | 'portal';

const KEYS: Record<Mode, string> = { dashboard: 'herald.dashboard.token', portal: 'herald.portal.token' };

/**
 * Where storage is refused (a portal iframe on another site with third-party storage blocked, as in
 * Safari or a private window), the token lives in memory: it then lasts until the page is reloaded.
 */
const memory: Partial<Record<Mode, string>> = {};

/** The stored token of a mode, or null. */
export function readToken(mode: Mode): string | null {
  try {
    return sessionStorage.getItem(KEYS[mode]) ?? memory[mode] ?? null;
  } catch {
    return memory[mode] ?? null;
  }
}

/** Keeps a token for this browser tab. */
export function saveToken(mode: Mode, token: string): void {
  try {
    sessionStorage.setItem(KEYS[mode], token);
    delete memory[mode];
  } catch {
    memory[mode] = token;
  }
}

/** Forgets the token (sign-out, or the server refused it). */
export function clearToken(mode: Mode): void {
  delete memory[mode];
  try {
    sessionStorage.removeItem(KEYS[mode]);
  } catch {
    // storage refused: nothing was stored there
  }
}

/**
 * Moves `#token=…` from the address bar into the session (replacing any older portal token) and
 * rewrites the URL without the fragment, so it is not left in history, bookmarks or screenshots.
 * Returns whether a token was found.
 */
export function adoptPortalTokenFromFragment(): boolean {
  const hash = window.location.hash.replace(/^#/, '');
  if (!hash) return false;
  const token = new URLSearchParams(hash).get('token');
  if (!token) return false;
  saveToken('portal', token);
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
  return true;
}
