/** Applications (tenants). */
import type { DeliveryHeaders } from '../core/delivery-headers.js';
import type { SignatureProfile } from '../core/signature-profile.js';
import { OPERATIONAL_APP_ID } from '../core/operational.js';
import type { Queryable } from './pool.js';
import { keyset, type Keyset, type PageRequest } from './paging.js';

/** A stored application. */
export interface ApplicationRow {
  /** app_… */
  id: string;
  /** Platform's own id, optional. */
  uid: string | null;
  /** Display name. */
  name: string;
  /** Free-form key/value pairs. */
  metadata: Record<string, string>;
  /** Default requests/s per endpoint, or null. */
  rateLimit: number | null;
  /** Default in-flight cap of its endpoints, or null (operator default). */
  maxInFlight: number | null;
  /** Default per-attempt deadline of its endpoints in ms, or null (operator default). */
  timeoutMs: number | null;
  /** Default retry delays of its endpoints in seconds after the first attempt, or null (operator default). */
  retryDelays: number[] | null;
  /** Signature profile of its endpoints (each may set its own), or null (standard). */
  signature: SignatureProfile | null;
  /** Delivery header names and User-Agent of its endpoints (each may set its own), or null (none). */
  deliveryHeaders: DeliveryHeaders | null;
  /** JSON template wrapping published payloads (an event type may set its own), or null (payload as published). */
  envelope: Record<string, unknown> | null;
  /** Address that hears about this application's broken endpoints by email (the platform's customer), or null. */
  alertEmail: string | null;
  /** How long its delivery log is kept, in seconds, or null (HERALD_RETENTION_PERIOD; docs/retention.md). */
  retentionSeconds: number | null;
  /** When created. */
  createdAt: Date;
  /** Last change. */
  updatedAt: Date;
}

const COLUMNS = `id, uid, name, metadata, rate_limit as "rateLimit", max_in_flight as "maxInFlight", timeout_ms as "timeoutMs",
  retry_delays as "retryDelays", signature, delivery_headers as "deliveryHeaders", envelope, alert_email as "alertEmail",
  retention_s as "retentionSeconds", created_at as "createdAt", updated_at as "updatedAt"`;

/** Fields a caller may set. */
export interface ApplicationInput {
  /** Display name. */
  name: string;
  /** Platform's own id. */
  uid?: string | null;
  /** Key/value pairs. */
  metadata?: Record<string, string>;
  /** Requests/s per endpoint; null = none. */
  rateLimit?: number | null;
  /** In-flight cap per endpoint; null = operator default. */
  maxInFlight?: number | null;
  /** Per-attempt deadline in ms; null = operator default. */
  timeoutMs?: number | null;
  /** Retry delays in seconds after the first attempt; null = operator default. */
  retryDelays?: number[] | null;
  /** Signature profile of its endpoints (validated by the caller); null = standard. */
  signature?: SignatureProfile | null;
  /** Delivery headers of its endpoints (validated by the caller); null = none. */
  deliveryHeaders?: DeliveryHeaders | null;
  /** Payload envelope template (validated by the caller); null = none. */
  envelope?: Record<string, unknown> | null;
  /** Contact address for alert emails (validated by the caller); null = none. */
  alertEmail?: string | null;
  /** Retention period of its delivery log in seconds; null = the operator's. */
  retentionSeconds?: number | null;
}

/** A jsonb parameter: serialised here, so an array-valued template is not sent as a PostgreSQL array. */
const jsonb = (v: unknown) => (v == null ? null : JSON.stringify(v));

/**
 * The policy and contract columns of an input, in the order the queries below bind them ($n..$n+5):
 * max_in_flight, timeout_ms, retry_delays, signature, delivery_headers, envelope, alert_email, retention_s.
 */
const settingArgs = (input: ApplicationInput) => [
  input.maxInFlight ?? null,
  input.timeoutMs ?? null,
  input.retryDelays ?? null,
  jsonb(input.signature),
  jsonb(input.deliveryHeaders),
  jsonb(input.envelope),
  input.alertEmail ?? null,
  input.retentionSeconds ?? null,
];

export async function insertApplication(db: Queryable, id: string, input: ApplicationInput, now: Date): Promise<ApplicationRow> {
  const { rows } = await db.query<ApplicationRow>(
    `insert into application (id, uid, name, metadata, rate_limit, max_in_flight, timeout_ms, retry_delays,
       signature, delivery_headers, envelope, alert_email, retention_s, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $7, $8, $9, $10, $11, $12, $13, $14, $6, $6) returning ${COLUMNS}`,
    [id, input.uid ?? null, input.name, input.metadata ?? {}, input.rateLimit ?? null, now, ...settingArgs(input)],
  );
  return rows[0]!;
}

/** Finds an application by its id or its uid. */
export async function getApplication(db: Queryable, idOrUid: string): Promise<ApplicationRow | null> {
  const { rows } = await db.query<ApplicationRow>(
    `select ${COLUMNS} from application where id = $1 or uid = $1 order by (id = $1) desc limit 1`,
    [idOrUid],
  );
  return rows[0] ?? null;
}

export async function updateApplication(db: Queryable, appId: string, input: ApplicationInput, now: Date): Promise<ApplicationRow | null> {
  const { rows } = await db.query<ApplicationRow>(
    `update application set name = $2, uid = $3, metadata = $4, rate_limit = $5, updated_at = $6,
       max_in_flight = $7, timeout_ms = $8, retry_delays = $9, signature = $10, delivery_headers = $11, envelope = $12, alert_email = $13,
       retention_s = $14
     where id = $1 returning ${COLUMNS}`,
    [appId, input.name, input.uid ?? null, input.metadata ?? {}, input.rateLimit ?? null, now, ...settingArgs(input)],
  );
  return rows[0] ?? null;
}

export async function deleteApplication(db: Queryable, appId: string): Promise<boolean> {
  const { rowCount } = await db.query('delete from application where id = $1', [appId]);
  return rowCount === 1;
}

/** One page of applications (Herald's own, for operational webhooks, is not listed) by id, in either order, with Svix's iterators (see ./paging.ts). */
export async function listApplicationsPage(db: Queryable, page: PageRequest): Promise<{ rows: ApplicationRow[]; ks: Keyset }> {
  const ks = keyset('id', page, 2);
  const { rows } = await db.query<ApplicationRow>(
    `select ${COLUMNS} from application where ${ks.where} and id <> '${OPERATIONAL_APP_ID}' order by ${ks.orderBy} limit $1`,
    ks.cursor === null ? [page.limit + 1] : [page.limit + 1, ks.cursor],
  );
  return { rows, ks };
}
