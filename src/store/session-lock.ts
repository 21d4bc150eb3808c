/**
 * One holder at a time across every Herald process: background loops (the alert email sender, the
 * retention purge) run a pass only while they hold a session advisory lock on a connection of their
 * own. A process that dies lets go of the lock with its connection, so nothing is ever stuck.
 */
import type pg from 'pg';

/**
 * Runs `fn` on one connection of `pool` while holding the session advisory lock `key`; resolves
 * false without running it when another session holds the lock. A connection whose unlock failed
 * is discarded rather than reused: ending the session is what releases its lock then.
 */
export async function withSessionLock(pool: pg.Pool, key: string, fn: (client: pg.PoolClient) => Promise<void>): Promise<boolean> {
  const client = await pool.connect();
  let broken = false;
  try {
    const { rows } = await client.query<{ got: boolean }>('select pg_try_advisory_lock($1::bigint) as got', [key]);
    if (!rows[0]!.got) return false;
    try {
      await fn(client);
    } finally {
      await client.query('select pg_advisory_unlock($1::bigint)', [key]).catch(() => {
        broken = true;
      });
    }
    return true;
  } catch (e) {
    broken = true;
    throw e;
  } finally {
    client.release(broken);
  }
}
