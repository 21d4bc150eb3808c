/**
 * Custom header rules of the headers editor, pure so they are unit-tested in Node
 * (test/e2e/web-logic.test.ts). The API checks the same rules; these give the answer before a request.
 */

/** Names Herald sets itself (the same list as the API's, src/engine/endpoints.ts). */
const RESERVED = /^(webhook-.*|svix-.*|host|content-length|content-type|transfer-encoding|connection|user-agent|te|upgrade|expect|keep-alive|proxy-.*)$/i;

/** What is wrong with a header name, or null. RFC 9110 token characters; Herald's reserved names. */
export function headerNameProblem(name: string): string | null {
  if (!name) return 'Enter a header name.';
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) return 'Header names use letters, digits and - only.';
  if (RESERVED.test(name)) return `${name} is set by Herald and cannot be overridden.`;
  return null;
}

/** The PATCH body turning `loaded` (names as stored) into `rows`. */
export function headersPatch(loadedNames: string[], rows: { name: string; value: string; hidden: boolean }[]) {
  const headers: Record<string, string | null> = {};
  const keep = new Set(rows.map((r) => r.name.trim().toLowerCase()));
  for (const name of loadedNames) if (!keep.has(name.toLowerCase())) headers[name] = null;
  for (const r of rows) {
    if (r.hidden && r.value === '') continue;
    headers[r.name.trim()] = r.value;
  }
  return { headers };
}
