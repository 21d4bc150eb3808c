/**
 * Endpoint operations that involve secrets or validation beyond a row write: create with a
 * generated (or given) signing secret, rotate, reveal. Secrets are sealed with the endpoint id as
 * associated data, so a ciphertext copied onto another endpoint's row does not open.
 *
 * Secrets follow the endpoint's effective signature profile (its own, else its application's, else
 * standard): generated in the form its receivers use (whsec_, 64 hex characters for a hex key, an
 * Ed25519 pair), and a given one must fit it (platforms import their customers' existing secrets).
 * A profile change that the current secrets do not fit is refused unless a fitting secret comes
 * with it, which then replaces them at once: they could not sign under the new profile anyway.
 */
import type { DeliveryHeaders } from '../core/delivery-headers.js';
import type { PolicyBounds } from '../core/delivery-policy.js';
import { HeraldError, type FieldError } from '../core/errors.js';
import { validateFilterTypes } from '../core/filters.js';
import { newId } from '../core/ids.js';
import { payloadFilterProblems } from '../core/payload-filter.js';
import type { SecretBox } from '../core/secret-box.js';
import { ed25519PublicKeyOf, generateProfileSecret, type SignatureProfile } from '../core/signature-profile.js';
import { SECRET_PREFIX } from '../core/signing.js';
import { validateEndpointUrl } from '../delivery/endpoint-url.js';
import type { Cidr } from '../delivery/address-policy.js';
import { getApplication, type ApplicationRow } from '../store/applications.js';
import { recordOperationalEvents, type OperationalEventInput } from '../store/operational-events.js';
import {
  deleteEndpoint,
  getEndpoint,
  insertEndpoint,
  listValidSecrets,
  rotateSecret,
  setEndpointHeaders,
  updateEndpoint,
  type EndpointInput,
  type EndpointRow,
  type EndpointWrite,
  type SecretToStore,
} from '../store/endpoints.js';
import type { Queryable } from '../store/pool.js';
import { customHeaderProblems, DEFAULT_HEADER_LIMITS, headerNames, sealHeaders, validateCustomHeaders, type CustomHeaderLimits } from '../core/custom-headers.js';
import {
  canonicalProfile,
  contractProblems,
  effectiveSignature,
  policyProblems,
  resolvedDeliveryHeaders,
  sameSettings,
  secretMisfit,
  throwIfAny,
  uniqueConflict,
  type ContractDefaults,
} from './applications.js';

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
  /** The operator's limits on custom headers (HERALD_MAX_CUSTOM_HEADER*); defaults when absent. */
  headerLimits?: CustomHeaderLimits;
}

/** Default grace period during which a rotated-out secret still signs. */
export const DEFAULT_ROTATION_GRACE_MS = 24 * 3_600_000;

// Custom header rules, limits and sealing live in ./custom-headers.ts; re-exported for existing callers.
export { customHeaderProblems, validateCustomHeaders } from '../core/custom-headers.js';

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

/** What an endpoint inherits from its application (nothing for none). */
export function contractDefaultsOf(app: Pick<ApplicationRow, 'signature' | 'deliveryHeaders'> | null): ContractDefaults {
  return { signature: app?.signature ?? null, deliveryHeaders: app?.deliveryHeaders ?? null };
}

/**
 * Every problem with an endpoint's settings that the database cannot check, one per bad field.
 * `bounds` are the operator's limits on policy overrides (the API passes them); `inherited` is what
 * the application gives its endpoints, which the profile and header names are checked against.
 */
export function endpointProblems(
  input: EndpointInput,
  policy: UrlPolicy,
  bounds?: PolicyBounds,
  inherited: ContractDefaults = contractDefaultsOf(null),
  headerLimits: CustomHeaderLimits = DEFAULT_HEADER_LIMITS,
): FieldError[] {
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
  fields.push(...customHeaderProblems(input.headers ?? {}, headerLimits));
  fields.push(...contractProblems(input, inherited));
  fields.push(...payloadFilterProblems(input.payloadFilter));
  return fields;
}

/** Validates an endpoint's settings (see endpointProblems), throwing one 422 listing every bad field; returns them normalised. */
export function validateEndpointInput(
  input: EndpointInput,
  policy: UrlPolicy,
  bounds?: PolicyBounds,
  inherited?: ContractDefaults,
  headerLimits: CustomHeaderLimits = DEFAULT_HEADER_LIMITS,
): EndpointInput {
  throwIfAny(endpointProblems(input, policy, bounds, inherited, headerLimits));
  const url = validateEndpointUrl(input.url, policy);
  return {
    ...input,
    url: url.ok ? url.url.toString() : input.url,
    // Absent stays absent: an update then keeps the stored (sealed) headers.
    headers: input.headers === undefined ? undefined : validateCustomHeaders(input.headers, headerLimits),
    signature: input.signature == null ? null : canonicalProfile(input.signature),
    deliveryHeaders: input.deliveryHeaders == null ? null : (resolvedDeliveryHeaders(input.deliveryHeaders) as DeliveryHeaders),
  };
}

/** A secret in the form it is stored and signed with, and its Ed25519 public key. */
export interface ProfileSecret {
  /** The secret (whsec_…, whsk_…, hex, or a platform's own string). */
  secret: string;
  /** `whpk_…` for Ed25519, else null. */
  publicKey: string | null;
}

/**
 * The secret of a create or rotation under `profile`: generated when none is given, else checked to
 * fit (422 at `path` saying why). A standard secret given without its whsec_ prefix gets it, as Svix
 * accepts; any other is kept exactly as given, since receivers key their HMAC with it.
 */
export function profileSecret(profile: SignatureProfile, given: string | null | undefined, path = 'secret'): ProfileSecret {
  if (given == null) return generateProfileSecret(profile);
  const secret = profile.scheme === 'standard' && !given.startsWith(SECRET_PREFIX) ? `${SECRET_PREFIX}${given}` : given;
  const why = secretMisfit(profile, secret);
  if (why !== null) {
    const message = `${why} (this endpoint signs with the ${profile.scheme} scheme${profile.scheme === 'hmac-sha256' ? `, key ${profile.key}` : ''}); leave it out to have Herald generate a fitting one`;
    throw new HeraldError('validation', `${path}: ${message}`, { fields: [{ path, message }] });
  }
  return { secret, publicKey: profile.scheme === 'ed25519' ? ed25519PublicKeyOf(secret) : null };
}

/** Validated settings as the store writes them: custom header values sealed (absent stays absent). */
function sealedWrite(box: SecretBox, endpointId: string, valid: EndpointInput): EndpointWrite {
  const { headers, ...rest } = valid;
  return headers === undefined ? rest : { ...rest, headers: sealHeaders(box, endpointId, headers) };
}

function sealSecret(box: SecretBox, endpointId: string, s: ProfileSecret): SecretToStore {
  return { sealed: box.seal(s.secret, endpointId), hint: s.secret.slice(-4), publicKey: s.publicKey };
}

async function requireApplication(db: Queryable, appId: string): Promise<ApplicationRow> {
  const app = await getApplication(db, appId);
  if (!app || app.id !== appId) throw new HeraldError('not_found', `application ${appId} not found`);
  return app;
}

/**
 * Creates an endpoint with a new signing secret fitting its effective profile (or the one given,
 * checked against it); returns the secret once.
 */
export async function createEndpoint(
  db: Queryable,
  box: SecretBox,
  appId: string,
  input: EndpointInput & { secret?: string | null },
  ctx: EndpointWriteContext,
): Promise<{ endpoint: EndpointRow; secret: string }> {
  const app = await requireApplication(db, appId);
  const inherited = contractDefaultsOf(app);
  const fields = endpointProblems(input, ctx.policy, ctx.bounds, inherited, ctx.headerLimits);
  let secret: ProfileSecret | null = null;
  try {
    // A given secret is judged against a valid profile only; a bad profile is reported already.
    if (!fields.some((f) => f.path.startsWith('signature'))) secret = profileSecret(effectiveSignature(input.signature, inherited.signature), input.secret);
  } catch (e) {
    if (!(e instanceof HeraldError && e.fields)) throw e;
    fields.push(...e.fields);
  }
  throwIfAny(fields);
  const { secret: _given, ...settings } = input;
  const valid = validateEndpointInput(settings, ctx.policy, ctx.bounds, inherited, ctx.headerLimits);
  const id = newId('ep', ctx.now.getTime());
  try {
    const endpoint = await insertEndpoint(db, appId, id, sealedWrite(box, id, valid), sealSecret(box, id, secret!), ctx.now);
    await recordOperationalEvents(db, [{ type: 'endpoint.created', appId, endpointId: id, notify: false }], ctx.now);
    return { endpoint, secret: secret!.secret };
  } catch (e) {
    return uniqueConflict(e, `an endpoint with uid ${input.uid} in this application`);
  }
}

/** The effective profile of a stored endpoint. */
async function storedProfile(db: Queryable, appId: string, endpointId: string): Promise<SignatureProfile> {
  const app = await requireApplication(db, appId);
  const ep = await getEndpoint(db, appId, endpointId);
  if (!ep) throw new HeraldError('not_found', `endpoint ${endpointId} not found`);
  return effectiveSignature(ep.signature, app.signature);
}

/**
 * Replaces the signing secret. The old one keeps signing for `graceMs` (standard and ed25519: a
 * second signature; hmac-sha256: the one signature until the grace period ends); 0 invalidates it at
 * once. `key` sets a given secret, which must fit the endpoint's profile, instead of generating one.
 */
export async function rotateEndpointSecret(
  db: Queryable,
  box: SecretBox,
  appId: string,
  endpointId: string,
  opts: { key?: string | null; graceMs?: number; now: Date },
): Promise<string> {
  const secret = profileSecret(await storedProfile(db, appId, endpointId), opts.key, 'key');
  const ok = await rotateSecret(db, appId, endpointId, sealSecret(box, endpointId, secret), opts.graceMs ?? DEFAULT_ROTATION_GRACE_MS, opts.now);
  if (!ok) throw new HeraldError('not_found', `endpoint ${endpointId} not found`);
  return secret.secret;
}

/** Why the first of an endpoint's valid secrets that cannot sign under `profile` does not fit; null when all fit. */
async function currentSecretMisfit(db: Queryable, box: SecretBox, appId: string, endpointId: string, profile: SignatureProfile, now: Date): Promise<string | null> {
  for (const s of await listValidSecrets(db, appId, endpointId, now)) {
    const why = secretMisfit(profile, box.open(s.sealed, endpointId));
    if (why !== null) return why;
  }
  return null;
}

/** The current signing secret in clear (callers check the permission first). */
export async function revealEndpointSecret(db: Queryable, box: SecretBox, appId: string, endpointId: string, now: Date): Promise<string> {
  const ep = await getEndpoint(db, appId, endpointId);
  if (!ep) throw new HeraldError('not_found', `endpoint ${endpointId} not found`);
  const [current] = await listValidSecrets(db, appId, ep.id, now);
  if (!current) throw new HeraldError('not_found', `endpoint ${endpointId} has no valid secret; rotate it`);
  return box.open(current.sealed, ep.id);
}

/**
 * Replaces an endpoint's settings after validating them; null when the endpoint does not exist.
 * `secret` (PATCH's) rotates to it afterwards with the default grace period, or at once when the
 * current secrets do not fit a new profile. Without one, such a profile change is a 422.
 */
export async function updateEndpointSettings(
  db: Queryable,
  box: SecretBox,
  appId: string,
  endpointId: string,
  input: EndpointInput,
  ctx: EndpointWriteContext & { secret?: string | null },
): Promise<EndpointRow | null> {
  const app = await getApplication(db, appId);
  const current = app && app.id === appId ? await getEndpoint(db, appId, endpointId) : null;
  if (!app || !current) return null;
  const inherited = contractDefaultsOf(app);
  const valid = validateEndpointInput(input, ctx.policy, ctx.bounds, inherited, ctx.headerLimits);
  if (valid.headers === undefined) {
    // Kept headers: their names must still not collide with what a new profile or delivery headers send.
    const kept = { signature: valid.signature, deliveryHeaders: valid.deliveryHeaders, headers: headerNames(current.headers) };
    throwIfAny(contractProblems(kept, inherited).filter((f) => f.path.startsWith('headers.')));
  }
  const profile = effectiveSignature(valid.signature, app.signature);
  const secret = ctx.secret != null ? profileSecret(profile, ctx.secret) : null;
  const misfit = sameSettings(profile, effectiveSignature(current.signature, app.signature))
    ? null
    : await currentSecretMisfit(db, box, appId, current.id, profile, ctx.now);
  if (misfit !== null && secret === null) {
    const message = `the endpoint's current signing secret does not fit this profile (${misfit}); rotate to a fitting secret in the same request: give "secret" together with "signature" (for ed25519 a whsk_ key), and the old secret stops at once`;
    throwIfAny([{ path: 'signature', message }]);
  }
  let row: EndpointRow | null;
  try {
    row = await updateEndpoint(db, appId, current.id, sealedWrite(box, current.id, valid), ctx.now);
  } catch (e) {
    return uniqueConflict(e, `an endpoint with uid ${input.uid} in this application`);
  }
  if (row && secret) {
    await rotateSecret(db, appId, current.id, sealSecret(box, current.id, secret), misfit !== null ? 0 : DEFAULT_ROTATION_GRACE_MS, ctx.now);
  }
  if (row) await recordOperationalEvents(db, endpointChangeEvents(current, row), ctx.now);
  return row;
}

/**
 * What an update raises: `endpoint.updated`, and `endpoint.disabled` (by a person) or
 * `endpoint.enabled` when it changed that; enabling an endpoint Herald had disabled for its failures
 * is a recovery a person hears about.
 */
function endpointChangeEvents(before: EndpointRow, after: EndpointRow): OperationalEventInput[] {
  const ids = { appId: after.appId, endpointId: after.id };
  const events: OperationalEventInput[] = [{ type: 'endpoint.updated', ...ids, notify: false }];
  if (after.disabled && !before.disabled) {
    events.push({ type: 'endpoint.disabled', ...ids, notify: false, data: { failSince: null, trigger: 'manual', reason: 'disabled through the API' } });
  } else if (before.disabled && !after.disabled) {
    events.push({ type: 'endpoint.enabled', ...ids, notify: before.disabledBy === 'auto' });
  }
  return events;
}

/** Deletes an endpoint and raises `endpoint.deleted`; false when it did not exist. */
export async function removeEndpoint(db: Queryable, appId: string, endpoint: Pick<EndpointRow, 'id' | 'uid'>, now: Date): Promise<boolean> {
  if (!(await deleteEndpoint(db, appId, endpoint.id))) return false;
  await recordOperationalEvents(db, [{ type: 'endpoint.deleted', appId, endpointId: endpoint.id, notify: false, data: { endpointUid: endpoint.uid } }], now);
  return true;
}

/**
 * Replaces an endpoint's custom headers after validating them, including that none reuses a name
 * its signature profile or delivery headers send, and stores their values sealed; false when it does
 * not exist.
 */
export async function replaceCustomHeaders(
  db: Queryable,
  box: SecretBox,
  appId: string,
  endpointId: string,
  headers: Record<string, string>,
  ctx: { now: Date; headerLimits?: CustomHeaderLimits },
): Promise<boolean> {
  const valid = validateCustomHeaders(headers, ctx.headerLimits);
  const app = await getApplication(db, appId);
  const ep = app && app.id === appId ? await getEndpoint(db, appId, endpointId) : null;
  if (!app || !ep) return false;
  const collisions = contractProblems({ signature: ep.signature, deliveryHeaders: ep.deliveryHeaders, headers }, contractDefaultsOf(app)).filter((f) => f.path.startsWith('headers.'));
  throwIfAny(collisions);
  return setEndpointHeaders(db, appId, ep.id, sealHeaders(box, ep.id, valid), ctx.now);
}
