/**
 * The bench's client of Herald's management API (/api/v1, shaped like Svix's): an undici Pool with
 * the operator token, the few calls the scenarios make, and the statement counter of GET /metrics.
 */
import { Pool } from 'undici';
import { openDatabase, type DatabaseKind } from './databases.js';
import { ADMIN_TOKEN, startHerald, type HeraldProcess, type Role } from './herald-process.js';

/** An answer of Herald's that the bench did not expect. */
export class ApiError extends Error {
  override name = 'ApiError';
}

/** Requests that take longer are abandoned and counted as failed, so a stuck Herald cannot hang a phase. */
const REQUEST_TIMEOUT_MS = 30_000;

export class HeraldApi {
  readonly pool: Pool;
  private readonly headers: Record<string, string>;

  /** `connections`: sockets to Herald (one per closed-loop publisher; many for open-loop load). */
  constructor(readonly url: string, connections = 64) {
    this.pool = new Pool(url, { connections, pipelining: 1, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
    this.headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  }

  /** Sends a JSON request; answers the status and the parsed body (null when empty or not JSON). */
  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const res = await this.pool.request({ method, path, headers: this.headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.body.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.statusCode, body: parsed };
  }

  private async expect(status: number, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await this.request(method, path, body);
    if (res.status !== status) throw new ApiError(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
    return res.body as Record<string, unknown>;
  }

  /** POST /api/v1/app; answers the application's id. */
  async createApp(name: string): Promise<string> {
    return String((await this.expect(201, 'POST', '/api/v1/app', { name })).id);
  }

  /** POST /api/v1/app/{app}/endpoint, subscribed to every event type. */
  async createEndpoint(appId: string, url: string): Promise<string> {
    return String((await this.expect(201, 'POST', `/api/v1/app/${appId}/endpoint`, { url })).id);
  }

  /** POST /api/v1/app/{app}/msg: one message, as Svix SDKs publish; true when accepted (202). */
  async publish(appId: string, payload: Record<string, unknown>): Promise<boolean> {
    const res = await this.pool.request({
      method: 'POST',
      path: `/api/v1/app/${appId}/msg`,
      headers: this.headers,
      body: JSON.stringify({ eventType: 'order.paid', payload }),
    });
    await res.body.dump();
    return res.statusCode === 202;
  }

  /** POST /api/v1/app/{app}/msg/batch; answers how many of the messages were accepted (202 each). */
  async publishBatch(appId: string, payloads: Record<string, unknown>[]): Promise<number> {
    const res = await this.request('POST', `/api/v1/app/${appId}/msg/batch`, { messages: payloads.map((payload) => ({ eventType: 'order.paid', payload })) });
    if (res.status !== 200) return 0;
    return ((res.body as { data?: { status: number }[] }).data ?? []).filter((r) => r.status === 202).length;
  }

  /**
   * herald_db_statements_total from GET /metrics (Prometheus text format, every series summed): SQL
   * statements Herald's pool has sent. null when this Herald has no such counter.
   */
  async statements(): Promise<number | null> {
    try {
      const token = process.env.HERALD_METRICS_TOKEN;
      const res = await this.pool.request({ method: 'GET', path: '/metrics', headers: token ? { authorization: `Bearer ${token}` } : {} });
      const text = await res.body.text();
      return res.statusCode === 200 ? counterValue(text, 'herald_db_statements_total') : null;
    } catch {
      return null;
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** The sum of a counter's samples in Prometheus text format; null when it has none. */
export function counterValue(text: string, name: string): number | null {
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    const rest = line[name.length] === '{' ? line.slice(line.lastIndexOf('}') + 1) : line.slice(name.length);
    const value = Number(rest.trim().split(/\s+/)[0]); // a timestamp may follow the value
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

/**
 * One `herald serve --role <role>` on a fresh database of its own, with a client of its API;
 * `close` stops both and drops the database.
 */
export async function openHeraldApi(
  name: string,
  kind: DatabaseKind,
  role: Exclude<Role, 'worker'>,
  connections: number,
): Promise<{ herald: HeraldProcess; api: HeraldApi; close: () => Promise<void> }> {
  const db = await openDatabase(name, kind);
  const herald = await startHerald(role, db).catch(async (e: unknown) => {
    await db.cleanup();
    throw e;
  });
  const api = new HeraldApi(herald.url!, connections);
  return {
    herald,
    api,
    close: async () => {
      await api.close();
      await herald.stop();
      await db.cleanup();
    },
  };
}
