/**
 * Limits per tenant (issue 13 item 2): without them one application can grow the database without
 * bound. Checked where the row is created, under a lock, so that two concurrent creates cannot both
 * take the last slot: the application row is locked FOR NO KEY UPDATE (which serialises creates of one
 * application but not the foreign-key checks of publishing, which take KEY SHARE), then counted in a
 * fresh READ COMMITTED snapshot that sees every create committed before the lock was granted. Global
 * API keys belong to no application, so their creates are serialised by a transaction advisory lock.
 *
 * Only live rows count: a revoked or expired credential frees its slot at once, whether or not the
 * retention purge has deleted its row yet (src/store/retention-sweeps.ts keeps it a day longer).
 */
import type { Config } from '../config.js';
import { HeraldError } from '../core/errors.js';
import type { Queryable } from '../store/pool.js';

/** The limits an application's writes are held to; 0 means no limit. */
export interface TenantLimits {
  /** Most endpoints one application may have (HERALD_MAX_ENDPOINTS_PER_APP). */
  endpointsPerApp: number;
  /** Most live API keys scoped to one application (HERALD_MAX_API_KEYS_PER_APP). */
  apiKeysPerApp: number;
  /** Most live global (unscoped) API keys (HERALD_MAX_GLOBAL_API_KEYS). */
  globalApiKeys: number;
  /** Most live portal tokens of one application (HERALD_MAX_PORTAL_TOKENS_PER_APP). */
  portalTokensPerApp: number;
}

/** The settings the limits come from. */
export type TenantLimitSettings = Pick<
  Config,
  'HERALD_MAX_ENDPOINTS_PER_APP' | 'HERALD_MAX_API_KEYS_PER_APP' | 'HERALD_MAX_GLOBAL_API_KEYS' | 'HERALD_MAX_PORTAL_TOKENS_PER_APP'
>;

/** The limits from the configuration. */
export function tenantLimitsOf(config: TenantLimitSettings): TenantLimits {
  return {
    endpointsPerApp: config.HERALD_MAX_ENDPOINTS_PER_APP,
    apiKeysPerApp: config.HERALD_MAX_API_KEYS_PER_APP,
    globalApiKeys: config.HERALD_MAX_GLOBAL_API_KEYS,
    portalTokensPerApp: config.HERALD_MAX_PORTAL_TOKENS_PER_APP,
  };
}

/** Fixed key of the advisory lock that serialises creates of global API keys ("HrldGKey" in ASCII). */
export const GLOBAL_API_KEY_LOCK_KEY = '5220354096024479097';

/** The 422 of a full slot: the limit, the count, how to free a slot and the setting that raises it. */
function limitReached(owner: string, count: number, what: string, setting: string, limit: number, free: string): HeraldError {
  return new HeraldError(
    'unprocessable',
    `${owner} ${count} ${what}, the most this server allows (${setting}=${limit}); ${free}, or ask the operator to raise ${setting}`,
  );
}

/** Locks the application row until the transaction ends; false when there is no such application. */
async function lockApplication(tx: Queryable, appId: string): Promise<boolean> {
  const locked = await tx.query(`select 1 from application where id = $1 for no key update`, [appId]);
  return (locked.rowCount ?? 0) > 0;
}

async function countOf(tx: Queryable, sql: string, params: unknown[]): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(sql, params);
  return rows[0]?.n ?? 0;
}

/**
 * Takes a slot for one more endpoint of `appId`, or throws a 422 naming the limit, the current count
 * and the setting that raises it. Must run inside the transaction that inserts the endpoint: the lock
 * is held until it ends. An unknown application passes (the create reports it as not found).
 */
export async function reserveEndpointSlot(tx: Queryable, appId: string, limits: TenantLimits): Promise<void> {
  if (limits.endpointsPerApp === 0 || !(await lockApplication(tx, appId))) return;
  const count = await countOf(tx, `select count(*)::int as n from endpoint where app_id = $1`, [appId]);
  if (count >= limits.endpointsPerApp) {
    throw limitReached(`application ${appId} has`, count, 'endpoints', 'HERALD_MAX_ENDPOINTS_PER_APP', limits.endpointsPerApp, 'delete an endpoint');
  }
}

/**
 * Takes a slot for one more API key, scoped to `appId` or global (null), as {@link reserveEndpointSlot}
 * does: inside the transaction that inserts the key. Live keys count (not revoked, not expired).
 */
export async function reserveApiKeySlot(tx: Queryable, appId: string | null, limits: TenantLimits, now: Date): Promise<void> {
  const free = 'revoke one (DELETE /api/v1/api-key/{key_id})';
  const live = `kind = 'api_key' and revoked_at is null and (expires_at is null or expires_at > $1)`;
  if (appId === null) {
    if (limits.globalApiKeys === 0) return;
    await tx.query(`select pg_advisory_xact_lock($1::bigint)`, [GLOBAL_API_KEY_LOCK_KEY]);
    const count = await countOf(tx, `select count(*)::int as n from auth_token where app_id is null and ${live}`, [now]);
    if (count >= limits.globalApiKeys) {
      throw limitReached('there are', count, 'global API keys', 'HERALD_MAX_GLOBAL_API_KEYS', limits.globalApiKeys, free);
    }
    return;
  }
  if (limits.apiKeysPerApp === 0 || !(await lockApplication(tx, appId))) return;
  const count = await countOf(tx, `select count(*)::int as n from auth_token where app_id = $2 and ${live}`, [now, appId]);
  if (count >= limits.apiKeysPerApp) {
    throw limitReached(`application ${appId} has`, count, 'API keys', 'HERALD_MAX_API_KEYS_PER_APP', limits.apiKeysPerApp, free);
  }
}

/**
 * Takes a slot for one more portal token of `appId`, as {@link reserveEndpointSlot} does. Live tokens
 * count: not revoked (logout) and not expired (expire-all ends them, and frees their slots, at once).
 */
export async function reservePortalTokenSlot(tx: Queryable, appId: string, limits: TenantLimits, now: Date): Promise<void> {
  if (limits.portalTokensPerApp === 0 || !(await lockApplication(tx, appId))) return;
  const count = await countOf(
    tx,
    `select count(*)::int as n from auth_token where app_id = $1 and kind = 'portal' and revoked_at is null and expires_at > $2`,
    [appId, now],
  );
  if (count >= limits.portalTokensPerApp) {
    throw limitReached(
      `application ${appId} has`,
      count,
      'live portal tokens',
      'HERALD_MAX_PORTAL_TOKENS_PER_APP',
      limits.portalTokensPerApp,
      'expire them (POST /api/v1/auth/app/{app_id}/expire-all), wait for some to expire',
    );
  }
}
