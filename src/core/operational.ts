/**
 * Herald's operational events, by Svix's operational webhook names, and Herald's own application,
 * whose endpoints are the operational webhook endpoints that receive them.
 */

/** Herald's own application (created by migration 0010); hidden from application lists and publishing. */
export const OPERATIONAL_APP_ID = 'app_herald0operational0webhooks';

/** Every operational event type. */
export const OPERATIONAL_EVENT_TYPES = [
  'endpoint.created',
  'endpoint.updated',
  'endpoint.deleted',
  'endpoint.disabled',
  'endpoint.enabled',
  'message.attempt.exhausted',
  'message.attempt.failing',
  'message.attempt.recovered',
] as const;

/** One operational event type. */
export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[number];
