/**
 * Herald's JSON body parser, replacing Fastify's so that hostile bodies get a clear 400 instead of
 * being silently altered or reaching the database (API callers send every one of these, by mistake or not):
 * - invalid UTF-8 is refused (the default parser decodes it to U+FFFD, changing the data);
 * - nesting deeper than MAX_JSON_DEPTH is refused before parsing (no deep recursion anywhere later);
 * - lone UTF-16 surrogates (`"\ud800"`) are refused: they are not Unicode text and PostgreSQL
 *   rejects them in jsonb, which would otherwise surface as a 500;
 * - `__proto__` keys and `constructor.prototype` are refused, as Fastify's secure-json-parse does.
 * The raw bytes are kept on the request for the Idempotency-Key request hash.
 */
import type { FastifyRequest } from 'fastify';
import type { Api } from './context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body exactly as received (JSON requests only). */
    rawBody?: Buffer;
  }
}

/** Deepest accepted nesting of arrays and objects. Real payloads stay far below; attacks go far above. */
export const MAX_JSON_DEPTH = 128;

/** A parse failure answered as 400 `bad_request` by the error handler. */
function badBody(detail: string): Error {
  return Object.assign(new Error(detail), { statusCode: 400 });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Nesting depth of JSON text, counting brackets outside strings; stops early past `limit`. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Walks a parsed value (iteratively: depth is bounded but recursion is not needed) for forbidden content. */
function checkParsed(root: unknown): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) throw badBody('the body contains a lone UTF-16 surrogate escape (e.g. "\\ud800"), which is not valid Unicode text');
    } else if (Array.isArray(v)) {
      stack.push(...v);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (k === '__proto__') throw badBody('the body contains a "__proto__" key, which is not accepted');
        if (k === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) {
          throw badBody('the body contains "constructor.prototype", which is not accepted');
        }
        stack.push(k, child);
      }
    }
  }
}

/** Parses a JSON request body under the rules above; an empty body is `undefined`. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw badBody('the body is not valid UTF-8');
  }
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw badBody(`the JSON body is nested more than ${MAX_JSON_DEPTH} levels deep`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw badBody(`the body is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
  // Valid UTF-8 cannot encode a surrogate, and a plain key cannot hide behind an escape without "\u":
  // only bodies that could contain one pay for the walk.
  if (text.includes('\\u') || text.includes('__proto__') || text.includes('constructor')) checkParsed(value);
  return value;
}

/**
 * Installs the parser for `application/json` (any charset parameter) on the whole app, and removes
 * Fastify's `text/plain` parser: the API takes JSON only, and the content types an HTML form or a
 * "simple" cross-site request can send (text/plain, form encodings) then never reach a handler (415).
 */
export function registerJsonBody(app: Api): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  const parse = (req: FastifyRequest, body: Buffer, done: (err: Error | null, value?: unknown) => void) => {
    req.rawBody = body;
    try {
      done(null, parseJsonBody(body));
    } catch (e) {
      done(e as Error);
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, parse);
}
