/** Endpoints, their custom headers (values sealed) and their encrypted signing secrets. */
import type { SealedHeaders, StoredHeaders } from '../core/custom-headers.js';
import type { DeliveryHeaders } from '../core/delivery-headers.js';
import { parsePayloadFilter, toJsonPath } from '../core/payload-filter.js';
import type { SignatureProfile } from '../core/signature-profile.js';
import type { Queryable } from './pool.js';
import { keyset, type Keyset, type PageRequest } from './paging.js';

/** A stored endpoint. */
export interface EndpointRow {
  /** ep_… */
  id: string;
  /** Owning application. */
  appId: string;
  /** Platform's own id, unique per application. */
  uid: string | null;
  /** Delivery URL. */
  url: string;
  /** Free text; the UI shows it as the name. */
  description: string;
  /** Subscribed event types (null = every type). */
  filterTypes: string[] | null;
  /** Channels (reserved). */
  channels: string[] | null;
  /** Receives nothing while true. */
  disabled: boolean;
  /** 'user' or 'auto'. */
  disabledBy: 'user' | 'auto' | null;
  /** Why it was disabled. */
  disabledReason: string | null;
  /** When it was disabled. */
  disabledAt: Date | null;
  /** Custom headers sent with each delivery, as stored: values sealed (src/engine/custom-headers.ts opens them). */
  headers: StoredHeaders;
  /** Key/value pairs. */
  metadata: Record<string, string>;
  /** Requests/s limit, or null (inherit the application's). */
  rateLimit: number | null;
  /** Requests in flight at most, or null (inherit). */
  maxInFlight: number | null;
  /** Per-attempt deadline in ms, or null (inherit). */
  timeoutMs: number | null;
  /** Retry delays in seconds after the first attempt, or null (inherit). */
  retryDelays: number[] | null;
  /** parallel, or strict (one at a time, in publish order). */
  ordering: EndpointOrdering;
  /** Own signature profile, or null (inherit the application's, else standard). */
  signature: SignatureProfile | null;
  /** Own delivery headers, or null (inherit the application's, else none). */
  deliveryHeaders: DeliveryHeaders | null;
  /** Filter over the message body (src/core/payload-filter.ts), as given; null = every message. */
  payloadFilter: Record<string, unknown> | null;
  /** Failed attempts in a row. */
  consecutiveFailures: number;
  /** Start of the current run of failures. */
  firstFailureAt: Date | null;
  /** When created. */
  createdAt: Date;
  /** Last change. */
  updatedAt: Date;
}

/** How an endpoint's deliveries may overlap. */
export type EndpointOrdering = 'parallel' | 'strict';

export const ENDPOINT_COLUMNS = `id, app_id as "appId", uid, url, description, filter_types as "filterTypes",
  channels, disabled, disabled_by as "disabledBy", disabled_reason as "disabledReason", disabled_at as "disabledAt",
  headers, metadata, rate_limit as "rateLimit", max_in_flight as "maxInFlight", timeout_ms as "timeoutMs",
  retry_delays as "retryDelays", ordering, signature, delivery_headers as "deliveryHeaders", consecutive_failures as "consecutiveFailures",
  first_failure_at as "firstFailureAt", created_at as "createdAt", updated_at as "updatedAt", payload_filter as "payloadFilter"`;

/** Fields a caller sets on create and update. */
export interface EndpointInput {
  /** Delivery URL (validated by the caller). */
  url: string;
  /** Free text. */
  description?: string;
  /** Subscribed types, null = all. */
  filterTypes?: string[] | null;
  /** Channels. */
  channels?: string[] | null;
  /** Create paused / pause. */
  disabled?: boolean;
  /** Platform's own id. */
  uid?: string | null;
  /** Key/value pairs. */
  metadata?: Record<string, string>;
  /** Custom headers, values in clear (the engine seals them before they reach the store). */
  headers?: Record<string, string>;
  /** Requests/s; null = inherit. */
  rateLimit?: number | null;
  /** Requests in flight at most; null = inherit. */
  maxInFlight?: number | null;
  /** Per-attempt deadline in ms; null = inherit. */
  timeoutMs?: number | null;
  /** Retry delays in seconds after the first attempt; null = inherit. */
  retryDelays?: number[] | null;
  /** Default parallel. */
  ordering?: EndpointOrdering;
  /** Own signature profile (validated by the caller); null = inherit. */
  signature?: SignatureProfile | null;
  /** Own delivery headers (validated by the caller); null = inherit. */
  deliveryHeaders?: DeliveryHeaders | null;
  /** Filter over the message body (validated by the caller); null or {} = every message. */
  payloadFilter?: Record<string, unknown> | null;
}

/** What the store writes: the settings with custom header values sealed; headers absent = keep the stored ones (update). */
export type EndpointWrite = Omit<EndpointInput, 'headers'> & {
  /** Custom headers, sealed. */
  headers?: SealedHeaders;
};

/** A secret to store: sealed, its hint, and for Ed25519 the public key (`whpk_…`), readable by anyone. */
export interface SecretToStore {
  /** Encrypted secret. */
  sealed: string;
  /** Last four characters. */
  hint: string;
  /** Ed25519 public key, or null for HMAC secrets. */
  publicKey?: string | null;
}

const jsonb = (v: unknown) => (v == null ? null : JSON.stringify(v));

/**
 * The filter and its compiled jsonpath as stored: both null without one (or for `{}`). Compiled here,
 * where both columns are written, so they can never disagree; the caller has validated the filter.
 */
function payloadFilterColumns(filter: Record<string, unknown> | null | undefined): [string | null, string | null] {
  if (filter == null) return [null, null];
  const parsed = parsePayloadFilter(filter);
  if (!parsed.ok) throw new Error(`invalid payload filter reached the store: ${parsed.problems[0]!.path}: ${parsed.problems[0]!.message}`);
  return parsed.filter === null ? [null, null] : [JSON.stringify(filter), toJsonPath(parsed.filter)];
}

export async function insertEndpoint(
  db: Queryable,
  appId: string,
  id: string,
  input: EndpointWrite,
  secret: SecretToStore,
  now: Date,
): Promise<EndpointRow> {
  const { rows } = await db.query<EndpointRow>(
    `with ep as (
       insert into endpoint (id, app_id, uid, url, description, filter_types, channels, disabled, disabled_by,
         disabled_at, headers, metadata, rate_limit, max_in_flight, timeout_ms, retry_delays, ordering, signature,
         delivery_headers, created_at, updated_at, payload_filter, payload_filter_path)
       values ($1, $2, $3, $4, $5, $6, $7, $8, case when $8 then 'user' end, case when $8 then $12::timestamptz end,
         $9, $10, $11, $15, $16, $17, $18, $19, $20, $12, $12, $22, $23)
       returning ${ENDPOINT_COLUMNS}
     ), s as (
       insert into endpoint_secret (endpoint_id, sealed, hint, public_key, created_at) select id, $13, $14, $21, $12 from ep
     ), lane as (
       -- every endpoint is a scheduling lane; claims lock this row (store/lanes.ts)
       insert into endpoint_lane (endpoint_id, app_id) select id, "appId" from ep
     )
     select * from ep`,
    [
      id,
      appId,
      input.uid ?? null,
      input.url,
      input.description ?? '',
      input.filterTypes ?? null,
      input.channels ?? null,
      input.disabled ?? false,
      input.headers ?? {},
      input.metadata ?? {},
      input.rateLimit ?? null,
      now,
      secret.sealed,
      secret.hint,
      input.maxInFlight ?? null,
      input.timeoutMs ?? null,
      input.retryDelays ?? null,
      input.ordering ?? 'parallel',
      jsonb(input.signature),
      jsonb(input.deliveryHeaders),
      secret.publicKey ?? null,
      ...payloadFilterColumns(input.payloadFilter),
    ],
  );
  return rows[0]!;
}

/** Finds an endpoint of an application by id or uid. */
export async function getEndpoint(db: Queryable, appId: string, idOrUid: string): Promise<EndpointRow | null> {
  const { rows } = await db.query<EndpointRow>(
    `select ${ENDPOINT_COLUMNS} from endpoint where app_id = $1 and (id = $2 or uid = $2)
     order by (id = $2) desc limit 1`,
    [appId, idOrUid],
  );
  return rows[0] ?? null;
}

/**
 * Replaces an endpoint's settings (custom headers only when given: absent keeps them). Changing `disabled` records who did it; re-enabling clears the
 * reason and the failure run so the auto-disable count starts again, and wakes the workers: a paused
 * endpoint's held deliveries are due at once (all statements of one query see the same snapshot, so
 * `prev` is the row before the update).
 */
export async function updateEndpoint(
  db: Queryable,
  appId: string,
  endpointId: string,
  input: EndpointWrite,
  now: Date,
): Promise<EndpointRow | null> {
  const { rows } = await db.query<EndpointRow>(
    `with prev as (select disabled from endpoint where app_id = $1 and id = $2),
     upd as (
       update endpoint e set url = $3, description = $4, filter_types = $5, channels = $6, uid = $7,
         metadata = $8, headers = coalesce($9::jsonb, e.headers), rate_limit = $10, updated_at = $11,
         max_in_flight = $13, timeout_ms = $14, retry_delays = $15, ordering = $16, signature = $17, delivery_headers = $18,
         payload_filter = $19, payload_filter_path = $20,
         disabled = $12,
         disabled_by = case when $12 and not e.disabled then 'user' when $12 then e.disabled_by end,
         disabled_reason = case when $12 and not e.disabled then null when $12 then e.disabled_reason end,
         disabled_at = case when $12 and not e.disabled then $11 when $12 then e.disabled_at end,
         consecutive_failures = case when not $12 and e.disabled then 0 else e.consecutive_failures end,
         first_failure_at = case when not $12 and e.disabled then null else e.first_failure_at end
       where app_id = $1 and id = $2 returning ${ENDPOINT_COLUMNS}
     ),
     wake as (select pg_notify('herald_due', '') from prev where prev.disabled and not $12)
     select upd.* from upd cross join (select count(*) from wake) w`,
    [
      appId,
      endpointId,
      input.url,
      input.description ?? '',
      input.filterTypes ?? null,
      input.channels ?? null,
      input.uid ?? null,
      input.metadata ?? {},
      input.headers === undefined ? null : JSON.stringify(input.headers),
      input.rateLimit ?? null,
      now,
      input.disabled ?? false,
      input.maxInFlight ?? null,
      input.timeoutMs ?? null,
      input.retryDelays ?? null,
      input.ordering ?? 'parallel',
      jsonb(input.signature),
      jsonb(input.deliveryHeaders),
      ...payloadFilterColumns(input.payloadFilter),
    ],
  );
  return rows[0] ?? null;
}

export async function deleteEndpoint(db: Queryable, appId: string, endpointId: string): Promise<boolean> {
  const { rowCount } = await db.query('delete from endpoint where app_id = $1 and id = $2', [appId, endpointId]);
  return rowCount === 1;
}

/**
 * Disables endpoints with a reason and returns the ones that were enabled before (so an operational
 * event is raised once per disable). Disabled automatically (`auto`), their pending deliveries are
 * marked skipped (recover brings them back); paused by a person (`user`), they are held instead.
 */
export async function disableEndpoints(
  db: Queryable,
  items: { endpointId: string; reason: string }[],
  by: 'user' | 'auto',
  now: Date,
): Promise<{ id: string; appId: string; reason: string }[]> {
  if (items.length === 0) return [];
  const { rows } = await db.query<{ id: string; appId: string; reason: string }>(
    `with r as (select * from unnest($1::text[], $2::text[]) as r(id, reason)),
     upd as (
       update endpoint e set disabled = true, disabled_by = $3, disabled_reason = r.reason, disabled_at = $4, updated_at = $4
       from r where e.id = r.id and not e.disabled
       returning e.id, e.app_id as "appId", r.reason
     ), skip as (
       update delivery d set state = 'skipped', last_error = 'endpoint disabled: ' || upd.reason, updated_at = $4
       from upd where $3 = 'auto' and d.endpoint_id = upd.id and d.state = 'pending'
     )
     select * from upd`,
    [items.map((i) => i.endpointId), items.map((i) => i.reason), by, now],
  );
  return rows;
}

/** An endpoint with what the API shows beside its settings. */
export interface EndpointView extends EndpointRow {
  /** Last four characters of the current secret, for "•••• abcd". */
  secretHint: string | null;
  /** When the latest attempt to this endpoint started, or null. */
  lastDeliveryAt: Date | null;
  /** Whether that attempt succeeded, or null. */
  lastDeliverySucceeded: boolean | null;
  /** Until when its circuit breaker is open (endpoint_lane.breaker_until), or null. */
  breakerUntil: Date | null;
  /** Deliveries held while a person has paused it (pending rows); 0 otherwise. */
  held: number;
  /** The application's policy overrides, which the endpoint inherits where its own are null. */
  appPolicy: { maxInFlight: number | null; timeoutMs: number | null; retryDelays: number[] | null; rateLimit: number | null };
  /** The application's signature profile, which the endpoint inherits when its own is null. */
  appSignature: SignatureProfile | null;
  /** The application's delivery headers, which the endpoint inherits when its own are null. */
  appDeliveryHeaders: DeliveryHeaders | null;
}

/**
 * The latest attempt comes from `attempt` rather than `delivery`: attempt_endpoint_idx
 * (endpoint_id, created_at desc) answers "latest" with one index probe, where delivery would need
 * every row of the endpoint sorted by last_attempt_at. The held count is an index-only range of
 * delivery_pending_idx, taken only for paused endpoints (everywhere else pending rows are not held).
 * Joins are lateral subqueries with aliased columns so ENDPOINT_COLUMNS stays unambiguous.
 */
const VIEW_SELECT = `select ${ENDPOINT_COLUMNS}, s."secretHint", a."lastDeliveryAt", a."lastDeliverySucceeded",
    l."breakerUntil", h.held, ap."appPolicy", ap."appSignature", ap."appDeliveryHeaders"
  from endpoint e
  left join lateral (select hint as "secretHint" from endpoint_secret
    where endpoint_id = e.id and expires_at is null order by id desc limit 1) s on true
  left join lateral (select created_at as "lastDeliveryAt", succeeded as "lastDeliverySucceeded" from attempt
    where endpoint_id = e.id order by created_at desc limit 1) a on true
  left join lateral (select breaker_until as "breakerUntil" from endpoint_lane where endpoint_id = e.id) l on true
  cross join lateral (select json_build_object('maxInFlight', max_in_flight, 'timeoutMs', timeout_ms,
    'retryDelays', retry_delays, 'rateLimit', rate_limit) as "appPolicy", signature as "appSignature",
    delivery_headers as "appDeliveryHeaders" from application where id = e.app_id) ap
  cross join lateral (select case when e.disabled and e.disabled_by = 'user' then
    (select count(*)::int from delivery where endpoint_id = e.id and state = 'pending') else 0 end as held) h`;

/** Finds an endpoint of an application by id or uid, with its secret hint and latest attempt. */
export async function getEndpointView(db: Queryable, appId: string, idOrUid: string): Promise<EndpointView | null> {
  const { rows } = await db.query<EndpointView>(
    `${VIEW_SELECT} where e.app_id = $1 and (e.id = $2 or e.uid = $2) order by (e.id = $2) desc limit 1`,
    [appId, idOrUid],
  );
  return rows[0] ?? null;
}

/** One page of an application's endpoints by id, with Svix's iterators (see ./paging.ts). */
export async function listEndpointViews(db: Queryable, appId: string, page: PageRequest): Promise<{ rows: EndpointView[]; ks: Keyset }> {
  const ks = keyset('e.id', page, 3);
  const args: unknown[] = [appId, page.limit + 1];
  if (ks.cursor !== null) args.push(ks.cursor);
  const { rows } = await db.query<EndpointView>(`${VIEW_SELECT} where e.app_id = $1 and ${ks.where} order by ${ks.orderBy} limit $2`, args);
  return { rows, ks };
}

/** Replaces an endpoint's custom headers (validated and sealed by the caller); false when it does not exist. */
export async function setEndpointHeaders(
  db: Queryable,
  appId: string,
  endpointId: string,
  headers: SealedHeaders,
  now: Date,
): Promise<boolean> {
  const { rowCount } = await db.query('update endpoint set headers = $3, updated_at = $4 where app_id = $1 and id = $2', [
    appId,
    endpointId,
    headers,
    now,
  ]);
  return rowCount === 1;
}

// Secrets and public keys live in their own module; re-exported so callers keep one import.
export * from './endpoint-secrets.js';
