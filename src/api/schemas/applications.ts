/** Request and response schemas of applications (Svix ApplicationIn, ApplicationPatch, ApplicationOut). */
import { z } from 'zod';
import type { ApplicationRow } from '../../store/applications.js';
import { IdOrUid, iso, Metadata, RateLimit, text, Timestamp, uid } from './common.js';

/** Display name: required, 1-256 characters. */
const Name = text(256).min(1, 'name is required').describe('Application name for human consumption.');
const AppUid = uid('app_').describe('Optional unique identifier for the application (your own id for this tenant).');

/** Body of create (POST) and update (PUT). */
export const ApplicationIn = z.object({
  name: Name,
  uid: AppUid.nullish(),
  metadata: Metadata.optional(),
  rateLimit: RateLimit.nullish().describe('Deprecated Svix alias of throttleRate.'),
  throttleRate: RateLimit.nullish().describe('Default requests per second per endpoint of this application.'),
});

/** Body of PATCH: only the fields given change; null clears a nullable one. */
export const ApplicationPatch = z.object({
  name: Name.optional(),
  uid: AppUid.nullish(),
  metadata: Metadata.optional(),
  rateLimit: RateLimit.nullish(),
  throttleRate: RateLimit.nullish(),
});

/** An application as the API returns it. */
export const ApplicationOut = z.object({
  id: z.string().describe("The application's id (app_…)."),
  uid: z.string().nullable().describe('Your own id for this application.'),
  name: z.string(),
  metadata: z.record(z.string(), z.string()),
  rateLimit: z.number().nullable().describe('Deprecated alias of throttleRate.'),
  throttleRate: z.number().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

/** Path parameters of one application. */
export const AppParams = z.object({ app_id: IdOrUid.describe("The application's id or uid.") });

/** Query of POST /app. */
export const CreateAppQuery = z.object({
  get_if_exists: z.stringbool().default(false).describe('Return the existing application with this uid instead of a 409.'),
});

/** Maps a row to ApplicationOut. */
export function toApplicationOut(row: ApplicationRow): z.output<typeof ApplicationOut> {
  return {
    id: row.id,
    uid: row.uid,
    name: row.name,
    metadata: row.metadata,
    rateLimit: row.rateLimit,
    throttleRate: row.rateLimit,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/** Svix accepts both names for the rate limit; throttleRate wins when both are given. */
export function rateLimitOf(body: { rateLimit?: number | null; throttleRate?: number | null }): number | null | undefined {
  return body.throttleRate !== undefined ? body.throttleRate : body.rateLimit;
}
