/**
 * Shapes of Herald's public API as the browser app uses them: Svix v1 fields plus Herald's extras.
 * Optional fields are ones an older or Svix-only server may leave out; the UI copes.
 */

import type { DeliveryHeaders, SignatureProfile } from './signature.js';

export type { DeliveryHeaders, SignatureProfile };

/** What a token may do: read, and create, update or delete separately. */
export type Permission = 'read' | 'create' | 'update' | 'delete';

/** `GET /api/v1/auth/whoami`: who the current token is. */
export interface WhoAmI {
  /** Operator token, API key, or customer-portal token. */
  kind: 'admin' | 'api_key' | 'portal';
  /** The one application the token is scoped to; null = every application. */
  appId: string | null;
  /** Granted permissions. */
  permissions: Permission[];
  /** Whether endpoint secrets may be read back after creation. */
  canReadSecrets: boolean;
}

/** Svix list envelope. */
export interface ListResponse<T> {
  /** Items of this page. */
  data: T[];
  /** Cursor of the next page. */
  iterator: string | null;
  /** Cursor of the previous page. */
  prevIterator?: string | null;
  /** True when this is the last page. */
  done: boolean;
}

/** An application (tenant). */
export interface ApplicationOut {
  /** `app_…` id. */
  id: string;
  /** The platform's own id. */
  uid?: string | null;
  /** Display name. */
  name: string;
  /** Who hears about this application's broken integrations (the platform's customer), or null. */
  alertEmail?: string | null;
  /** Creation time (ISO 8601). */
  createdAt: string;
  /** Last change (ISO 8601). */
  updatedAt: string;
  /** Free-form metadata. */
  metadata?: Record<string, string>;
  /** Default requests per second per endpoint. */
  throttleRate?: number | null;
  /** Default in-flight cap of its endpoints; null = the server default. */
  maxInFlight?: number | null;
  /** Default per-attempt timeout of its endpoints, ms; null = the server default. */
  timeoutMs?: number | null;
  /** Default retry delays of its endpoints, seconds after the first attempt; null = the server default. */
  retrySchedule?: number[] | null;
  /** What its endpoints get when they override nothing. */
  effectivePolicy?: EffectivePolicy;
  /** Signature profile of its endpoints; null = Standard Webhooks. */
  signature?: SignatureProfile | null;
  /** Delivery header names and User-Agent of its endpoints; null = none (Herald's User-Agent). */
  deliveryHeaders?: DeliveryHeaders | null;
}

/** The delivery policy in force after inheritance (endpoint → application → server default). */
export interface EffectivePolicy {
  /** Requests in flight at most. */
  maxInFlight: number;
  /** Deadline of one attempt, ms. */
  timeoutMs: number;
  /** Seconds before each retry after the first attempt. */
  retrySchedule: number[];
  /** Requests per second at most; null = no limit. */
  throttleRate: number | null;
}

/** An endpoint's circuit breaker. */
export interface BreakerOut {
  /** closed: sending; open: nothing attempted until openUntil; half-open: one probe at a time. */
  state: 'closed' | 'open' | 'half-open';
  /** Failed attempts in a row. */
  consecutiveFailures: number;
  /** While open: when the next probe may go. */
  openUntil: string | null;
}

/** A webhook endpoint, with Herald's extras. */
export interface EndpointOut {
  /** `ep_…` id. */
  id: string;
  /** The platform's own id. */
  uid?: string | null;
  /** Where deliveries go. */
  url: string;
  /** Shown as the webhook's name. */
  description: string;
  /** True = receives nothing. */
  disabled?: boolean;
  /** Subscribed event types; null or absent = every type. */
  filterTypes?: string[] | null;
  /** Creation time. */
  createdAt: string;
  /** Last change. */
  updatedAt: string;
  /** Free-form metadata. */
  metadata?: Record<string, string>;
  /** Why it is disabled, in words a user can act on. */
  disabledReason?: string | null;
  /** Who disabled it: a person or the auto-disable rule. */
  disabledBy?: 'user' | 'auto' | null;
  /** Last four characters of the current signing secret. */
  secretHint?: string | null;
  /** The latest attempt. */
  lastDelivery?: { at: string; succeeded: boolean } | null;
  /** Own in-flight cap; null = inherited. */
  maxInFlight?: number | null;
  /** Own per-attempt timeout, ms; null = inherited. */
  timeoutMs?: number | null;
  /** Own retry delays, seconds after the first attempt; null = inherited. */
  retrySchedule?: number[] | null;
  /** Own requests per second; null = inherited. */
  throttleRate?: number | null;
  /** parallel, or strict (one at a time, in publish order). */
  ordering?: 'parallel' | 'strict';
  /** Paused by a person: new deliveries are held and sent in order on resume. */
  paused?: boolean;
  /** Deliveries held while paused. */
  held?: number;
  /** Circuit breaker. */
  breaker?: BreakerOut;
  /** The policy in force. */
  effectivePolicy?: EffectivePolicy;
  /** Own signature profile; null = inherited from the application. */
  signature?: SignatureProfile | null;
  /** Own delivery headers; null = inherited from the application. */
  deliveryHeaders?: DeliveryHeaders | null;
  /** The profile in force (own, the application's, or Standard Webhooks). */
  effectiveSignature?: SignatureProfile;
  /** The delivery headers in force. */
  effectiveDeliveryHeaders?: DeliveryHeaders | null;
}

/** Body of create/update endpoint. */
export interface EndpointIn {
  /** Destination URL. */
  url: string;
  /** Name shown in lists. */
  description?: string;
  /** Event types; null = all. */
  filterTypes?: string[] | null;
  /** Create paused. */
  disabled?: boolean;
  /** An existing secret to import, in the profile's form (`whsec_…`, text, hex or `whsk_…`). */
  secret?: string;
  /** Signature profile; null = inherit. */
  signature?: SignatureProfile | null;
  /** Delivery headers; null = inherit. */
  deliveryHeaders?: DeliveryHeaders | null;
  /** In-flight cap; null = inherit. */
  maxInFlight?: number | null;
  /** Per-attempt timeout, ms; null = inherit. */
  timeoutMs?: number | null;
  /** Retry delays, seconds; null = inherit. */
  retrySchedule?: number[] | null;
  /** Requests per second; null = inherit. */
  throttleRate?: number | null;
  /** parallel or strict. */
  ordering?: 'parallel' | 'strict';
}

/** `GET …/endpoint/{ep}/public-key` and `GET /api/v1/public/endpoint/{ep}/keys`: an ed25519 endpoint's public keys. */
export interface PublicKeysOut {
  /** Newest first; more than one during a rotation's grace period. */
  keys: { key: string; expiresAt: string | null }[];
}

/** An entry of the event type catalogue. */
export interface EventTypeOut {
  /** Dotted name, e.g. `order.paid`. */
  name: string;
  /** Shown beside the checkbox. */
  description: string;
  /** Archived types stay valid but are hidden from forms. */
  archived?: boolean;
  /** JSON Schemas by version. */
  schemas?: Record<string, unknown> | null;
  /** Creation time. */
  createdAt: string;
  /** Last change. */
  updatedAt: string;
}

/** Svix MessageStatus: 0 success, 1 pending, 2 failed, 3 sending, 4 canceled (not sent: endpoint disabled). */
export type MessageStatus = 0 | 1 | 2 | 3 | 4;

/** A published message. */
export interface MessageOut {
  /** `msg_…` id. */
  id: string;
  /** Event type. */
  eventType: string;
  /** The JSON payload. */
  payload: unknown;
  /** Publisher's idempotency key. */
  eventId?: string | null;
  /** Publish time. */
  timestamp: string;
}

/** One delivery attempt, with Herald's extras. */
export interface AttemptOut {
  /** `atmpt_…` id. */
  id: string;
  /** Message delivered. */
  msgId: string;
  /** Endpoint it went to. */
  endpointId: string;
  /** URL the request went to. */
  url: string;
  /** Response body as text. */
  response: string;
  /** HTTP status; 0 or negative when no response arrived. */
  responseStatusCode: number;
  /** Time to answer, ms. */
  responseDurationMs?: number;
  /** Outcome. */
  status: MessageStatus;
  /** 0 scheduled, 1 manual. */
  triggerType: 0 | 1;
  /** When the attempt started. */
  timestamp: string;
  /** 1-based attempt number of this message to this endpoint. */
  attemptNumber?: number;
  /** Where it failed: dns, connect, tls, timeout, response, blocked. */
  errorStage?: string | null;
  /** What went wrong. */
  errorMessage?: string | null;
  /** Headers sent. */
  requestHeaders?: Record<string, string> | null;
  /** Headers received. */
  responseHeaders?: Record<string, string> | null;
  /** Event type of the message. */
  eventType?: string | null;
  /** The exact body sent (attempt detail only). */
  requestBody?: string;
  /** The stored response body was cut at 64 KiB. */
  responseTruncated?: boolean;
  /** The message, when the server includes it. */
  msg?: MessageOut;
}

/** An API key (the full `key` only in the creation response). */
export interface ApiKeyOut {
  /** `key_…` id. */
  id: string;
  /** Label. */
  name: string;
  /** Granted permissions. */
  permissions: Permission[];
  /** Scope: one application, or null for all. */
  appId: string | null;
  /** Creation time. */
  createdAt: string;
  /** Last authenticated request. */
  lastUsedAt?: string | null;
  /** Short lookup prefix, when the server shows it. */
  prefix?: string | null;
  /** The full key, present only once. */
  key?: string;
}

/** `GET /api/v1/stats/health`. */
export interface HealthOut {
  /** Deliveries waiting to be sent now. */
  queueDepth: number;
  /** Deliveries waiting for a later retry. */
  scheduledRetries: number;
  /** Attempts per minute, averaged over the last 5 minutes. */
  deliveriesPerMinute: number;
  /** Of queueDepth, being sent right now. */
  inFlight?: number;
  /** Successful attempts in the last 5 minutes. */
  succeededLast5m?: number;
  /** Failed attempts in the last 5 minutes. */
  failedLast5m?: number;
  /** Endpoints failing or disabled. */
  failingEndpoints: FailingEndpoint[];
}

/** One entry of the health view's failing endpoints. */
export interface FailingEndpoint {
  /** Owning application. */
  appId: string;
  /** Endpoint id. */
  endpointId?: string;
  /** Some servers name it `id`. */
  id?: string;
  /** URL. */
  url?: string;
  /** Failures in a row. */
  consecutiveFailures?: number;
  /** Latest error. */
  lastError?: string | null;
  /** Whether it has been disabled. */
  disabled?: boolean;
  /** Why it was disabled. */
  disabledReason?: string | null;
}

/** `GET .../endpoint/{ep}/headers`. */
export interface EndpointHeadersOut {
  /** Custom headers (sensitive values may be redacted). */
  headers: Record<string, string>;
  /** Names whose values are hidden. */
  sensitive?: string[];
}

/** A message sent to one endpoint, with its delivery status (`GET …/endpoint/{ep}/msg`). */
export interface EndpointMessageOut extends MessageOut {
  /** Delivery status. */
  status: MessageStatus;
  /** When the next attempt is due, while pending. */
  nextAttempt?: string | null;
  /** Attempts made so far. */
  attempts?: number;
  /** HTTP status of the latest attempt. */
  lastResponseStatusCode?: number | null;
  /** Why the latest attempt failed. */
  lastError?: string | null;
  /** When the latest attempt ran. */
  lastAttemptAt?: string | null;
}

/** One operational event (`GET /api/v1/operational-event`): something that happened to an integration. */
export interface OperationalEventOut {
  /** Row id (the list's iterator). */
  id: string;
  /** What happened. */
  type:
    | 'endpoint.created'
    | 'endpoint.updated'
    | 'endpoint.deleted'
    | 'endpoint.disabled'
    | 'endpoint.enabled'
    | 'message.attempt.exhausted'
    | 'message.attempt.failing'
    | 'message.attempt.recovered';
  /** Application concerned. */
  appId: string | null;
  /** Endpoint concerned. */
  endpointId: string | null;
  /** Message concerned. */
  msgId: string | null;
  /** The event as its operational webhook carries it: ids, lastAttempt, lastError, reason, trigger. */
  data: Record<string, unknown>;
  /** Whether a person is emailed about it. */
  notify: boolean;
  /** Whether that email went out. */
  emailed: boolean;
  /** When it happened. */
  createdAt: string;
}

/** The alert email settings (`GET/PUT /api/v1/alert-settings`, operators). */
export interface AlertSettingsOut {
  /** Operators emailed about every application. */
  emails: string[];
  /** At most one email per endpoint per this many seconds. */
  windowSeconds: number;
  /** Whether alert emails are sent. */
  enabled: boolean;
  /** Whether the server has an SMTP server (HERALD_SMTP_URL). */
  smtpConfigured: boolean;
}
