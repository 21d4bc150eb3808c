/** Application (tenant) operations with validation and friendly conflicts; the policy-override checks endpoints share. */
import { MIN_TIMEOUT_MS, type PolicyBounds } from '../core/delivery-policy.js';
import { HeraldError, type FieldError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { insertApplication, updateApplication, type ApplicationInput, type ApplicationRow } from '../store/applications.js';
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
  throwIfAny([...fields, ...policyProblems(input, bounds)]);
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
    return await insertApplication(db, newId('app', now.getTime()), input, now);
  } catch (e) {
    return uniqueConflict(e, `an application with uid ${input.uid}`);
  }
}

/** Replaces an application's settings after validating them; null when it does not exist. */
export async function updateApplicationSettings(
  db: Queryable,
  appId: string,
  input: ApplicationInput,
  now: Date,
  bounds?: PolicyBounds,
): Promise<ApplicationRow | null> {
  validateApplicationInput(input, bounds);
  try {
    return await updateApplication(db, appId, input, now);
  } catch (e) {
    return uniqueConflict(e, `an application with uid ${input.uid}`);
  }
}
