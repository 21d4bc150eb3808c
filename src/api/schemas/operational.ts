/**
 * Schemas of operational webhooks (Svix's OperationalWebhookEndpoint* shapes) and of the operational
 * event list (Herald's extension). Operational webhook endpoints subscribe to Herald's own event
 * types (src/core/operational.ts), not to the catalogue of the platform's event types.
 */
import { z } from 'zod';
import { OPERATIONAL_EVENT_TYPES } from '../../core/operational.js';
import type { EndpointRow } from '../../store/endpoints.js';
import type { OperationalEventRow } from '../../store/operational-events.js';
import { iso, Metadata, RateLimit, text, Timestamp, uid } from './common.js';
import { Secret } from './endpoints.js';

const OperationalType = z.enum(OPERATIONAL_EVENT_TYPES);
const OperationalTypes = z.array(OperationalType).max(OPERATIONAL_EVENT_TYPES.length);

const Settings = {
  url: z.string().min(1).max(65_536).describe('Where operational events are POSTed: https:// (http:// only with HERALD_ALLOW_HTTP).'),
  description: text(4096).default(''),
  throttleRate: RateLimit.nullish().describe('Most requests per second to this endpoint; null = no limit.'),
  rateLimit: RateLimit.nullish().describe('Older Svix name of throttleRate (the official clients send it); both with different values is a 422.'),
  uid: uid('ep_').nullish().describe('Your own id for this endpoint, unique among operational webhook endpoints.'),
  disabled: z.boolean().default(false),
  eventTypes: OperationalTypes.nullish().describe('Operational events this endpoint receives; null or [] = all.'),
  filterTypes: OperationalTypes.nullish().describe('Older Svix name of eventTypes (the official clients send it); both with different values is a 422.'),
  metadata: Metadata.optional(),
};

/** Body of POST /operational-webhook/endpoint. */
export const OperationalWebhookEndpointIn = z
  .object({ ...Settings, secret: Secret.nullish().describe('Signing secret (whsec_…); generated when omitted, which is recommended.') })
  .meta({ id: 'OperationalWebhookEndpointIn' });

/** Body of PUT /operational-webhook/endpoint/{endpoint_id}. */
export const OperationalWebhookEndpointUpsertIn = z.object(Settings).meta({ id: 'OperationalWebhookEndpointUpsertIn' });

/** An operational webhook endpoint. */
export const OperationalWebhookEndpointOut = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    throttleRate: z.number().nullable(),
    rateLimit: z.number().nullable().describe('The same value as throttleRate (older Svix name).'),
    uid: z.string().nullable(),
    disabled: z.boolean(),
    eventTypes: z.array(z.string()).nullable(),
    filterTypes: z.array(z.string()).nullable().describe('The same value as eventTypes (older Svix name).'),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    metadata: z.record(z.string(), z.string()),
    disabledReason: z.string().nullable().describe('Herald: why it is disabled, in words a person can act on.'),
  })
  .meta({ id: 'OperationalWebhookEndpointOut' });

/** The signing secret of an operational webhook endpoint. */
export const OperationalWebhookEndpointSecretOut = z.object({ key: z.string() }).meta({ id: 'OperationalWebhookEndpointSecretOut' });

/** Body of POST …/secret/rotate. */
export const OperationalWebhookEndpointSecretIn = z
  .object({
    key: Secret.nullish().describe('The new secret; generated when omitted.'),
    gracePeriodSeconds: z.number().int().min(0).max(604_800).nullish().describe('How long the old secret keeps signing (default 24 h).'),
  })
  .meta({ id: 'OperationalWebhookEndpointSecretIn' });

/** Body of PUT …/headers. */
export const OperationalWebhookEndpointHeadersIn = z
  .object({ headers: z.record(z.string(), z.string()) })
  .meta({ id: 'OperationalWebhookEndpointHeadersIn' });

/** Custom headers of an operational webhook endpoint; values of sensitive ones are not shown. */
export const OperationalWebhookEndpointHeadersOut = z
  .object({ headers: z.record(z.string(), z.string()), sensitive: z.array(z.string()) })
  .meta({ id: 'OperationalWebhookEndpointHeadersOut' });

/** Path parameters of one operational webhook endpoint. */
export const OperationalEndpointParams = z.object({ endpoint_id: z.string().min(1).max(256) });

export function toOperationalEndpointOut(ep: EndpointRow): z.output<typeof OperationalWebhookEndpointOut> {
  return {
    id: ep.id,
    url: ep.url,
    description: ep.description,
    throttleRate: ep.rateLimit,
    rateLimit: ep.rateLimit,
    uid: ep.uid,
    disabled: ep.disabled,
    eventTypes: ep.filterTypes,
    filterTypes: ep.filterTypes,
    createdAt: iso(ep.createdAt),
    updatedAt: iso(ep.updatedAt),
    metadata: ep.metadata,
    disabledReason: ep.disabledReason,
  };
}

/** Query of GET /operational-event. */
export const OperationalEventQuery = z.object({
  limit: z.coerce.number().int().min(1).max(250).default(50).describe('Most items to return (1-250).'),
  iterator: z.string().regex(/^-?\d{1,19}$/, 'an iterator from a previous page').max(20).nullish().describe('Cursor from a previous page.'),
  order: z.enum(['ascending', 'descending']).default('descending').describe('By time; newest first by default.'),
  type: z
    .union([OperationalType, z.array(OperationalType)])
    .optional()
    .describe('Only events of this type (repeat the parameter for several).'),
  appId: z.string().min(1).max(256).optional().describe('Only events of this application (id or uid).'),
  endpointId: z.string().min(1).max(256).optional().describe('Only events of this endpoint.'),
  since: z.iso.datetime({ offset: true }).optional().describe('Only events at or after this time.'),
  until: z.iso.datetime({ offset: true }).optional().describe('Only events before this time.'),
});

/** One operational event (Herald extension): what happened, to which application, endpoint and message. */
export const OperationalEventOut = z
  .object({
    id: z.string(),
    type: OperationalType,
    appId: z.string().nullable(),
    endpointId: z.string().nullable(),
    msgId: z.string().nullable(),
    data: z.record(z.string(), z.unknown()).describe('The event as its operational webhook carries it (`data` of `{ type, data }`).'),
    emailed: z.boolean().describe('Whether the alert email sender has handled it: sent, or passed over because nobody was to be told (alerts off, no addresses, too old). False while no SMTP server is configured.'),
    notify: z.boolean().describe('Whether this event is one a person is emailed about.'),
    createdAt: Timestamp,
  })
  .meta({ id: 'OperationalEventOut' });

export function toOperationalEventOut(e: OperationalEventRow): z.output<typeof OperationalEventOut> {
  return {
    id: e.id,
    type: e.type,
    appId: e.appId,
    endpointId: e.endpointId,
    msgId: e.msgId,
    data: e.data,
    emailed: e.emailedAt !== null,
    notify: e.notify,
    createdAt: iso(e.createdAt),
  };
}
