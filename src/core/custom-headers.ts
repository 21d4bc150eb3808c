/**
 * Custom endpoint headers (an `Authorization: Bearer …` a receiver asked for, a tenant id): the rules a
 * header must meet, the operator's limits, and how values are kept.
 *
 * - **Rules.** A name is an HTTP token (RFC 9110 §5.6.2) and a value holds only tab, visible ASCII,
 *   space and Latin-1 bytes: exactly what undici checks when it builds the request
 *   (`isValidHTTPToken`, `isValidHeaderValue` in undici/lib/core/util.js), so a header accepted here
 *   cannot fail at send time. Names Herald sets itself, and those undici or HTTP framing own, are
 *   reserved.
 * - **Sealed at rest.** Each value is sealed with the SecretBox, its associated data binding it to its
 *   endpoint and name, so a database dump holds no credential and a value copied to another row or
 *   header does not open. Names stay readable (the API lists them; collisions are checked on them).
 * - **Opened once per endpoint.** The worker keeps the opened headers per endpoint and compares the
 *   stored ciphertexts on each delivery: any change (an update, a rotation) re-seals with a fresh IV,
 *   so a changed row misses the cache and a delivery never pays a decryption otherwise.
 */
import { HeraldError, type FieldError } from './errors.js';
import type { SecretBox } from './secret-box.js';

/** A custom header value sealed with the SecretBox (aad: endpoint id and header name, see headerAad). */
export interface SealedHeaderValue {
  /** "v1.<keyId>.<iv>.<ciphertext>" (./secret-box.ts). */
  sealed: string;
}

/**
 * A custom header value as stored: sealed, or a plain string in rows written before custom header
 * values were sealed (they keep working until the startup sweep or `herald secrets rotate-key` seals
 * them). The JSON type tells the two apart, so no clear value can be mistaken for a sealed one.
 */
export type StoredHeaderValue = string | SealedHeaderValue;

/** An endpoint's custom headers as stored, by lower-case name. */
export type StoredHeaders = Record<string, StoredHeaderValue>;

/** Custom headers ready to store: every value sealed. */
export type SealedHeaders = Record<string, SealedHeaderValue>;

/** The operator's limits on custom headers (HERALD_MAX_CUSTOM_HEADER*). */
export interface CustomHeaderLimits {
  /** Most custom headers per endpoint. */
  maxHeaders: number;
  /** Longest header name, in characters. */
  maxNameLength: number;
  /** Longest header value, in characters (bytes on the wire: values are Latin-1). */
  maxValueLength: number;
  /** Most bytes of all custom headers together (names, values and ": " and CRLF of each line). */
  maxTotalBytes: number;
}

/**
 * Defaults. 8 KiB in all leaves room for Herald's own headers under the 16 KiB that Node's HTTP server
 * (and so most receivers) accepts by default for a whole request head.
 */
export const DEFAULT_HEADER_LIMITS: CustomHeaderLimits = { maxHeaders: 32, maxNameLength: 256, maxValueLength: 4096, maxTotalBytes: 8192 };

/** The limits configured for this process. */
export function headerLimitsOf(config: {
  HERALD_MAX_CUSTOM_HEADERS: number;
  HERALD_MAX_CUSTOM_HEADER_NAME: number;
  HERALD_MAX_CUSTOM_HEADER_VALUE: number;
  HERALD_MAX_CUSTOM_HEADER_BYTES: number;
}): CustomHeaderLimits {
  return {
    maxHeaders: config.HERALD_MAX_CUSTOM_HEADERS,
    maxNameLength: config.HERALD_MAX_CUSTOM_HEADER_NAME,
    maxValueLength: config.HERALD_MAX_CUSTOM_HEADER_VALUE,
    maxTotalBytes: config.HERALD_MAX_CUSTOM_HEADER_BYTES,
  };
}

/**
 * Names a custom header may not set: Herald's own (signatures, ids, content type, user agent) and
 * those that frame the HTTP message, which undici refuses or which would make the body unreadable
 * (content-encoding: Herald sends the JSON as it is; trailer: Herald sends none).
 */
const RESERVED_HEADER =
  /^(webhook-.*|svix-.*|host|content-length|content-type|content-encoding|transfer-encoding|trailer|connection|user-agent|te|upgrade|expect|keep-alive|proxy-.*)$/i;
/** RFC 9110 token characters: what undici accepts as a header name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A character undici refuses in a value (anything but tab, 0x20-0x7e and 0x80-0xff). */
const BAD_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/** Why a value cannot be sent, naming the first offending character; null when it can. */
function valueProblem(value: string): string | null {
  const m = BAD_VALUE_CHAR.exec(value);
  if (!m) return null;
  const ch = m[0];
  const code = ch.codePointAt(0)!;
  const at = `at position ${m.index + 1}`;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (ch === '\r' || ch === '\n') return `contains a line break (${ch === '\r' ? 'CR' : 'LF'} ${at}), which would split the request; give the value on one line`;
  if (code === 0) return `contains a NUL character (${at}); HTTP header values cannot hold it`;
  if (code < 0x20 || code === 0x7f) return `contains the control character ${hex} (${at}); HTTP header values cannot hold control characters other than tab`;
  return `contains "${ch}" (${hex}, ${at}); header values are sent as bytes, so only ASCII and Latin-1 characters can be sent: percent-encode or base64 the value`;
}

/** The problem with one custom header, or null when it can be sent. */
export function headerProblem(name: string, value: unknown, limits: CustomHeaderLimits = DEFAULT_HEADER_LIMITS): string | null {
  const shown = JSON.stringify(name.slice(0, 64));
  if (name.length === 0) return 'a header name cannot be empty';
  if (name.length > limits.maxNameLength) return `header name ${shown}… is ${name.length} characters long; at most ${limits.maxNameLength} (HERALD_MAX_CUSTOM_HEADER_NAME)`;
  if (!TOKEN.test(name)) return `${shown} is not a valid header name: use letters, digits and ! # $ % & ' * + - . ^ _ \` | ~ only (no spaces, colons or other characters)`;
  if (RESERVED_HEADER.test(name)) return `header "${name}" is set by Herald or by HTTP itself and cannot be overridden`;
  if (typeof value !== 'string') return `header "${name}" must have a string value`;
  if (value.length > limits.maxValueLength) {
    return `header "${name}" has a value of ${value.length} characters; at most ${limits.maxValueLength} (HERALD_MAX_CUSTOM_HEADER_VALUE)`;
  }
  const bad = valueProblem(value);
  return bad === null ? null : `header "${name}" ${bad}`;
}

/** Bytes one header line takes in the request head: `name: value\r\n`. */
const lineBytes = (name: string, value: unknown) => name.length + (typeof value === 'string' ? value.length : 0) + 4;

/** Every problem with a set of custom headers, one per bad header and one per exceeded limit. */
export function customHeaderProblems(headers: Record<string, unknown>, limits: CustomHeaderLimits = DEFAULT_HEADER_LIMITS, path = 'headers'): FieldError[] {
  const fields: FieldError[] = [];
  const entries = Object.entries(headers);
  if (entries.length > limits.maxHeaders) {
    fields.push({ path, message: `${entries.length} custom headers; at most ${limits.maxHeaders} per endpoint (HERALD_MAX_CUSTOM_HEADERS), since each is sent with every delivery` });
  }
  const total = entries.reduce((n, [name, value]) => n + lineBytes(name, value), 0);
  if (total > limits.maxTotalBytes) {
    fields.push({ path, message: `the custom headers take ${total} bytes; at most ${limits.maxTotalBytes} in all (HERALD_MAX_CUSTOM_HEADER_BYTES), so that receivers accept the request head` });
  }
  for (const [name, value] of entries) {
    const problem = headerProblem(name, value, limits);
    if (problem !== null) fields.push({ path: `${path}.${name}`, message: problem });
  }
  return fields;
}

/** Checks a set of custom headers (422 listing every problem); names come back lower-cased, the last spelling winning. */
export function validateCustomHeaders(headers: Record<string, string>, limits: CustomHeaderLimits = DEFAULT_HEADER_LIMITS): Record<string, string> {
  const fields = customHeaderProblems(headers, limits);
  if (fields.length > 0) throw new HeraldError('validation', fields.map((f) => `${f.path}: ${f.message}`).join('; '), { fields });
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/** Associated data of a header value: it opens only on this endpoint, under this name. */
export const headerAad = (endpointId: string, name: string) => `endpoint-header:${endpointId}:${name}`;

/** Seals every value (names lower-case already) for storing. */
export function sealHeaders(box: SecretBox, endpointId: string, headers: Record<string, string>): SealedHeaders {
  const out: SealedHeaders = {};
  for (const [name, value] of Object.entries(headers)) out[name] = { sealed: box.seal(value, headerAad(endpointId, name)) };
  return out;
}

/** The values in clear; a plain string (a row from before sealing) is taken as it is. */
export function openHeaders(box: SecretBox, endpointId: string, stored: StoredHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(stored)) out[name] = typeof value === 'string' ? value : box.open(value.sealed, headerAad(endpointId, name));
  return out;
}

/** Names only, for checks that never need a value (collisions with signature headers). */
export function headerNames(stored: StoredHeaders): Record<string, string> {
  return Object.fromEntries(Object.keys(stored).map((name) => [name, '']));
}

/** The opened headers of one endpoint, with the ciphertexts they came from. */
interface Opened {
  /** Stored names and values (sealed, or plain from an old row), in order: a delivery whose row matches them hits. */
  stamp: string[];
  /** The values in clear, or why they cannot be sent. */
  result: Record<string, string> | HeraldError;
}

/**
 * Opens each endpoint's custom headers once and checks them against the sending rules once (rows from
 * before these rules may hold values undici refuses: the delivery then fails saying which header is
 * wrong and how to fix it). Bounded like the worker's signing key cache.
 */
export class CustomHeaderCache {
  readonly #byEndpoint = new Map<string, Opened>();
  constructor(
    private readonly box: SecretBox,
    private readonly max = 50_000,
  ) {}

  /** The headers to send, in clear; throws HeraldError when one cannot be opened or sent. */
  headersOf(endpointId: string, stored: StoredHeaders): Record<string, string> {
    let hit = this.#byEndpoint.get(endpointId);
    if (!hit || !sameStamp(hit.stamp, stored)) {
      hit = { stamp: stampOf(stored), result: this.#open(endpointId, stored) };
      if (this.#byEndpoint.size >= this.max) this.#byEndpoint.clear();
      this.#byEndpoint.set(endpointId, hit);
    }
    if (hit.result instanceof HeraldError) throw hit.result;
    return hit.result;
  }

  #open(endpointId: string, stored: StoredHeaders): Record<string, string> | HeraldError {
    let opened: Record<string, string>;
    try {
      opened = openHeaders(this.box, endpointId, stored);
    } catch (e) {
      return new HeraldError('config', `a custom header of this endpoint cannot be decrypted (${(e as Error).message}); set the endpoint's headers again`, { cause: e });
    }
    for (const [name, value] of Object.entries(opened)) {
      // Only the sending rules: limits apply when headers are set, not to ones stored earlier.
      const problem = headerProblem(name, value, { maxHeaders: Infinity, maxNameLength: Infinity, maxValueLength: Infinity, maxTotalBytes: Infinity });
      if (problem !== null) return new HeraldError('validation', `custom ${problem}; fix it with PUT or PATCH …/endpoint/${endpointId}/headers`);
    }
    return opened;
  }
}

/** A plain (old) value is told from a sealed one by a prefix no sealed value has. */
const valueStamp = (v: StoredHeaders[string]) => (typeof v === 'string' ? `clear:${v}` : v.sealed);

function stampOf(stored: StoredHeaders): string[] {
  const out: string[] = [];
  for (const name in stored) out.push(name, valueStamp(stored[name]!));
  return out;
}

/** Compares without allocating: this runs for every delivery. */
function sameStamp(stamp: string[], stored: StoredHeaders): boolean {
  let i = 0;
  for (const name in stored) {
    if (stamp[i] !== name || stamp[i + 1] !== valueStamp(stored[name]!)) return false;
    i += 2;
  }
  return i === stamp.length;
}
