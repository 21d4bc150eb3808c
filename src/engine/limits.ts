/**
 * Limits per tenant (issue 13 item 2): without them one application can grow the database without
 * bound. Checked where the row is created, under a lock, so that two concurrent creates cannot both
 * take the last slot: the application row is locked FOR NO KEY UPDATE (which serialises creates of one
 * application but not the foreign-key checks of publishing, which take KEY SHARE), then counted in a
 * fresh READ COMMITTED snapshot that sees every create committed before the lock was granted.
 */
import { HeraldError } from '../core/errors.js';
import type { Queryable } from '../store/pool.js';

/** The limits an application's writes are held to; 0 means no limit. */
export interface TenantLimits {
  /** Most endpoints one application may have (HERALD_MAX_ENDPOINTS_PER_APP). */
  endpointsPerApp: number;
}

/** The limits from the configuration. */
export function tenantLimitsOf(config: { HERALD_MAX_ENDPOINTS_PER_APP: number }): TenantLimits {
  return { endpointsPerApp: config.HERALD_MAX_ENDPOINTS_PER_APP };
}

/**
 * Takes a slot for one more endpoint of `appId`, or throws a 422 naming the limit, the current count
 * and the setting that raises it. Must run inside the transaction that inserts the endpoint: the lock
 * is held until it ends. An unknown application passes (the create reports it as not found).
 */
export async function reserveEndpointSlot(tx: Queryable, appId: string, limits: TenantLimits): Promise<void> {
  if (limits.endpointsPerApp === 0) return;
  const locked = await tx.query(`select 1 from application where id = $1 for no key update`, [appId]);
  if (locked.rowCount === 0) return;
  const { rows } = await tx.query<{ n: number }>(`select count(*)::int as n from endpoint where app_id = $1`, [appId]);
  const count = rows[0]?.n ?? 0;
  if (count >= limits.endpointsPerApp) {
    throw new HeraldError(
      'unprocessable',
      `application ${appId} has ${count} endpoints, the most this server allows (HERALD_MAX_ENDPOINTS_PER_APP=${limits.endpointsPerApp}); ` +
        `delete an endpoint, or ask the operator to raise HERALD_MAX_ENDPOINTS_PER_APP`,
    );
  }
}
