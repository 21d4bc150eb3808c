/** The PostgreSQL connection pool. Every query in Herald goes through one of these. */
import pg from 'pg';

/** Options for {@link createPool}. */
export interface PoolOptions {
  /** postgres:// connection string. */
  url: string;
  /** Most connections this process opens. */
  max?: number;
  /** Label shown in pg_stat_activity. */
  applicationName?: string;
}

// bigint (int8) columns hold row ids and counts well below 2^53: return them as numbers.
pg.types.setTypeParser(20, (v) => Number(v));

/** Opens a pool; an idle client's error (e.g. the server restarted) is logged, not fatal. */
export function createPool(opts: PoolOptions, onError: (e: Error) => void = () => undefined): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 20,
    application_name: opts.applicationName ?? 'herald',
    connectionTimeoutMillis: 10_000,
  });
  pool.on('error', onError);
  return pool;
}

/** Anything that can run a query: the pool, or a client inside the caller's transaction. */
export type Queryable = Pick<pg.ClientBase, 'query'>;
