/**
 * Every value Herald stores sealed with HERALD_SECRET_KEY, read and rewritten in bounded batches for
 * key rotation (`herald secrets rotate-key`) and for sealing custom header values stored in clear
 * before migration 0014. Each batch is one read and one write, each autocommitted: nothing holds a
 * lock between batches, and an interrupted run loses nothing (the next one finds what is left).
 *
 * The sealed places (grep `seal(`): endpoint_secret.sealed (aad: endpoint id), endpoint.headers values
 * (aad: endpoint id and header name), idempotency_key.response (aad: principal and key). A value is
 * "not under the current key" when its key id, the second dot-separated part, differs.
 *
 * Writes are compare-and-set on the old value: a row changed meanwhile (a secret rotated, headers
 * replaced) is left alone, since whatever replaced it was sealed under a configured key already.
 */
import type { StoredHeaders } from '../core/custom-headers.js';
import type { Queryable } from './pool.js';

/** An endpoint signing secret to re-seal. */
export interface SealedSecretRow {
  /** endpoint_secret.id. */
  id: number;
  /** Its endpoint (the aad). */
  endpointId: string;
  /** The sealed value. */
  sealed: string;
}

/** Endpoint secrets after `afterId` not sealed under `keyId`, by id. */
export async function secretsNotUnder(db: Queryable, keyId: string, afterId: number, limit: number): Promise<SealedSecretRow[]> {
  const { rows } = await db.query<SealedSecretRow>(
    `select id, endpoint_id as "endpointId", sealed from endpoint_secret
     where id > $1 and split_part(sealed, '.', 2) <> $2 order by id limit $3`,
    [afterId, keyId, limit],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** Writes re-sealed secrets where the row still holds the value read; returns how many were written. */
export async function writeSecrets(db: Queryable, rows: { id: number; old: string; sealed: string }[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { rowCount } = await db.query(
    `update endpoint_secret s set sealed = r.sealed
     from unnest($1::bigint[], $2::text[], $3::text[]) as r(id, old, sealed) where s.id = r.id and s.sealed = r.old`,
    [rows.map((r) => r.id), rows.map((r) => r.old), rows.map((r) => r.sealed)],
  );
  return rowCount ?? 0;
}

/** An endpoint's custom headers to (re-)seal. */
export interface StoredHeadersRow {
  /** ep_… (part of the aad). */
  id: string;
  /** Owning application. */
  appId: string;
  /** As stored. */
  headers: StoredHeaders;
}

/** Endpoints after `afterId` with a header value in clear or sealed under another key than `keyId`, by id. */
export async function headersNotUnder(db: Queryable, keyId: string, afterId: string, limit: number): Promise<StoredHeadersRow[]> {
  const { rows } = await db.query<StoredHeadersRow>(
    `select id, app_id as "appId", headers from endpoint e
     where id > $1 and exists (select 1 from jsonb_each(e.headers) h
       where jsonb_typeof(h.value) <> 'object' or split_part(h.value->>'sealed', '.', 2) <> $2)
     order by id limit $3`,
    [afterId, keyId, limit],
  );
  return rows;
}

/** Endpoints with a header value in clear (rows from before 0014), through endpoint_clear_headers_idx. */
export async function headersInClear(db: Queryable, afterId: string, limit: number): Promise<StoredHeadersRow[]> {
  const { rows } = await db.query<StoredHeadersRow>(
    `select id, app_id as "appId", headers from endpoint
     where id > $1 and jsonb_path_exists(headers, 'strict $.* ? (@.type() == "string")') order by id limit $2`,
    [afterId, limit],
  );
  return rows;
}

/** Writes sealed headers where the row still holds the headers read (updated_at is kept: nothing a user set changed). */
export async function writeHeaders(db: Queryable, rows: { id: string; old: StoredHeaders; headers: StoredHeaders }[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { rowCount } = await db.query(
    `update endpoint e set headers = r.headers
     from unnest($1::text[], $2::jsonb[], $3::jsonb[]) as r(id, old, headers) where e.id = r.id and e.headers = r.old`,
    [rows.map((r) => r.id), rows.map((r) => JSON.stringify(r.old)), rows.map((r) => JSON.stringify(r.headers))],
  );
  return rowCount ?? 0;
}

/** A stored idempotent response to re-seal. */
export interface SealedResponseRow {
  /** Whose key space. */
  principalId: string;
  /** The Idempotency-Key. */
  key: string;
  /** The sealed body. */
  response: string;
}

/** Stored idempotent responses after (principalId, key) not sealed under `keyId`, in key order. */
export async function responsesNotUnder(db: Queryable, keyId: string, after: { principalId: string; key: string }, limit: number): Promise<SealedResponseRow[]> {
  const { rows } = await db.query<SealedResponseRow>(
    `select principal_id as "principalId", key, response from idempotency_key
     where (principal_id, key) > ($1, $2) and response is not null and split_part(response, '.', 2) <> $3
     order by principal_id, key limit $4`,
    [after.principalId, after.key, keyId, limit],
  );
  return rows;
}

/** Writes re-sealed responses where the row still holds the value read. */
export async function writeResponses(db: Queryable, rows: { principalId: string; key: string; old: string; sealed: string }[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { rowCount } = await db.query(
    `update idempotency_key k set response = r.sealed
     from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as r(principal_id, key, old, sealed)
     where k.principal_id = r.principal_id and k.key = r.key and k.response = r.old`,
    [rows.map((r) => r.principalId), rows.map((r) => r.key), rows.map((r) => r.old), rows.map((r) => r.sealed)],
  );
  return rowCount ?? 0;
}

/** What attempts show in place of a custom header value (the worker writes the same, build-request.ts). */
const REDACTED = '[redacted]';

/**
 * Redacts the named headers in one batch of an endpoint's attempts at or before `before` (newest
 * first), for attempts logged before custom header values were redacted when written; returns the
 * oldest time of the batch (the next cursor), or null when none was left. Attempts already redacted
 * do not match, so the cursor moves on even where many share a timestamp.
 */
export async function redactAttemptHeaders(
  db: Queryable,
  appId: string,
  endpointId: string,
  names: string[],
  before: Date,
  limit: number,
): Promise<{ count: number; oldest: Date | null }> {
  const { rows } = await db.query<{ count: number; oldest: Date | null }>(
    `with batch as (
       select a.id from attempt a
       where a.app_id = $1 and a.endpoint_id = $2 and a.created_at <= $4
         and exists (select 1 from unnest($3::text[]) k where a.request_headers ? k and a.request_headers->>k is distinct from $6)
       order by a.created_at desc limit $5
     ), upd as (
       update attempt a set request_headers = a.request_headers
         || (select jsonb_object_agg(k, $6::text) from unnest($3::text[]) k where a.request_headers ? k)
       from batch where a.id = batch.id returning a.created_at
     )
     select count(*)::int as count, min(created_at) as oldest from upd`,
    [appId, endpointId, names, before, limit, REDACTED],
  );
  return rows[0] ?? { count: 0, oldest: null };
}

/** How many stored values of each kind are not sealed under `keyId` (clear header values included). */
export async function countNotUnder(db: Queryable, keyId: string): Promise<{ secrets: number; headers: number; responses: number }> {
  const { rows } = await db.query<{ secrets: number; headers: number; responses: number }>(
    `select
       (select count(*)::int from endpoint_secret where split_part(sealed, '.', 2) <> $1) as secrets,
       (select count(*)::int from endpoint e where exists (select 1 from jsonb_each(e.headers) h
          where jsonb_typeof(h.value) <> 'object' or split_part(h.value->>'sealed', '.', 2) <> $1)) as headers,
       (select count(*)::int from idempotency_key where response is not null and split_part(response, '.', 2) <> $1) as responses`,
    [keyId],
  );
  return rows[0]!;
}
