/**
 * Application (tenant) operations with validation and friendly conflicts, and the checks endpoints
 * share: policy overrides, and the signing contract (signature profile, delivery headers, envelope)
 * an endpoint inherits from its application. Changing an application's profile or delivery headers is
 * refused while one of its endpoints could not follow (a secret that does not fit, a header name
 * that would collide), so deliveries never start failing because of a settings change.
 */
import { deliveryHeadersProblems, type DeliveryHeaders } from '../core/delivery-headers.js';
import { MIN_TIMEOUT_MS, type PolicyBounds } from '../core/delivery-policy.js';
import { envelopeProblems } from '../core/envelope.js';
import { HeraldError, type FieldError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { SecretBox } from '../core/secret-box.js';
import { profileProblems, signingKeyOf, STANDARD_PROFILE, type SignatureProfile } from '../core/signature-profile.js';
import { insertApplication, updateApplication, type ApplicationInput, type ApplicationRow } from '../store/applications.js';
import { isEmailAddress } from '../alerts/addresses.js';
import { listEndpointContracts, listInheritingSecrets } from '../store/endpoints.js';
import type { Queryable } from '../store/pool.js';

const UID_PATTERN = /^[a-zA-Z0-9\-_.]{1,256}$/;

/** No upper bounds: what library callers (the operator's own code) get when they pass none. */
const UNBOUNDED: PolicyBounds = { maxInFlight: Infinity, timeoutMs: Infinity, attempts: Infinity, delayMs: Infinity };

/** The delivery-policy overrides an application or endpoint may carry; null or absent = inherit. */
export interface PolicyInput {
  /** Requests in flight at most. */
  maxInFlight?: number | null;
  /** Per-attempt deadline in ms. */
  timeoutMs?: number | null;
  /** Retry delays in seconds after the first attempt. */
  retryDelays?: number[] | null;
}

const wholeIn = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;

/**
 * Every problem with policy overrides against the operator's bounds (HERALD_MAX_*), one per bad
 * value. Paths are the API's field names, since the API reports them. The API passes the bounds;
 * without them only the shape is checked (the operator's own code may set what it likes, and
 * resolvePolicy clamps anyway).
 */
export function policyProblems(input: PolicyInput, bounds: PolicyBounds = UNBOUNDED): FieldError[] {
  const fields: FieldError[] = [];
  if (input.maxInFlight != null && !wholeIn(input.maxInFlight, 1, bounds.maxInFlight)) {
    fields.push({ path: 'maxInFlight', message: `must be a whole number of requests from 1 to ${bounds.maxInFlight} (this server's limit)` });
  }
  if (input.timeoutMs != null && !wholeIn(input.timeoutMs, MIN_TIMEOUT_MS, bounds.timeoutMs)) {
    fields.push({ path: 'timeoutMs', message: `must be a whole number of milliseconds from ${MIN_TIMEOUT_MS} to ${bounds.timeoutMs} (this server's limit)` });
  }
  const delays = input.retryDelays;
  if (delays != null) {
    const maxRetries = bounds.attempts - 1;
    const maxDelay = Math.floor(bounds.delayMs / 1000);
    if (maxRetries < 1) fields.push({ path: 'retrySchedule', message: 'this server allows no retries after the first attempt; leave it null' });
    else if (delays.length < 1 || delays.length > maxRetries) {
      fields.push({ path: 'retrySchedule', message: `must list 1 to ${maxRetries} retry delays (this server allows ${bounds.attempts} attempts in all); null inherits` });
    }
    delays.forEach((d, i) => {
      if (!wholeIn(d, 1, maxDelay)) fields.push({ path: `retrySchedule.${i}`, message: `each delay must be a whole number of seconds from 1 to ${maxDelay} (this server's limit)` });
    });
  }
  return fields;
}

/** What an endpoint inherits from its application. */
export interface ContractDefaults {
  /** The application's profile; null = standard. */
  signature: SignatureProfile | null;
  /** The application's delivery headers; null = none. */
  deliveryHeaders: DeliveryHeaders | null;
}

/** Delivery headers with every field present (null = not sent, or Herald's own User-Agent). */
export type ResolvedDeliveryHeaders = { [K in keyof DeliveryHeaders]-?: string | null };

/** The profile in force: the endpoint's own, else the application's, else standard (each replaces the whole object). */
export function effectiveSignature(own: SignatureProfile | null | undefined, inherited: SignatureProfile | null | undefined): SignatureProfile {
  return own ?? inherited ?? STANDARD_PROFILE;
}

/** The delivery headers in force: the endpoint's own object, else the application's, else none. */
export function effectiveDeliveryHeaders(own: DeliveryHeaders | null | undefined, inherited: DeliveryHeaders | null | undefined): ResolvedDeliveryHeaders {
  return resolvedDeliveryHeaders(own ?? inherited ?? null);
}

/** Fills in the absent fields with null. */
export function resolvedDeliveryHeaders(h: DeliveryHeaders | null): ResolvedDeliveryHeaders {
  return { eventType: h?.eventType ?? null, deliveryId: h?.deliveryId ?? null, userAgent: h?.userAgent ?? null };
}

/** The header names a profile writes beside the webhook-* ones (which nothing else may use anyway). */
export function profileHeaderNames(p: SignatureProfile): string[] {
  return p.scheme === 'hmac-sha256' ? [p.header, ...(p.timestampHeader ? [p.timestampHeader] : [])] : [];
}

/**
 * Names the core's reserved list lets through but custom headers may not set either: svix-*, proxy-*,
 * and User-Agent (set with deliveryHeaders.userAgent), so a profile or a delivery header cannot claim them.
 */
const ALSO_RESERVED = /^(svix-.*|proxy-.*|user-agent)$/i;

function alsoReserved(obj: unknown, keys: string[]): FieldError[] {
  const o = (obj ?? {}) as Record<string, unknown>;
  return keys.flatMap((k) => {
    const v = o[k];
    if (typeof v !== 'string' || !ALSO_RESERVED.test(v)) return [];
    const message = /^user-agent$/i.test(v) ? 'User-Agent is set with deliveryHeaders.userAgent; choose another name' : `${v} is set by Herald or by HTTP itself; choose another name`;
    return [{ path: k, message }];
  });
}

/** Field errors of a nested object, under `at` (errorHandler splits paths on dots). */
export const under = (at: string, fields: FieldError[]): FieldError[] => fields.map((f) => ({ path: f.path ? `${at}.${f.path}` : at, message: f.message }));

/** Problems of a signature profile given by a caller, paths under `signature`. */
export function signatureProblems(p: unknown): FieldError[] {
  const found = profileProblems(p);
  return under('signature', found.length > 0 ? found : alsoReserved(p, ['header', 'timestampHeader']));
}

/** Problems of an envelope template, paths under `envelope`. */
export function envelopeFieldProblems(t: unknown): FieldError[] {
  return under('envelope', envelopeProblems(t));
}

/** What a write sets of the signing contract; null or absent = inherit. */
export interface ContractInput {
  /** Own profile. */
  signature?: unknown;
  /** Own delivery headers. */
  deliveryHeaders?: unknown;
  /** Custom headers (endpoints): they may not reuse a name the profile or the delivery headers send. */
  headers?: Record<string, string>;
}

/**
 * Every problem with the signing contract of an application or endpoint, given what it inherits: a
 * bad profile, bad or colliding delivery header names (including the application's, against an
 * endpoint's own profile), and custom headers that would overwrite either.
 */
export function contractProblems(own: ContractInput, inherited: ContractDefaults): FieldError[] {
  const fields: FieldError[] = [];
  let profile: SignatureProfile | null = inherited.signature ?? STANDARD_PROFILE;
  if (own.signature != null) {
    const bad = signatureProblems(own.signature);
    fields.push(...bad);
    profile = bad.length === 0 ? (own.signature as SignatureProfile) : null; // collisions are judged against a valid profile only
  }
  if (profile === null) return fields;
  const taken = profileHeaderNames(profile);
  if (own.deliveryHeaders != null) {
    const bad = deliveryHeadersProblems(own.deliveryHeaders, taken);
    fields.push(...under('deliveryHeaders', bad.length > 0 ? bad : alsoReserved(own.deliveryHeaders, ['eventType', 'deliveryId'])));
  } else if (inherited.deliveryHeaders && own.signature != null) {
    for (const f of deliveryHeadersProblems(inherited.deliveryHeaders, taken)) {
      fields.push({ path: 'signature', message: `the application's deliveryHeaders.${f.path}: ${f.message}; choose other names, or set this endpoint's own deliveryHeaders` });
    }
  }
  const dh = effectiveDeliveryHeaders(own.deliveryHeaders as DeliveryHeaders | null, inherited.deliveryHeaders);
  const sent = new Set([...taken, dh.eventType, dh.deliveryId].filter((n): n is string => !!n).map((n) => n.toLowerCase()));
  for (const name of Object.keys(own.headers ?? {})) {
    if (sent.has(name.toLowerCase())) fields.push({ path: `headers.${name}`, message: `header "${name}" is sent by this endpoint's signature profile or delivery headers; choose another name` });
  }
  return fields;
}

/** Why `secret` cannot sign under `profile`, or null when it can. */
export function secretMisfit(profile: SignatureProfile, secret: string): string | null {
  try {
    signingKeyOf(profile, secret);
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** A flat settings object as comparable text: keys sorted (jsonb reorders them), null fields dropped. */
function canonicalText(v: object | null | undefined): string | null {
  if (v == null) return null;
  const entries = Object.entries(v).filter(([, x]) => x != null).sort(([x], [y]) => (x < y ? -1 : 1));
  return JSON.stringify(entries);
}

/** Whether two profiles (or two delivery-header objects) say the same thing. */
export const sameSettings = (a: object | null | undefined, b: object | null | undefined) => canonicalText(a) === canonicalText(b);

/** A valid profile with only its own fields, in a fixed order, as it is stored. */
export function canonicalProfile(p: SignatureProfile): SignatureProfile {
  if (p.scheme !== 'hmac-sha256') return { scheme: p.scheme };
  return { scheme: p.scheme, header: p.header, timestampHeader: p.timestampHeader ?? null, content: p.content, encoding: p.encoding, key: p.key };
}

/** Throws one validation error listing every field problem, if there are any. */
export function throwIfAny(fields: FieldError[]): void {
  if (fields.length === 0) return;
  throw new HeraldError('validation', fields.map((f) => `${f.path}: ${f.message}`).join('; '), { fields });
}

/** Checks name, uid and the policy overrides; a uid that looks like an app id would make lookups ambiguous. */
export function validateApplicationInput(input: ApplicationInput, bounds?: PolicyBounds): void {
  const fields: FieldError[] = [];
  if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 256) {
    fields.push({ path: 'name', message: 'required (1-256 characters)' });
  }
  if (input.uid != null && (!UID_PATTERN.test(input.uid) || input.uid.startsWith('app_'))) {
    fields.push({ path: 'uid', message: 'must be 1-256 characters of a-z, A-Z, 0-9, "-", "_" or "." and not start with app_' });
  }
  if (input.rateLimit != null && !wholeIn(input.rateLimit, 1, 65_535)) {
    fields.push({ path: 'throttleRate', message: 'must be a whole number of requests per second from 1 to 65535' });
  }
  fields.push(...policyProblems(input, bounds), ...contractProblems(input, { signature: null, deliveryHeaders: null }));
  if (input.envelope != null) fields.push(...envelopeFieldProblems(input.envelope));
  if (input.alertEmail != null && !isEmailAddress(input.alertEmail)) fields.push({ path: 'alertEmail', message: 'must be one email address, e.g. dev@customer.example; null = none' });
  if (input.retentionSeconds != null && !wholeIn(input.retentionSeconds, 3_600, 3_650 * 86_400)) {
    fields.push({ path: 'retentionPeriod', message: 'must be a whole number of days from 1 to 3650; null = the server default (HERALD_RETENTION_PERIOD)' });
  }
  throwIfAny(fields);
}

/** Most endpoints a refusal names; the rest are counted. */
const NAMED_ENDPOINTS = 5;

function endpointList(ids: string[]): string {
  const named = ids.slice(0, NAMED_ENDPOINTS).join(', ');
  return ids.length > NAMED_ENDPOINTS ? `${named} and ${ids.length - NAMED_ENDPOINTS} more` : named;
}

/**
 * Refuses a change of an application's profile or delivery headers that one of its endpoints could
 * not follow: an inheriting endpoint whose valid secrets do not fit the new profile, or an
 * endpoint whose own settings would collide with the new defaults.
 */
export async function assertEndpointsFollow(db: Queryable, box: SecretBox, current: ApplicationRow, next: ApplicationInput, now: Date): Promise<void> {
  const signatureChanged = !sameSettings(current.signature, next.signature);
  if (!signatureChanged && sameSettings(current.deliveryHeaders, next.deliveryHeaders)) return;
  const fields: FieldError[] = [];
  const profile = effectiveSignature(null, next.signature);
  if (signatureChanged) {
    const misfits = new Map<string, string>();
    for (const s of await listInheritingSecrets(db, current.id, now)) {
      const why = misfits.has(s.endpointId) ? null : secretMisfit(profile, box.open(s.sealed, s.endpointId));
      if (why) misfits.set(s.endpointId, why);
    }
    if (misfits.size > 0) {
      const [first] = misfits.values();
      fields.push({
        path: 'signature',
        message: `the signing secret of endpoint(s) ${endpointList([...misfits.keys()])}, which inherit this profile, does not fit it (${first}); rotate each to a fitting secret first, changing its own signature in the same request (PATCH the endpoint with signature and secret), then change the application`,
      });
    }
  }
  const defaults = { signature: next.signature ?? null, deliveryHeaders: next.deliveryHeaders ?? null };

  const clashes: string[] = [];
  for (const ep of await listEndpointContracts(db, current.id)) {
    const found = contractProblems(ep, defaults);
    if (found.length > 0) clashes.push(`endpoint ${ep.id}: ${found[0]!.path}: ${found[0]!.message}`);
  }
  if (clashes.length > 0) {
    const shown = clashes.slice(0, NAMED_ENDPOINTS).join('; ');
    fields.push({ path: signatureChanged ? 'signature' : 'deliveryHeaders', message: `header names would collide on ${clashes.length} endpoint(s): ${shown}` });
  }
  throwIfAny(fields);
}

/** A validated input with its profile and delivery headers in the form they are stored. */
function normalized(input: ApplicationInput): ApplicationInput {
  return {
    ...input,
    signature: input.signature == null ? null : canonicalProfile(input.signature),
    deliveryHeaders: input.deliveryHeaders == null ? null : resolvedDeliveryHeaders(input.deliveryHeaders),
  };
}

/** Maps a unique violation to a 409 the caller can act on. */
export function uniqueConflict(e: unknown, what: string): never {
  if ((e as { code?: string }).code === '23505') throw new HeraldError('conflict', `${what} already exists`, { cause: e });
  throw e;
}

/** Creates an application; `bounds` are the operator's limits on policy overrides (the API passes them). */
export async function createApplication(db: Queryable, input: ApplicationInput, now: Date, bounds?: PolicyBounds): Promise<ApplicationRow> {
  validateApplicationInput(input, bounds);
  try {
    return await insertApplication(db, newId('app', now.getTime()), normalized(input), now);
  } catch (e) {
    return uniqueConflict(e, `an application with uid ${input.uid}`);
  }
}

/**
 * Replaces an application's settings after validating them and checking that its endpoints can follow
 * a new profile or delivery headers (`current` is the stored row); null when it no longer exists.
 */
export async function updateApplicationSettings(
  db: Queryable,
  box: SecretBox,
  current: ApplicationRow,
  input: ApplicationInput,
  now: Date,
  bounds?: PolicyBounds,
): Promise<ApplicationRow | null> {
  validateApplicationInput(input, bounds);
  const next = normalized(input);
  await assertEndpointsFollow(db, box, current, next, now);
  try {
    return await updateApplication(db, current.id, next, now);
  } catch (e) {
    return uniqueConflict(e, `an application with uid ${input.uid}`);
  }
}
