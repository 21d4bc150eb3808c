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

const INT8_OID = 20;
const parseInt8 = (v: string): number => Number(v);

/**
 * The type parsers of every connection Herald opens itself: bigint (int8) as a number (Herald's int8
 * values are row ids and counts, far below 2^53), everything else as pg parses it. Set per connection,
 * never with `pg.types.setTypeParser`: that would change how the application Herald is imported into
 * parses its own bigint columns. Herald's queries do not rely on it either, because the library's
 * calls also run on the caller's connections (`publish` inside the caller's transaction), where int8
 * arrives as a string: counts are cast to `int` in SQL, and int8 ids go through `Number()` where they
 * are read.
 */
export const HERALD_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** Opens a pool; an idle client's error (e.g. the server restarted) is logged, not fatal. */
export function createPool(opts: PoolOptions, onError: (e: Error) => void = () => undefined): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 20,
    application_name: opts.applicationName ?? 'herald',
    connectionTimeoutMillis: 10_000,
    types: HERALD_TYPES,
  });
  pool.on('error', onError);
  return pool;
}

/** Anything that can run a query: the pool, or a client inside the caller's transaction. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

/**
 * Runs `fn` in a transaction on a client of its own. A connection lost between statements emits an
 * 'error' on the checked-out client, which would crash the process without a listener; here it is
 * absorbed (the next statement fails and the transaction is rolled back) and the broken client is
 * discarded instead of going back to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (e: Error) => (lost = e);
  client.on('error', onError);
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (e) {
    await client.query('rollback').catch((r: unknown) => (lost ??= r as Error));
    throw e;
  } finally {
    client.off('error', onError);
    client.release(lost);
  }
}

/**
 * Whether a statement failed because of the data it carried (SQLSTATE classes 22 data exception, 23
 * integrity constraint, 54 program limit) rather than the database or the connection: only then is
 * it worth retrying the rows of a batch on their own, to find the one that cannot be stored.
 */
export function isDataError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}
