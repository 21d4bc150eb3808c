/**
 * Errors at the HTTP boundary, in Svix's two shapes so typed Svix clients in every language parse
 * them: a 422 is always `HTTPValidationError` (`detail` lists every bad value with its `loc`, e.g.
 * `["body", "filterTypes", 2]`), every other 4xx is `HttpErrorOut` (`detail` is a sentence). Both
 * carry Herald's `code` too. Anything that is not a HeraldError becomes a 500 with no internals (the
 * log has them, keyed by request id), or a 503 when the database did not answer.
 */
import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { HeraldError, httpStatusOf, type FieldError } from '../core/errors.js';
import { UNREACHABLE_CODES } from '../store/connection-failure.js';
import { logServerError } from './request-log.js';

/** One bad value of a 422 (Svix `ValidationError`). */
export interface ValidationItem {
  /** Where the value came from (`body`, `query`, `path`, `header`), then its path. */
  loc: (string | number)[];
  /** What is wrong with it. */
  msg: string;
  /** Kind of problem. */
  type: string;
}

/** Body of every error response: HTTPValidationError for 422, HttpErrorOut otherwise. */
export type ErrorBody = { code: string; detail: ValidationItem[] } | { code: string; detail: string };

/** Fastify's own error codes that are the caller's fault, mapped to Herald's codes. */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; code: string; detail: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large', detail: 'request body is larger than the limit' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', detail: 'send the body as application/json' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'bad_request', detail: 'the JSON body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'bad_request', detail: 'the body is not valid JSON' },
};

/** `loc[0]` for each part of a request Fastify validates (Fastify's name -> Svix's). */
const LOCATION_OF: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/**
 * A field path's segments: split on dots and brackets, with array indexes as numbers
 * (`filterTypes[2]` is ["filterTypes", 2]), except that an envelope's spread key `...` stays one
 * segment (`envelope....` is ["envelope", "..."]).
 */
export function pathSegments(path: string): (string | number)[] {
  return [...path.matchAll(/\.\.\.(?=\.|$)|\[(\d+)\]|[^.[\]]+/g)].map((m) => (m[1] !== undefined ? Number(m[1]) : m[0]));
}

/** The path string of zod-style segments (`["messages", 0, "payload"]` is `messages[0].payload`), the inverse of pathSegments. */
export function fieldPath(segments: readonly PropertyKey[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : `${i === 0 ? '' : '.'}${String(s)}`)).join('');
}

/** A request that does not match its route's zod schema; the issues keep zod's paths, indexes as numbers. */
export class RequestValidationError extends Error {
  override name = 'RequestValidationError';
  /** Which part of the request (`body`, `querystring`, `params`, `headers`); Fastify sets it. */
  validationContext?: string;
  constructor(readonly issues: readonly z.core.$ZodIssue[]) {
    super(issues.map((i) => `${fieldPath(i.path)}: ${i.message}`).join('; '));
  }
}

/** Validates each part of a request with its zod schema, keeping the issues for {@link errorHandler}. */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema }) => (data) => {
  const result = schema.safeParse(data);
  return result.success ? { value: result.data } : { error: new RequestValidationError(result.error.issues) };
};

/** A 422 about one field of the request (`location`: the body unless said otherwise). */
export function fieldError(field: string, message: string, location: FieldError['location'] = 'body'): HeraldError {
  return new HeraldError('validation', message, { fields: [{ path: field, message, location }] });
}

/** Options of {@link heraldErrorBody}. */
export interface ErrorBodyOptions {
  /** Segments between the location and each field's path (a batch puts `["messages", i]` there). */
  within?: (string | number)[];
  /** Rewrites each field path first (a batch drops the engine's own `[i].` prefix). */
  path?: (path: string) => string;
}

/** The answer to a HeraldError: HTTPValidationError when it maps to 422, HttpErrorOut otherwise. */
export function heraldErrorBody(err: HeraldError, opts: ErrorBodyOptions = {}): ErrorBody {
  if (httpStatusOf[err.code] !== 422) return { code: err.code, detail: err.detail };
  const fields: FieldError[] = err.fields?.length ? err.fields : [{ path: '', message: err.detail }];
  const rewrite = opts.path ?? ((p: string) => p);
  return {
    code: err.code,
    detail: fields.map((f) => ({
      loc: [f.location ?? 'body', ...(opts.within ?? []), ...(f.segments ?? pathSegments(rewrite(f.path)))],
      msg: f.message,
      type: 'value_error',
    })),
  };
}

/**
 * Errors of a database that is not answering (down, restarting, out of connections, or this node's
 * pool exhausted for its connection timeout), anywhere in the cause chain: the caller may retry, so
 * these are 503s, not 500s. pg and pg-pool raise their timeout, a dropped connection ("Connection
 * terminated unexpectedly") and a closed pool or client as plain Errors, known by message only.
 */
const UNAVAILABLE_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Cannot use a pool after calling end on the pool',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];
/**
 * Node socket codes (the start-up diagnosis's list), resolver codes, and SQLSTATEs (PostgreSQL
 * appendix A): 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up,
 * shutting down), 57P05 idle_session_timeout, 53300 too_many_connections; class 08 (connection
 * exception) is matched as a class.
 */
const UNAVAILABLE_CODES = new Set([
  ...UNREACHABLE_CODES,
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '57P05',
  '53300',
]);

/**
 * Whether `err` (or what it wraps) says the database did not answer. Follows `cause` (a HeraldError
 * wrapping a driver error) and an AggregateError's `errors` (Node's connect to a host name with
 * several addresses, each refused).
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 5) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  if (UNAVAILABLE_MESSAGES.some((m) => err.message.startsWith(m))) return true;
  if (err instanceof AggregateError && err.errors.some((e) => isDatabaseUnavailable(e, depth + 1))) return true;
  return isDatabaseUnavailable(err.cause, depth + 1);
}

/** The 503 of a request that failed because the database did not answer. */
function sendUnavailable(req: FastifyRequest, reply: FastifyReply, err: Error): void {
  logServerError(req, 503, err, 'database unavailable');
  void reply
    .code(503)
    .header('retry-after', '1')
    .send({ code: 'unavailable', detail: `the database did not answer; try again in a moment (request id ${req.id})` } satisfies ErrorBody);
}

/**
 * The answer to every error: 4xx for the caller's mistakes (not logged as errors: the access line
 * has them), 5xx logged once at error with the cause and the request id the body quotes.
 */
export function errorHandler(err: FastifyError | HeraldError | Error, req: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof RequestValidationError) {
    const where = LOCATION_OF[err.validationContext ?? 'body'] ?? 'body';
    void reply.code(422).send({
      code: 'validation',
      detail: err.issues.map((i) => ({ loc: [where, ...i.path.map((s) => (typeof s === 'number' ? s : String(s)))], msg: i.message, type: i.code })),
    } satisfies ErrorBody);
    return;
  }
  if (err instanceof HeraldError) {
    const status = httpStatusOf[err.code];
    // An internal error that only wraps a lost connection (publish's per-message errors do) is a 503 too.
    if (status === 500 && isDatabaseUnavailable(err.cause)) return sendUnavailable(req, reply, err);
    if (status >= 500) {
      logServerError(req, status, err);
      if (status === 503) void reply.header('retry-after', '1');
    }
    void reply.code(status).send(heraldErrorBody(err));
    return;
  }
  const fst = FASTIFY_CLIENT_ERRORS[(err as FastifyError).code ?? ''];
  if (fst) {
    void reply.code(fst.status).send({ code: fst.code, detail: fst.detail } satisfies ErrorBody);
    return;
  }
  const status = (err as FastifyError).statusCode;
  if (status === 422) {
    void reply.code(422).send({ code: 'validation', detail: [{ loc: ['body'], msg: err.message, type: 'value_error' }] } satisfies ErrorBody);
    return;
  }
  if (status && status >= 400 && status < 500) {
    void reply.code(status).send({ code: 'bad_request', detail: err.message } satisfies ErrorBody);
    return;
  }
  if (isDatabaseUnavailable(err)) return sendUnavailable(req, reply, err);
  logServerError(req, 500, err, 'unhandled error');
  void reply.code(500).send({ code: 'internal', detail: `internal error; quote request id ${req.id} to the operator` } satisfies ErrorBody);
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): void {
  void reply.code(404).send({ code: 'not_found', detail: `no route ${req.method} ${req.url.split('?')[0]}` } satisfies ErrorBody);
}
