/**
 * Errors at the HTTP boundary, answered the way Svix answers them: `{ code, detail }`; validation
 * errors list every bad field with its path. Anything that is not a HeraldError becomes a 500 with
 * no internals (the log has them, keyed by request id).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { HeraldError, httpStatusOf } from '../core/errors.js';

/** Body of every error response. */
export interface ErrorBody {
  /** Machine-readable code. */
  code: string;
  /** What went wrong and what to change; for validation errors, a list of fields. */
  detail: string | { loc: (string | number)[]; msg: string; type: string }[];
}

/** Fastify's own error codes that are the caller's fault, mapped to Herald's codes. */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; code: string; detail: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large', detail: 'request body is larger than the limit' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', detail: 'send the body as application/json' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'bad_request', detail: 'the JSON body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'bad_request', detail: 'the body is not valid JSON' },
};

/**
 * A field path's segments: split on dots, except that an envelope's spread key `...` stays one
 * segment (`envelope....` is ["envelope", "..."]).
 */
export function pathSegments(path: string): string[] {
  return path.match(/\.\.\.(?=\.|$)|[^.]+/g) ?? [];
}

export function errorHandler(err: FastifyError | HeraldError | Error, req: FastifyRequest, reply: FastifyReply): void {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = (err as FastifyError).validationContext ?? 'body';
    void reply.code(422).send({
      code: 'validation',
      detail: err.validation.map((v) => ({
        loc: [where, ...v.instancePath.split('/').filter(Boolean)],
        msg: v.message ?? 'invalid',
        type: v.keyword,
      })),
    } satisfies ErrorBody);
    return;
  }
  if (err instanceof HeraldError) {
    const body: ErrorBody =
      err.code === 'validation' && err.fields?.length
        ? { code: err.code, detail: err.fields.map((f) => ({ loc: ['body', ...pathSegments(f.path)], msg: f.message, type: 'value_error' })) }
        : { code: err.code, detail: err.detail };
    if (err.code === 'validation' && err.fields?.length) {
      // Keep the sentence too: Svix clients print `detail`, people read it.
      (body as ErrorBody & { message?: string }).message = err.detail;
    }
    void reply.code(httpStatusOf[err.code]).send(body);
    return;
  }
  const fst = FASTIFY_CLIENT_ERRORS[(err as FastifyError).code ?? ''];
  if (fst) {
    void reply.code(fst.status).send({ code: fst.code, detail: fst.detail } satisfies ErrorBody);
    return;
  }
  const status = (err as FastifyError).statusCode;
  if (status && status >= 400 && status < 500) {
    void reply.code(status).send({ code: 'bad_request', detail: err.message } satisfies ErrorBody);
    return;
  }
  req.log.error({ err }, 'unhandled error');
  void reply.code(500).send({ code: 'internal', detail: `internal error; quote request id ${req.id} to the operator` } satisfies ErrorBody);
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): void {
  void reply.code(404).send({ code: 'not_found', detail: `no route ${req.method} ${req.url.split('?')[0]}` } satisfies ErrorBody);
}
