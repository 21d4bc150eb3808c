/**
 * Endpoint operations that involve secrets or validation beyond a row write: create with a
 * generated (or given) signing secret, rotate, reveal. Secrets are sealed with the endpoint id as
 * associated data, so a ciphertext copied onto another endpoint's row does not open.
 */
import { HeraldError } from '../core/errors.js';
import { validateFilterPattern } from '../core/filters.js';
import { newId } from '../core/ids.js';
import type { SecretBox } from '../core/secret-box.js';
import { generateSecret, parseSecret } from '../core/signing.js';
import { validateEndpointUrl } from '../delivery/endpoint-url.js';
import type { Cidr } from '../delivery/address-policy.js';
import {
  getEndpoint,
  insertEndpoint,
  listValidSecrets,
  rotateSecret,
  type EndpointInput,
  type EndpointRow,
} from '../store/endpoints.js';
import type { Queryable } from '../store/pool.js';

/** Where endpoint URLs may point. */
export interface UrlPolicy {
  /** Accept plain http: URLs. */
  allowHttp: boolean;
  /** Private networks endpoints may reach anyway. */
  allowedNetworks: Cidr[];
}

/** Default grace period during which a rotated-out secret still signs. */
export const DEFAULT_ROTATION_GRACE_MS = 24 * 3_600_000;

/** Header names a custom header may not set: Herald's own, and those that would break the request. */
const RESERVED_HEADER = /^(webhook-.*|svix-.*|host|content-length|content-type|transfer-encoding|connection|user-agent|te|upgrade|expect|keep-alive|proxy-.*)$/i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;

/** Rejects header names Herald owns and values that could split a request. */
export function validateCustomHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const field = `headers.${name}`;
    if (!HEADER_NAME.test(name)) {
      throw new HeraldError('validation', `"${name}" is not a valid header name`, { fields: [{ path: field, message: 'invalid header name' }] });
    }
    if (RESERVED_HEADER.test(name)) {
      throw new HeraldError('validation', `header "${name}" is set by Herald and cannot be overridden`, {
        fields: [{ path: field, message: 'reserved header' }],
      });
    }
    if (typeof value !== 'string' || /[\r\n\0]/.test(value) || value.length > 4096) {
      throw new HeraldError('validation', `header "${name}" has an invalid value (no CR, LF or NUL; at most 4096 characters)`, {
        fields: [{ path: field, message: 'invalid header value' }],
      });
    }
    out[name.toLowerCase()] = value;
  }
  return out;
}

/** Validates everything about an endpoint's settings that the database cannot. */
export function validateEndpointInput(input: EndpointInput, policy: UrlPolicy): EndpointInput {
  const url = validateEndpointUrl(input.url, policy);
  if (!url.ok) throw new HeraldError('validation', url.reason, { fields: [{ path: 'url', message: url.reason }] });
  for (const f of input.filterTypes ?? []) validateFilterPattern(f);
  if (input.rateLimit != null && (!Number.isInteger(input.rateLimit) || input.rateLimit < 1)) {
    throw new HeraldError('validation', 'rateLimit must be a positive whole number of requests per second', {
      fields: [{ path: 'rateLimit', message: 'must be a positive integer' }],
    });
  }
  return { ...input, url: url.url.toString(), headers: validateCustomHeaders(input.headers ?? {}) };
}

function sealSecret(box: SecretBox, endpointId: string, secret: string) {
  parseSecret(secret);
  return { sealed: box.seal(secret, endpointId), hint: secret.slice(-4) };
}

/** Creates an endpoint with a new signing secret (or the one given); returns the secret once. */
export async function createEndpoint(
  db: Queryable,
  box: SecretBox,
  appId: string,
  input: EndpointInput & { secret?: string | null },
  ctx: { now: Date; policy: UrlPolicy },
): Promise<{ endpoint: EndpointRow; secret: string }> {
  const valid = validateEndpointInput(input, ctx.policy);
  const id = newId('ep', ctx.now.getTime());
  const secret = input.secret ?? generateSecret();
  const endpoint = await insertEndpoint(db, appId, id, valid, sealSecret(box, id, secret), ctx.now);
  return { endpoint, secret };
}

/**
 * Replaces the signing secret. The old one keeps signing (a second signature) for `graceMs`;
 * 0 invalidates it at once. `key` sets a given secret instead of generating one.
 */
export async function rotateEndpointSecret(
  db: Queryable,
  box: SecretBox,
  appId: string,
  endpointId: string,
  opts: { key?: string | null; graceMs?: number; now: Date },
): Promise<string> {
  const secret = opts.key ?? generateSecret();
  const ok = await rotateSecret(db, appId, endpointId, sealSecret(box, endpointId, secret), opts.graceMs ?? DEFAULT_ROTATION_GRACE_MS, opts.now);
  if (!ok) throw new HeraldError('not_found', `endpoint ${endpointId} not found`);
  return secret;
}

/** The current signing secret in clear (callers check the permission first). */
export async function revealEndpointSecret(db: Queryable, box: SecretBox, appId: string, endpointId: string, now: Date): Promise<string> {
  const ep = await getEndpoint(db, appId, endpointId);
  if (!ep) throw new HeraldError('not_found', `endpoint ${endpointId} not found`);
  const [current] = await listValidSecrets(db, appId, ep.id, now);
  if (!current) throw new HeraldError('not_found', `endpoint ${endpointId} has no valid secret; rotate it`);
  return box.open(current.sealed, ep.id);
}
