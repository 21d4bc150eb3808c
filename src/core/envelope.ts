/**
 * Envelopes: a JSON template that wraps a published payload and fills in what only Herald knows, so
 * a platform keeps bodies such as `{ "id", "type", "created_at", "data" }` without computing ids
 * itself. Rendered once, at publish: the stored message body is the exact bytes every endpoint is
 * sent and every signature covers.
 *
 * A template is any JSON object. A string value that is exactly one of the placeholders below is
 * replaced by its value; a key `"..."` whose value is `"{{payload}}"` merges the payload's own fields
 * in at that place (for bodies that are the payload plus a few fields). Everything else is kept as is.
 *
 * | placeholder | value |
 * |---|---|
 * | `{{payload}}` | the published payload (an object) |
 * | `{{message.id}}` | the message id, `msg_…` (also `webhook-id`) |
 * | `{{message.eventId}}` | the publisher's eventId, or null |
 * | `{{message.eventType}}` | the event type |
 * | `{{message.timestamp}}` | publish time, ISO 8601 UTC to the second (`2026-05-14T18:32:01Z`) |
 * | `{{message.timestampMillis}}` | publish time, ISO 8601 UTC with milliseconds |
 * | `{{message.timestampUnix}}` | publish time, Unix seconds (a number) |
 * | `{{application.id}}` | the application id, `app_…` |
 * | `{{application.uid}}` | the application's uid (the platform's own id), or null |
 */
import type { FieldError } from './errors.js';

/** What a template can refer to. */
export interface EnvelopeContext {
  /** Published payload. */
  payload: Record<string, unknown>;
  /** Message id. */
  msgId: string;
  /** Publisher's key. */
  eventId: string | null;
  /** Event type. */
  eventType: string;
  /** Publish time. */
  createdAt: Date;
  /** Application id. */
  appId: string;
  /** Application uid. */
  appUid: string | null;
}

/** The merge key: `{"...": "{{payload}}"}` puts the payload's fields there. */
export const SPREAD_KEY = '...';

const PLACEHOLDERS: Record<string, (c: EnvelopeContext) => unknown> = {
  '{{payload}}': (c) => c.payload,
  '{{message.id}}': (c) => c.msgId,
  '{{message.eventId}}': (c) => c.eventId,
  '{{message.eventType}}': (c) => c.eventType,
  '{{message.timestamp}}': (c) => `${c.createdAt.toISOString().slice(0, 19)}Z`,
  '{{message.timestampMillis}}': (c) => c.createdAt.toISOString(),
  '{{message.timestampUnix}}': (c) => Math.floor(c.createdAt.getTime() / 1000),
  '{{application.id}}': (c) => c.appId,
  '{{application.uid}}': (c) => c.appUid,
};

/** Every placeholder, for docs and the API's description. */
export const ENVELOPE_PLACEHOLDERS = Object.keys(PLACEHOLDERS);

/** Largest template accepted, serialised. */
export const MAX_ENVELOPE_BYTES = 16_384;

/** Problems with a template (paths inside it); none when it is usable. */
export function envelopeProblems(t: unknown): FieldError[] {
  if (t === null || typeof t !== 'object' || Array.isArray(t)) return [{ path: '', message: 'must be a JSON object' }];
  if (Buffer.byteLength(JSON.stringify(t)) > MAX_ENVELOPE_BYTES) return [{ path: '', message: `must be at most ${MAX_ENVELOPE_BYTES} bytes` }];
  const errors: FieldError[] = [];
  let payloadUsed = false;
  const walk = (v: unknown, path: string) => {
    if (typeof v === 'string' && v.startsWith('{{') && v.endsWith('}}')) {
      if (!(v in PLACEHOLDERS)) errors.push({ path, message: `unknown placeholder ${v}; use one of ${ENVELOPE_PLACEHOLDERS.join(', ')}` });
      if (v === '{{payload}}') payloadUsed = true;
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const at = path ? `${path}.${k}` : k;
        if (k === SPREAD_KEY && x !== '{{payload}}') errors.push({ path: at, message: `"${SPREAD_KEY}" merges the payload in: its value must be "{{payload}}"` });
        walk(x, at);
      }
    }
  };
  walk(t, '');
  if (!payloadUsed && errors.length === 0) errors.push({ path: '', message: 'must contain "{{payload}}" somewhere, or the published data would not be sent' });
  return errors;
}

/** Renders a template (validated before) into the body object. */
export function renderEnvelope(template: Record<string, unknown>, c: EnvelopeContext): Record<string, unknown> {
  const render = (v: unknown): unknown => {
    if (typeof v === 'string' && v in PLACEHOLDERS) return PLACEHOLDERS[v]!(c);
    if (Array.isArray(v)) return v.map(render);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === SPREAD_KEY) Object.assign(out, c.payload);
        else out[k] = render(x);
      }
      return out;
    }
    return v;
  };
  return render(template) as Record<string, unknown>;
}
