/** Application (tenant) operations with validation and friendly conflicts. */
import { HeraldError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { insertApplication, updateApplication, type ApplicationInput, type ApplicationRow } from '../store/applications.js';
import type { Queryable } from '../store/pool.js';

const UID_PATTERN = /^[a-zA-Z0-9\-_.]{1,256}$/;

/** Checks name and uid; a uid that looks like an app id would make lookups ambiguous. */
export function validateApplicationInput(input: ApplicationInput): void {
  if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 256) {
    throw new HeraldError('validation', 'name is required (1-256 characters)', { fields: [{ path: 'name', message: 'required' }] });
  }
  if (input.uid != null && (!UID_PATTERN.test(input.uid) || input.uid.startsWith('app_'))) {
    throw new HeraldError('validation', 'uid must be 1-256 characters of a-z, A-Z, 0-9, "-", "_" or "." and not start with app_', {
      fields: [{ path: 'uid', message: 'invalid uid' }],
    });
  }
}

/** Maps a unique violation to a 409 the caller can act on. */
export function uniqueConflict(e: unknown, what: string): never {
  if ((e as { code?: string }).code === '23505') throw new HeraldError('conflict', `${what} already exists`, { cause: e });
  throw e;
}

export async function createApplication(db: Queryable, input: ApplicationInput, now: Date): Promise<ApplicationRow> {
  validateApplicationInput(input);
  try {
    return await insertApplication(db, newId('app', now.getTime()), input, now);
  } catch (e) {
    return uniqueConflict(e, `an application with uid ${input.uid}`);
  }
}

/** Replaces an application's settings after validating them; null when it does not exist. */
export async function updateApplicationSettings(db: Queryable, appId: string, input: ApplicationInput, now: Date): Promise<ApplicationRow | null> {
  validateApplicationInput(input);
  try {
    return await updateApplication(db, appId, input, now);
  } catch (e) {
    return uniqueConflict(e, `an application with uid ${input.uid}`);
  }
}
