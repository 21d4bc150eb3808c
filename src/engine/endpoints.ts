/**
 * Endpoint operations that involve secrets or validation beyond a row write: create with a
 * generated (or given) signing secret, rotate, reveal. Secrets are sealed with the endpoint id as
 * associated data, so a ciphertext copied onto another endpoint's row does not open.
 */
import type { PolicyBounds } from '../core/delivery-policy.js';
import { HeraldError, type FieldError } from '../core/errors.js';
import { validateFilterTypes } from '../core/filters.js';
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
  setEndpointHeaders,
  updateEndpoint,
  type EndpointInput,
  type EndpointRow,
} from '../store/endpoints.js';
import type { Queryable } from '../store/pool.js';
import { policyProblems, throwIfAny, uniqueConflict } from './applications.js';

/** Where endpoint URLs may point. */
export interface UrlPolicy {
  /** Accept plain http: URLs. */
  allowHttp: boolean;
  /** Private networks endpoints may reach anyway. */
  allowedNetworks: Cidr[];
}

/** What creating or changing an endpoint needs besides its settings. */
export interface EndpointWriteContext {
  /** Time of the change. */
  now: Date;
  /** Where URLs may point. */
  policy: UrlPolicy;
  /** The operator's limits on policy overrides (HERALD_MAX_*); the API passes them, library callers may not. */
  bounds?: PolicyBounds;
}

/** Default grace period during which a rotated-out secret still signs. */
export const DEFAULT_ROTATION_GRACE_MS = 24 * 3_600_000;

/** Header names a custom header may not set: Herald's own, and those that would break the request. */
const RESERVED_HEADER = /^(webhook-.*|svix-.*|host|content-length|content-type|transfer-encoding|connection|user-agent|te|upgrade|expect|keep-alive|proxy-.*)$/i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
/** Longest custom header value. */
export const MAX_HEADER_VALUE_LENGTH = 4096;
/** Most custom headers per endpoint: each one is sent with every delivery. */
export const MAX_CUSTOM_HEADERS = 32;

/** The problem with one custom header, or null when it is acceptable. */
function headerProblem(name: string, value: unknown): string | null {
  if (!HEADER_NAME.test(name)) return `"${name.slice(0, 64)}" is not a valid header name`;
  if (RESERVED_HEADER.test(name)) return `header "${name}" is set by Herald and cannot be overridden`;
  if (typeof value !== 'string' || /[\r\n\0]/.test(value) || value.length > MAX_HEADER_VALUE_LENGTH) {
    return `header "${name}" has an invalid value (no CR, LF or NUL; at most ${MAX_HEADER_VALUE_LENGTH} characters)`;
  }
  return null;
}

/** Every problem with a set of custom headers, one per bad header (API callers fix them all at once). */
export function customHeaderProblems(headers: Record<string, unknown>, path = 'headers'): FieldError[] {
  const fields: FieldError[] = [];
  const entries = Object.entries(headers);
  if (entries.length > MAX_CUSTOM_HEADERS) fields.push({ path, message: `at most ${MAX_CUSTOM_HEADERS} custom headers` });
  for (const [name, value] of entries) {
    const problem = headerProblem(name, value);
    if (problem !== null) fields.push({ path: `${path}.${name}`, message: problem });
  }
  return fields;
}

/** Rejects header names Herald owns and values that could split a request; names come back lower-cased. */
export function validateCustomHeaders(headers: Record<string, string>): Record<string, string> {
  throwIfAny(customHeaderProblems(headers));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/** Every problem with a filter list, one per bad entry. */
function filterProblems(filterTypes: readonly string[]): FieldError[] {
  try {
    validateFilterTypes(filterTypes);
    return [];
  } catch (e) {
    if (e instanceof HeraldError && e.fields) return e.fields;
    throw e;
  }
}

/**
 * Validates everything about an endpoint's settings that the database cannot, reporting every bad
 * field. `bounds` are the operator's limits on policy overrides (the API passes them).
 */
export function validateEndpointInput(input: EndpointInput, policy: UrlPolicy, bounds?: PolicyBounds): EndpointInput {
  const fields: FieldError[] = [];
  const url = validateEndpointUrl(input.url, policy);
  if (!url.ok) fields.push({ path: 'url', message: url.reason });
  fields.push(...filterProblems(input.filterTypes ?? []));
  if (input.rateLimit != null && (!Number.isInteger(input.rateLimit) || input.rateLimit < 1)) {
    fields.push({ path: 'throttleRate', message: 'must be a positive whole number of requests per second' });
  }
  if (input.ordering !== undefined && input.ordering !== 'parallel' && input.ordering !== 'strict') {
    fields.push({ path: 'ordering', message: 'must be "parallel" or "strict"' });
  }
  fields.push(...policyProblems(input, bounds));
  fields.push(...customHeaderProblems(input.headers ?? {}));
  throwIfAny(fields);
  return { ...input, url: url.ok ? url.url.toString() : input.url, headers: validateCustomHeaders(input.headers ?? {}) };
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
  ctx: EndpointWriteContext,
): Promise<{ endpoint: EndpointRow; secret: string }> {
  const valid = validateEndpointInput(input, ctx.policy, ctx.bounds);
  const id = newId('ep', ctx.now.getTime());
  const secret = input.secret ?? generateSecret();
  try {
    const endpoint = await insertEndpoint(db, appId, id, valid, sealSecret(box, id, secret), ctx.now);
    return { endpoint, secret };
  } catch (e) {
    return uniqueConflict(e, `an endpoint with uid ${input.uid} in this application`);
  }
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

/** Replaces an endpoint's settings after validating them; null when the endpoint does not exist. */
export async function updateEndpointSettings(
  db: Queryable,
  appId: string,
  endpointId: string,
  input: EndpointInput,
  ctx: EndpointWriteContext,
): Promise<EndpointRow | null> {
  const valid = validateEndpointInput(input, ctx.policy, ctx.bounds);
  try {
    return await updateEndpoint(db, appId, endpointId, valid, ctx.now);
  } catch (e) {
    return uniqueConflict(e, `an endpoint with uid ${input.uid} in this application`);
  }
}

/** Replaces an endpoint's custom headers after validating them; false when it does not exist. */
export async function replaceCustomHeaders(
  db: Queryable,
  appId: string,
  endpointId: string,
  headers: Record<string, string>,
  now: Date,
): Promise<boolean> {
  return setEndpointHeaders(db, appId, endpointId, validateCustomHeaders(headers), now);
}
