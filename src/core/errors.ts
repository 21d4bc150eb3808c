/**
 * One error type for everything Herald raises on purpose, with a closed set of codes and an exhaustive
 * code -> HTTP status map (Fastify's error registry, made exhaustive so a new code cannot ship without a
 * status). The HTTP boundary answers `{ code, detail }` for a HeraldError and a generic 500 for anything
 * else (Svix `error.rs`), so `detail` must be safe to show to the caller: never put secrets in it.
 */

/** Every reason Herald fails on purpose. Closed: adding one forces a decision in `httpStatusOf`. */
export type ErrorCode =
  | 'validation'
  | 'not_found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'payload_too_large'
  | 'rate_limited'
  | 'idempotency_conflict'
  | 'unprocessable'
  | 'internal'
  | 'unavailable'
  | 'config'
  | 'misdirected_request';

/** The HTTP status each code maps to. `Record` makes the compiler reject a missing code. */
export const httpStatusOf: Record<ErrorCode, number> = {
  // 422 rather than 400 because the Svix API (which Herald mirrors) answers validation errors with 422.
  validation: 422,
  not_found: 404,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  payload_too_large: 413,
  rate_limited: 429,
  idempotency_conflict: 409,
  unprocessable: 422,
  internal: 500,
  // The database did not answer: the caller may retry (with the same eventId, nothing is sent twice).
  unavailable: 503,
  // A misconfigured server is the operator's problem, not the caller's: 500, with a detail for the logs.
  config: 500,
  // RFC 9110 §15.5.20: the request's Host is not one this server answers for with authority, so no
  // link may be built from it (a forged Host would make Herald hand out links to the sender's server).
  misdirected_request: 421,
};

/** All codes, for exhaustive tests and for documenting the API's error responses. */
export const ERROR_CODES = Object.keys(httpStatusOf) as ErrorCode[];

/** One invalid input field, so an API caller can point at the exact value to fix. */
export interface FieldError {
  /** Where the bad value sits, e.g. `filterTypes[2]` or `schedule`. */
  path: string;
  /** What is wrong with it and what would be accepted instead. */
  message: string;
  /** Which part of an API request holds it: the body when absent, else the query, the path or a header. */
  location?: 'body' | 'query' | 'path' | 'header';
  /**
   * The path as segments, where a key may itself hold dots or brackets (a payload's `"customer.country"`
   * key, a payload filter's dotted path); the API's `loc` uses them instead of splitting `path`.
   */
  segments?: (string | number)[];
}

/** Options for constructing a HeraldError. */
export interface HeraldErrorOptions {
  /** The underlying error, kept for logs (never sent to API callers). */
  cause?: unknown;
  /** Per-field problems, for `validation` errors. */
  fields?: FieldError[];
}

/** An error Herald raises deliberately; its `detail` is written for the person who has to fix it. */
export class HeraldError extends Error {
  /** Machine-readable category; decides the HTTP status. */
  readonly code: ErrorCode;
  /** Human-readable explanation saying what to change; safe to return to API callers. */
  readonly detail: string;
  /** Per-field problems for validation errors; absent otherwise. */
  readonly fields?: FieldError[];

  constructor(code: ErrorCode, detail: string, opts?: HeraldErrorOptions) {
    super(detail, opts?.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'HeraldError';
    this.code = code;
    this.detail = detail;
    if (opts?.fields !== undefined) this.fields = opts.fields;
  }

  /** The HTTP status this error answers with. */
  get status(): number {
    return httpStatusOf[this.code];
  }
}

/** Narrows `unknown` to HeraldError, optionally of one code. */
export function isHeraldError(e: unknown, code?: ErrorCode): e is HeraldError {
  return e instanceof HeraldError && (code === undefined || e.code === code);
}

const MAX_DESCRIBED_CHARS = 200;

/** Renders a thrown non-Error for a message without ever throwing itself (String() can throw). */
function describeThrown(e: unknown): string {
  let text: string;
  try {
    if (typeof e === 'string') text = e;
    else if (typeof e === 'object' && e !== null) text = JSON.stringify(e) ?? Object.prototype.toString.call(e);
    else text = String(e);
  } catch {
    text = Object.prototype.toString.call(e);
  }
  return text.length > MAX_DESCRIBED_CHARS ? `${text.slice(0, MAX_DESCRIBED_CHARS)}…` : text;
}

/**
 * Normalises anything thrown into an Error (graphile-worker `coerceError`), so catch blocks can log
 * `.message`/`.stack` and rethrow with `{ cause }`. Errors from other realms (vm, workers) are kept as is.
 */
export function coerceError(e: unknown): Error {
  if (e instanceof Error) return e;
  if (Object.prototype.toString.call(e) === '[object Error]') return e as Error;
  if (typeof e === 'string') return new Error(e, { cause: e });
  if (typeof e === 'object' && e !== null && 'message' in e && typeof e.message === 'string') {
    return new Error(e.message, { cause: e });
  }
  return new Error(`a non-Error value was thrown: ${describeThrown(e)}`, { cause: e });
}
