/**
 * The worker's LISTEN connection: one pooled connection that listens on `herald_due`, which
 * publishes, resends and recoveries notify at commit. If it is lost (database restart, network), the
 * worker keeps polling and the connection is re-established with backoff (at most a few seconds, so
 * a restarted database has every live worker back, and registered as alive, quickly), so wake-ups
 * come back on their own. The connection also carries the worker's liveness (liveness.ts).
 */
import type pg from 'pg';
import type { Logger } from '../logger.js';

/** Channel every publish notifies at commit. */
export const DUE_CHANNEL = 'herald_due';

/** Longest wait between attempts to get the LISTEN connection back. */
const MAX_RETRY_MS = 4_000;

/** Told when the LISTEN connection is (re)established and when it is lost. */
export interface ListenSession {
  opened(client: pg.ClientBase): Promise<void>;
  lost(): void;
}

export class DueListener {
  private client: pg.PoolClient | null = null;
  private running = false;

  /**
   * @param onNotify called for each notification (the worker lingers and claims)
   * @param onListening called once listening (again): anything published meanwhile is due now
   */
  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    private readonly onNotify: () => void,
    private readonly onListening: () => void,
    private readonly session?: ListenSession,
  ) {}

  /** Starts listening; resolves after the first attempt, whether it succeeded or will be retried. */
  async start(): Promise<void> {
    this.running = true;
    await this.listen(0);
  }

  /** Stops listening and gives the connection back. */
  async stop(): Promise<void> {
    this.running = false;
    const client = this.client;
    this.client = null;
    if (!client) return;
    client.removeAllListeners('notification');
    client.removeAllListeners('error');
    await client.query(`unlisten ${DUE_CHANNEL}`).catch(() => undefined);
    client.release();
  }

  private async listen(attempt: number): Promise<void> {
    if (!this.running) return;
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
      client.on('notification', () => this.onNotify());
      client.on('error', (e) => {
        this.log.warn({ err: e }, 'notification connection lost; polling until it is back');
        if (this.client === client) this.client = null;
        this.session?.lost();
        client?.release(e);
        this.retry(0);
      });
      await client.query(`listen ${DUE_CHANNEL}`);
      if (!this.running) {
        client.release();
        return;
      }
      await this.session?.opened(client);
      this.client = client;
      this.onListening();
    } catch (e) {
      this.log.warn({ err: e }, 'LISTEN failed; polling and trying again');
      client?.release(e as Error);
      this.retry(attempt + 1);
    }
  }

  private retry(attempt: number): void {
    if (!this.running) return;
    const delay = Math.min(MAX_RETRY_MS, 250 * 2 ** attempt);
    setTimeout(() => void this.listen(attempt), delay).unref();
  }
}
