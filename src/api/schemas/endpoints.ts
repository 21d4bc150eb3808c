/**
 * Request and response schemas of endpoints (Svix EndpointIn/Update/Patch/Out, secrets, headers).
 * Svix accepts `filterTypes` or its newer name `eventTypes`, and `rateLimit` or `throttleRate`; so does
 * Herald, and answers with both. URL, filter, header, policy-bound, signing-contract and secret rules
 * that need the server's settings or the application are checked by src/engine/endpoints.ts, which
 * reports every bad field at once.
 */
import { z } from 'zod';
import { breakerState } from '../../core/breaker.js';
import { resolvePolicy } from '../../core/delivery-policy.js';
import { effectiveDeliveryHeaders, effectiveSignature, resolvedDeliveryHeaders } from '../../engine/applications.js';
import type { EndpointView } from '../../store/endpoints.js';
import { IdOrUid, iso, Metadata, RateLimit, text, Timestamp, uid, visibleText } from './common.js';
import { CONTRACT_DOCS, DeliveryHeadersIn, DeliveryHeadersOut, SignatureProfileIn, SignatureProfileOut, toDeliveryHeadersOut, toProfileOut } from './contract.js';
import { BreakerOut, EffectivePolicyOut, MaxInFlight, Ordering, POLICY_DOCS, RetrySchedule, TimeoutMs, toEffectivePolicyOut, type PolicyView } from './policy.js';

/**
 * Most filter entries per endpoint. Svix sets no bound; Herald's is fixed rather than a setting because
 * wildcards ("prefix.*", or null for all) already subscribe to any number of event types.
 */
export const MAX_FILTER_TYPES = 1000;
/** Most channels per endpoint (Svix's `EndpointIn.channels` maxItems). */
export const MAX_ENDPOINT_CHANNELS = 10;

const Url = z.string().min(1).max(65_536).describe('Where deliveries are POSTed: https:// (http:// only with HERALD_ALLOW_HTTP), no credentials.');
const Description = text(4096).describe('Free text; the UI shows it as the name.');
const EndpointUid = uid('ep_').describe('Your own id for this endpoint, unique within the application.');
const Filters = z
  .array(visibleText(z.string()).min(1).max(258))
  .max(MAX_FILTER_TYPES, `at most ${MAX_FILTER_TYPES} event types per endpoint (a fixed limit); subscribe to more with a wildcard ("prefix.*") or null (all)`)
  .describe('Event types this endpoint receives; null = all. Herald also accepts "*" and "prefix.*".');
const Channels = z
  .array(visibleText(z.string()).min(1).max(128).regex(/^[a-zA-Z0-9\-_.:+]+$/, 'a channel may only contain letters, digits and -_.:+'))
  .max(MAX_ENDPOINT_CHANNELS, `at most ${MAX_ENDPOINT_CHANNELS} channels per endpoint (a fixed limit, as in Svix's API)`);
/**
 * A signing secret. Its form depends on the endpoint's signature profile, so the schema only bounds
 * it; src/engine/endpoints.ts checks that it fits (for standard, Svix's whsec_ + base64 of 24-64 bytes).
 */
export const Secret = text(1024)
  .min(1, 'must not be empty')
  .describe(
    'Signing secret; generated to fit the profile when omitted, which is recommended. It must fit the endpoint\'s effective signature profile: standard, "whsec_" + base64 of 24-64 bytes (the prefix may be left out, as in Svix); ed25519, "whsk_" + base64 of the 32-byte private key; hmac-sha256 with key "hex", an even number (at least 32) of hex characters; with key "utf8", any string of at least 16 characters (e.g. a secret your customers already hold).',
  );
const HeaderMap = z.record(z.string(), z.string()).describe('Custom headers sent with every delivery.');

/** Herald's delivery-policy overrides; every one optional, null = inherit. */
const Policy = {
  maxInFlight: MaxInFlight.nullish().describe(POLICY_DOCS.maxInFlight),
  timeoutMs: TimeoutMs.nullish().describe(POLICY_DOCS.timeoutMs),
  retrySchedule: RetrySchedule.nullish().describe(POLICY_DOCS.retrySchedule),
  ordering: Ordering.nullish().describe(POLICY_DOCS.ordering),
};

/** Herald's signing-contract overrides; null = inherit the application's. */
const Contract = {
  signature: SignatureProfileIn.nullish().describe(CONTRACT_DOCS.signature),
  deliveryHeaders: DeliveryHeadersIn.nullish().describe(CONTRACT_DOCS.deliveryHeaders),
};

/** Herald's payload filter; its language is checked by src/core/payload-filter.ts (422 naming the bad part). */
const PayloadFilter = z
  .record(z.string(), z.unknown())
  .describe(
    'Herald: only messages whose body matches this filter are sent here; null (or {}) = every message. MongoDB-style conditions: ' +
      '{"status": "paid", "total_pence": {"$gte": 1000}, "customer.country": {"$in": ["GB", "IE"]}} with $eq, $ne, $in, $nin, $gt, $gte, $lt, $lte, ' +
      '$exists, $and, $or, $not and dotted paths or nested objects (docs/payload-filters.md).',
  );

/** Settings shared by create and update. */
const Settings = {
  url: Url,
  description: Description.default(''),
  uid: EndpointUid.nullish(),
  disabled: z.boolean().default(false),
  filterTypes: Filters.nullish(),
  eventTypes: Filters.nullish().describe('Newer Svix name of filterTypes.'),
  channels: Channels.nullish(),
  metadata: Metadata.optional(),
  rateLimit: RateLimit.nullish().describe('Deprecated Svix alias of throttleRate; both with different values is a 422.'),
  throttleRate: RateLimit.nullish().describe("Most requests per second to this endpoint, 1-65535; null = the application's throttleRate, if any."),
  version: z.number().int().min(1).nullish().describe('Ignored; kept for Svix compatibility.'),
  payloadFilter: PayloadFilter.nullish(),
  ...Policy,
  ...Contract,
};

/** Body of POST /app/{app_id}/endpoint. */
export const EndpointIn = z.object({ ...Settings, secret: Secret.nullish().describe(Secret.description!), headers: HeaderMap.nullish() }).meta({ id: 'EndpointIn' });

/** Body of PUT (creates the endpoint when missing). Custom headers and the secret are unchanged. */
export const EndpointUpdate = z.object(Settings).meta({ id: 'EndpointUpdate' });

/** Body of PATCH: absent fields stay, null clears a nullable one; `secret` rotates (default grace). */
export const EndpointPatch = z.object({
  url: Url.optional(),
  description: Description.optional(),
  uid: EndpointUid.nullish(),
  disabled: z.boolean().optional(),
  filterTypes: Filters.nullish(),
  eventTypes: Filters.nullish(),
  channels: Channels.nullish(),
  metadata: Metadata.optional(),
  rateLimit: Settings.rateLimit,
  throttleRate: Settings.throttleRate,
  version: Settings.version,
  payloadFilter: PayloadFilter.nullish().describe(`${PayloadFilter.description!} Absent keeps it, null removes it.`),
  secret: Secret.nullish().describe(
    "Rotates to this secret, which must fit the endpoint's profile after this change; the old one keeps signing for 24 h, or stops at once when it does not fit a new profile given in the same request.",
  ),
  ...Policy,
  ...Contract,
}).meta({ id: 'EndpointPatch' });

/** An endpoint as the API returns it: Svix EndpointOut plus Herald's extras. */
export const EndpointOut = z.object({
  id: z.string(),
  uid: z.string().nullable(),
  url: z.string(),
  description: z.string(),
  disabled: z.boolean(),
  filterTypes: z.array(z.string()).nullable(),
  eventTypes: z.array(z.string()).nullable(),
  channels: z.array(z.string()).nullable(),
  metadata: z.record(z.string(), z.string()),
  rateLimit: z.number().nullable().describe('Deprecated alias of throttleRate (the same value).'),
  throttleRate: z.number().nullable().describe("This endpoint's own requests-per-second limit; null = inherited (see effectivePolicy)."),
  version: z.number().describe('Always 1 (Svix compatibility).'),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  disabledReason: z.string().nullable().describe('Herald: why it is disabled, in words a user can act on.'),
  disabledBy: z.enum(['user', 'auto']).nullable().describe('Herald: a person (user) or the auto-disable rule (auto).'),
  disabledAt: Timestamp.nullable().describe('Herald: when it was disabled.'),
  secretHint: z.string().nullable().describe('Herald: last four characters of the current signing secret.'),
  lastDelivery: z
    .object({ at: Timestamp, succeeded: z.boolean() })
    .nullable()
    .describe('Herald: the latest delivery attempt to this endpoint.'),
  maxInFlight: z.number().nullable().describe("Herald: this endpoint's own in-flight cap; null = inherited (see effectivePolicy)."),
  timeoutMs: z.number().nullable().describe("Herald: this endpoint's own per-attempt timeout in ms; null = inherited."),
  retrySchedule: z.array(z.number()).nullable().describe("Herald: this endpoint's own retry delays in seconds after the first attempt; null = inherited."),
  ordering: Ordering.describe('Herald: "parallel" or "strict" (one at a time, in publish order).'),
  paused: z
    .boolean()
    .describe('Herald: disabled by a person (disabledBy user). New deliveries are held, not dropped, and sent in publish order when it is enabled again.'),
  held: z.number().describe('Herald: deliveries held while paused (0 unless paused).'),
  breaker: BreakerOut,
  effectivePolicy: EffectivePolicyOut,
  signature: SignatureProfileOut.nullable().describe("Herald: this endpoint's own signature profile; null = inherited (see effectiveSignature)."),
  deliveryHeaders: DeliveryHeadersOut.nullable().describe("Herald: this endpoint's own delivery headers; null = inherited (see effectiveDeliveryHeaders)."),
  effectiveSignature: SignatureProfileOut.describe(
    'Herald: the profile deliveries are signed with: the endpoint\'s own, else the application\'s, else {"scheme": "standard"}. For ed25519, receivers get the public keys from GET /api/v1/public/endpoint/{id}/keys.',
  ),
  effectiveDeliveryHeaders: DeliveryHeadersOut.describe("Herald: the delivery headers sent: the endpoint's own object, else the application's, else none (all null)."),
  payloadFilter: z.record(z.string(), z.unknown()).nullable().describe('Herald: the filter over message bodies this endpoint receives; null = every message (docs/payload-filters.md).'),
}).meta({ id: 'EndpointOut' });

/** The create response also carries the signing secret, once (Herald). */
export const EndpointCreatedOut = EndpointOut.extend({
  secret: z
    .string()
    .describe('Herald: the signing secret, shown in this response only (where HERALD_ALLOW_SECRET_READ=false). For ed25519 it is the private key (whsk_…): receivers need only the public key.'),
}).meta({ id: 'EndpointCreatedOut' });

/** Path parameters of one endpoint. */
export const EndpointParams = z.object({ app_id: IdOrUid, endpoint_id: IdOrUid.describe("The endpoint's id or uid.") });

/** GET …/secret. */
export const EndpointSecretOut = z.object({ key: z.string().describe('The current signing secret.') }).meta({ id: 'EndpointSecretOut' });

/** POST …/secret/rotate. */
export const EndpointSecretRotateIn = z.object({
  key: Secret.nullish().describe("The new secret, which must fit the endpoint's signature profile (see EndpointIn.secret); generated to fit it when omitted."),
  gracePeriodSeconds: z
    .number()
    .int()
    .min(0)
    .max(604_800)
    .nullish()
    .describe(
      'How long the old secret keeps signing: 0 = stops at once; default 86400 (24 h). Standard and ed25519 send one signature per valid secret; hmac-sha256 sends one, made with the old secret until the grace period ends, then with the new one.',
    ),
}).meta({ id: 'EndpointSecretRotateIn' });

/** PUT …/headers. */
export const EndpointHeadersIn = z.object({ headers: HeaderMap }).meta({ id: 'EndpointHeadersIn' });

/** PATCH …/headers: null or deleteHeaders removes a header. */
export const EndpointHeadersPatchIn = z.object({
  headers: z.record(z.string(), z.string().nullable()),
  deleteHeaders: z.array(z.string()).max(64).optional(),
}).meta({ id: 'EndpointHeadersPatchIn' });

/** GET …/headers: sensitive values are not returned, only their names. */
export const EndpointHeadersOut = z.object({
  headers: z.record(z.string(), z.string()),
  sensitive: z.array(z.string()).describe('Names of headers whose values are hidden (credentials).'),
}).meta({ id: 'EndpointHeadersOut' });

/** Names whose values are credentials: GET …/headers lists them in `sensitive` without their values. */
const SENSITIVE_HEADER = /(authorization|cookie|token|secret|password|passwd|api[-_]?key|credential|signature|session)/i;

/** Splits stored headers into shown ones and the names of hidden (sensitive) ones. */
export function toHeadersOut(headers: Record<string, string>): z.output<typeof EndpointHeadersOut> {
  const shown: Record<string, string> = {};
  const sensitive: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (SENSITIVE_HEADER.test(name)) sensitive.push(name);
    else shown[name] = value;
  }
  return { headers: shown, sensitive: sensitive.sort() };
}

/** Maps a stored endpoint; `view` gives the server's policy settings and the time. */
export function toEndpointOut(e: EndpointView, view: PolicyView): z.output<typeof EndpointOut> {
  const paused = e.disabled && e.disabledBy === 'user';
  const state = breakerState(view.breaker, { consecutiveFailures: e.consecutiveFailures, breakerUntil: e.breakerUntil }, view.now);
  const effective = resolvePolicy(view.defaults, view.bounds, e.appPolicy, e);
  return {
    id: e.id,
    uid: e.uid,
    url: e.url,
    description: e.description,
    disabled: e.disabled,
    filterTypes: e.filterTypes,
    eventTypes: e.filterTypes,
    channels: e.channels,
    metadata: e.metadata,
    rateLimit: e.rateLimit,
    throttleRate: e.rateLimit,
    version: 1,
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
    disabledReason: e.disabledReason,
    disabledBy: e.disabledBy,
    disabledAt: e.disabledAt ? iso(e.disabledAt) : null,
    secretHint: e.secretHint,
    lastDelivery: e.lastDeliveryAt ? { at: iso(e.lastDeliveryAt), succeeded: e.lastDeliverySucceeded === true } : null,
    maxInFlight: e.maxInFlight,
    timeoutMs: e.timeoutMs,
    retrySchedule: e.retryDelays,
    ordering: e.ordering,
    paused,
    held: paused ? e.held : 0,
    breaker: {
      state,
      consecutiveFailures: e.consecutiveFailures,
      openUntil: state === 'open' && e.breakerUntil ? iso(e.breakerUntil) : null,
    },
    effectivePolicy: toEffectivePolicyOut(effective, e.rateLimit ?? e.appPolicy.rateLimit),
    signature: e.signature ? toProfileOut(e.signature) : null,
    deliveryHeaders: e.deliveryHeaders ? toDeliveryHeadersOut(resolvedDeliveryHeaders(e.deliveryHeaders)) : null,
    effectiveSignature: toProfileOut(effectiveSignature(e.signature, e.appSignature)),
    effectiveDeliveryHeaders: toDeliveryHeadersOut(effectiveDeliveryHeaders(e.deliveryHeaders, e.appDeliveryHeaders)),
    payloadFilter: e.payloadFilter,
  };
}
