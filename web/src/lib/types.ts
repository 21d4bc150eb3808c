/**
 * The API's shapes as the browser app names them: aliases of the types generated from Herald's
 * OpenAPI document (src/api-client/schema.ts), so a field added to the API reaches the UI's types
 * without being copied here. Svix v1 fields plus Herald's extras.
 */
import type { Schemas } from './api';
import type { DeliveryHeaders, SignatureProfile } from './signature.js';

export type { DeliveryHeaders, SignatureProfile };

/** What a token may do. */
export type Permission = Schemas['Permission'];

/** `GET /api/v1/auth/whoami`: who the current token is. */
export type WhoAmI = Schemas['WhoamiOut'];

/** An application (tenant). */
export type ApplicationOut = Schemas['ApplicationOut'];

/** The delivery policy in force after inheritance (endpoint → application → server default). */
export type EffectivePolicy = Schemas['EffectivePolicyOut'];

/** An endpoint's circuit breaker. */
export type BreakerOut = Schemas['BreakerOut'];

/** A webhook endpoint, with Herald's extras. */
export type EndpointOut = Schemas['EndpointOut'];

/** Body of create endpoint. */
export type EndpointIn = Schemas['EndpointIn'];

/** An ed25519 endpoint's public keys. */
export type PublicKeysOut = Schemas['PublicKeysOut'];

/** An entry of the event type catalogue. */
export type EventTypeOut = Schemas['EventTypeOut'];

/** Svix MessageStatus: 0 success, 1 pending, 2 failed, 3 sending, 4 canceled (not sent: endpoint disabled). */
export type MessageStatus = Schemas['MessageStatus'];

/** A published message. */
export type MessageOut = Schemas['MessageOut'];

/** One delivery attempt as lists show it, or with the request sent (the attempt's own page). */
export type AttemptOut = Schemas['MessageAttemptOut'] & Partial<Pick<Schemas['MessageAttemptDetailOut'], 'requestBody' | 'requestHeaders'>>;

/** An API key (the full `key` only in the creation response). */
export type ApiKeyOut = Schemas['ApiKeyOut'] & { key?: string };

/** `GET /api/v1/stats/health`. */
export type HealthOut = Schemas['DeliveryHealthOut'];

/** One entry of the health view's failing endpoints. */
export type FailingEndpoint = HealthOut['failingEndpoints'][number];

/** `GET .../endpoint/{ep}/headers`. */
export type EndpointHeadersOut = Schemas['EndpointHeadersOut'];

/** A message sent to one endpoint, with its delivery status (`GET …/endpoint/{ep}/msg`). */
export type EndpointMessageOut = Schemas['EndpointMessageOut'];

/** One operational event (`GET /api/v1/operational-event`): something that happened to an integration. */
export type OperationalEventOut = Schemas['OperationalEventOut'];

/** The alert email settings (`GET/PUT /api/v1/alert-settings`, operators). */
export type AlertSettingsOut = Schemas['AlertSettingsOut'];
