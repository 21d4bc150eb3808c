/** Request and response schemas of applications (Svix ApplicationIn, ApplicationPatch, ApplicationOut). */
import { z } from 'zod';
import type { DeliveryHeaders } from '../../core/delivery-headers.js';
import { resolvePolicy } from '../../core/delivery-policy.js';
import type { SignatureProfile } from '../../core/signature-profile.js';
import { resolvedDeliveryHeaders } from '../../engine/applications.js';
import type { ApplicationInput, ApplicationRow } from '../../store/applications.js';
import { isEmailAddress, MAX_ADDRESS_LENGTH } from '../../alerts/addresses.js';
import { IdOrUid, iso, Metadata, queryFlag, RateLimit, text, Timestamp, uid } from './common.js';
import { CONTRACT_DOCS, DeliveryHeadersIn, DeliveryHeadersOut, Envelope, SignatureProfileIn, SignatureProfileOut, toDeliveryHeadersOut, toProfileOut } from './contract.js';
import { EffectivePolicyOut, MaxInFlight, rateOf, RetrySchedule, TimeoutMs, toEffectivePolicyOut, type PolicyView } from './policy.js';

/** Display name: required, 1-256 characters. */
const Name = text(256).min(1, 'name is required').describe('Application name for human consumption.');
const AppUid = uid('app_').describe('Optional unique identifier for the application (your own id for this tenant).');
/** The application's contact for alert emails. */
const AlertEmail = z
  .string()
  .max(MAX_ADDRESS_LENGTH, { message: `at most ${MAX_ADDRESS_LENGTH} characters`, abort: true })
  .refine(isEmailAddress, 'must be one email address, e.g. dev@customer.example')
  .describe("Herald: the address that hears by email about this application's broken endpoints (your customer's contact): messages failing or failed for good, an endpoint disabled automatically, a recovery. Emailed on its own, never with the operators. null = none.");

/** How long the application's delivery log is kept, in days (docs/retention.md). */
const RetentionPeriod = z
  .number()
  .int()
  .min(1)
  .max(3_650)
  .describe(
    "Herald: days this application's delivery log is kept (1-3650): older messages are deleted with their deliveries and attempts, unless a delivery is still pending. null = HERALD_RETENTION_PERIOD (90 days by default).",
  );

/** Fields create, update and patch share; absent or null policy fields = the operator default. */
const Shared = {
  uid: AppUid.nullish(),
  metadata: Metadata.optional(),
  rateLimit: RateLimit.nullish().describe('Deprecated Svix alias of throttleRate; both with different values is a 422.'),
  throttleRate: RateLimit.nullish().describe('Default requests per second per endpoint of this application, 1-65535 (an endpoint may set its own); null = none.'),
  maxInFlight: MaxInFlight.nullish().describe('Herald: default in-flight cap of this application\'s endpoints (each may set its own); 1 to HERALD_MAX_IN_FLIGHT_LIMIT. null = HERALD_ENDPOINT_MAX_IN_FLIGHT.'),
  timeoutMs: TimeoutMs.nullish().describe('Herald: default per-attempt timeout of this application\'s endpoints in ms; 1000 to HERALD_MAX_REQUEST_TIMEOUT. null = HERALD_REQUEST_TIMEOUT.'),
  retrySchedule: RetrySchedule.nullish().describe(
    "Herald: default retry delays of this application's endpoints, in seconds after the first attempt ([60, 300, 1800] = 4 attempts); 1 to HERALD_MAX_RETRY_ATTEMPTS - 1 entries, each 1 to HERALD_MAX_RETRY_DELAY. null = HERALD_RETRY_SCHEDULE.",
  ),
  signature: SignatureProfileIn.nullish().describe(CONTRACT_DOCS.appSignature),
  deliveryHeaders: DeliveryHeadersIn.nullish().describe(CONTRACT_DOCS.appDeliveryHeaders),
  envelope: Envelope.nullish().describe(`${CONTRACT_DOCS.envelope} ${CONTRACT_DOCS.appEnvelope}`),
  alertEmail: AlertEmail.nullish(),
  retentionPeriod: RetentionPeriod.nullish(),
};

/** Body of create (POST) and update (PUT). */
export const ApplicationIn = z.object({ name: Name, ...Shared }).meta({ id: 'ApplicationIn' });

/** Body of PATCH: only the fields given change; null clears a nullable one. */
export const ApplicationPatch = z.object({ name: Name.optional(), ...Shared }).meta({ id: 'ApplicationPatch' });

/** An application as the API returns it. */
export const ApplicationOut = z.object({
  id: z.string().describe("The application's id (app_…)."),
  uid: z.string().nullable().describe('Your own id for this application.'),
  name: z.string(),
  metadata: z.record(z.string(), z.string()),
  rateLimit: z.number().nullable().describe('Deprecated alias of throttleRate (the same value).'),
  throttleRate: z.number().nullable().describe('Default requests per second per endpoint, or null.'),
  maxInFlight: z.number().nullable().describe('Herald: default in-flight cap of its endpoints; null = the operator default.'),
  timeoutMs: z.number().nullable().describe('Herald: default per-attempt timeout of its endpoints in ms; null = the operator default.'),
  retrySchedule: z.array(z.number()).nullable().describe('Herald: default retry delays of its endpoints in seconds after the first attempt; null = the operator default.'),
  effectivePolicy: EffectivePolicyOut.describe("Herald: what an endpoint of this application that overrides nothing gets (application -> operator default)."),
  signature: SignatureProfileOut.nullable().describe(CONTRACT_DOCS.appSignature),
  deliveryHeaders: DeliveryHeadersOut.nullable().describe(CONTRACT_DOCS.appDeliveryHeaders),
  envelope: z.record(z.string(), z.unknown()).nullable().describe(`${CONTRACT_DOCS.envelope} ${CONTRACT_DOCS.appEnvelope}`),
  alertEmail: z.string().nullable().describe("Herald: the address that hears by email about this application's broken endpoints; null = none."),
  retentionPeriod: z.number().nullable().describe("Herald: days this application's delivery log is kept; null = the server default (HERALD_RETENTION_PERIOD)."),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}).meta({ id: 'ApplicationOut' });

/** Path parameters of one application. */
export const AppParams = z.object({ app_id: IdOrUid.describe("The application's id or uid.") });

/** Query of POST /app. */
export const CreateAppQuery = z.object({
  get_if_exists: queryFlag(false).describe('Return the existing application with this uid instead of a 409.'),
});

/** Maps a row to ApplicationOut; `view` gives the operator's defaults and bounds. */
export function toApplicationOut(row: ApplicationRow, view: PolicyView): z.output<typeof ApplicationOut> {
  return {
    id: row.id,
    uid: row.uid,
    name: row.name,
    metadata: row.metadata,
    rateLimit: row.rateLimit,
    throttleRate: row.rateLimit,
    maxInFlight: row.maxInFlight,
    timeoutMs: row.timeoutMs,
    retrySchedule: row.retryDelays,
    effectivePolicy: toEffectivePolicyOut(resolvePolicy(view.defaults, view.bounds, row, null), row.rateLimit),
    signature: row.signature ? toProfileOut(row.signature) : null,
    deliveryHeaders: row.deliveryHeaders ? toDeliveryHeadersOut(resolvedDeliveryHeaders(row.deliveryHeaders)) : null,
    envelope: row.envelope,
    alertEmail: row.alertEmail,
    retentionPeriod: row.retentionSeconds === null ? null : row.retentionSeconds / 86_400,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/** A create or update (PUT) body as the store's input: fields left out are reset, as in Svix. */
export function applicationInputOf(body: z.output<typeof ApplicationIn>): ApplicationInput {
  return {
    name: body.name,
    uid: body.uid ?? null,
    metadata: body.metadata ?? {},
    rateLimit: rateOf(body) ?? null,
    maxInFlight: body.maxInFlight ?? null,
    timeoutMs: body.timeoutMs ?? null,
    retryDelays: body.retrySchedule ?? null,
    signature: (body.signature ?? null) as SignatureProfile | null,
    deliveryHeaders: (body.deliveryHeaders ?? null) as DeliveryHeaders | null,
    envelope: body.envelope ?? null,
    alertEmail: body.alertEmail ?? null,
    retentionSeconds: days(body.retentionPeriod),
  };
}

/** Merges a PATCH body onto the stored application: absent fields stay, null clears. */
export function patchedApplication(row: ApplicationRow, body: z.output<typeof ApplicationPatch>): ApplicationInput {
  const keep = <T>(v: T | undefined, current: T): T => (v !== undefined ? v : current);
  return {
    name: body.name ?? row.name,
    uid: keep(body.uid, row.uid),
    metadata: body.metadata ?? row.metadata,
    rateLimit: keep(rateOf(body), row.rateLimit),
    maxInFlight: keep(body.maxInFlight, row.maxInFlight),
    timeoutMs: keep(body.timeoutMs, row.timeoutMs),
    retryDelays: keep(body.retrySchedule, row.retryDelays),
    signature: keep(body.signature as SignatureProfile | null | undefined, row.signature),
    deliveryHeaders: keep(body.deliveryHeaders as DeliveryHeaders | null | undefined, row.deliveryHeaders),
    envelope: keep(body.envelope, row.envelope),
    alertEmail: keep(body.alertEmail, row.alertEmail),
    retentionSeconds: keep(body.retentionPeriod === undefined ? undefined : days(body.retentionPeriod), row.retentionSeconds),
  };
}

/** Days (the API's unit) as the seconds the store keeps; null stays null. */
function days(d: number | null | undefined): number | null {
  return d == null ? null : d * 86_400;
}
