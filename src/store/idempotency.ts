/**
 * Stored responses of POST requests sent with an Idempotency-Key (see src/api/idempotency.ts).
 * A key is claimed with a `pending` row before the handler runs, so two concurrent requests with the
 * same key cannot both perform the side effect: the second sees the claim and waits for its outcome.
 * A claim is settled (completed or released) only by the request that made it: both statements match
 * the claim's `created_at`, so a late settle of a claim that was taken over leaves the new one alone.
 */
import type { Queryable } from './pool.js';

/** A stored key. */
export interface IdempotencyRow {
  /** sha256 of the first request. */
  requestHash: Buffer;
  /** pending while the first request runs. */
  state: 'pending' | 'done';
  /** Stored status. */
  status: number | null;
  /** Sealed response body. */
  response: string | null;
  /** When the first request arrived. */
  createdAt: Date;
}

/**
 * Claims `key` for this request, or returns the row that holds it. A row older than `replayUntil`
 * (finished more than 24 h ago) or a pending claim older than `staleBefore` (its request died) is taken over.
 */
export async function claimIdempotencyKey(
  db: Queryable,
  principalId: string,
  key: string,
  requestHash: Buffer,
  opts: { now: Date; replayUntil: Date; staleBefore: Date },
): Promise<{ claimed: true } | { claimed: false; row: IdempotencyRow }> {
  // A row committed by a concurrent request after this statement's snapshot blocks the insert but is
  // invisible to the select: no row comes back. The next statement sees it, so ask once more.
  for (let i = 0; i < 3; i++) {
    const row = await claimOnce(db, principalId, key, requestHash, opts);
    if (row === 'claimed') return { claimed: true };
    if (row !== null) return { claimed: false, row };
  }
  throw new Error(`idempotency key claim did not settle for principal ${principalId}`);
}

async function claimOnce(
  db: Queryable,
  principalId: string,
  key: string,
  requestHash: Buffer,
  opts: { now: Date; replayUntil: Date; staleBefore: Date },
): Promise<'claimed' | IdempotencyRow | null> {
  const { rows } = await db.query<IdempotencyRow & { claimed: boolean }>(
    `with claim as (
       insert into idempotency_key as k (principal_id, key, request_hash, state, created_at)
       values ($1, $2, $3, 'pending', $4)
       on conflict (principal_id, key) do update
         set request_hash = excluded.request_hash, state = 'pending', status = null, response = null, created_at = excluded.created_at
         where k.created_at < $5 or (k.state = 'pending' and k.created_at < $6)
       returning true as claimed
     )
     select true as claimed, null::bytea as "requestHash", null as state, null::int as status, null as response, null::timestamptz as "createdAt"
       from claim
     union all
     select false, request_hash, state, status, response, created_at from idempotency_key
       where principal_id = $1 and key = $2 and not exists (select 1 from claim)`,
    [principalId, key, requestHash, opts.now, opts.replayUntil, opts.staleBefore],
  );
  const row = rows[0];
  if (!row) return null;
  return row.claimed ? 'claimed' : row;
}

/** Stores the response of the claim made at `claimedAt` (the `now` it was claimed with). */
export async function completeIdempotencyKey(
  db: Queryable,
  principalId: string,
  key: string,
  claimedAt: Date,
  status: number,
  sealed: string,
): Promise<void> {
  await db.query(
    `update idempotency_key set state = 'done', status = $4, response = $5
      where principal_id = $1 and key = $2 and state = 'pending' and created_at = $3`,
    [principalId, key, claimedAt, status, sealed],
  );
}

/** Forgets the claim made at `claimedAt`, whose request failed, so the client can retry with the same key. */
export async function releaseIdempotencyKey(db: Queryable, principalId: string, key: string, claimedAt: Date): Promise<void> {
  await db.query(`delete from idempotency_key where principal_id = $1 and key = $2 and state = 'pending' and created_at = $3`, [
    principalId,
    key,
    claimedAt,
  ]);
}

/** Deletes keys past their replay window; returns how many. */
export async function purgeIdempotencyKeys(db: Queryable, before: Date): Promise<number> {
  const { rowCount } = await db.query(`delete from idempotency_key where created_at < $1`, [before]);
  return rowCount ?? 0;
}
