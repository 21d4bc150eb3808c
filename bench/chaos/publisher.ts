/**
 * The chaos run's publishers: real HTTP to the API process, one message per request as the Svix SDKs
 * send them. A message counts as acknowledged only when the API answered 202; any other answer or a
 * connection error is not an acknowledgement, and the message is sent again with the same eventId and
 * Idempotency-Key until it is (so retries also check that a message is never stored twice).
 */
import { Pool } from 'undici';

/** Event types of the run; endpoints subscribe to some or all of them. */
export const EVENT_TYPES = ['order.paid', 'order.refunded'] as const;

/** An endpoint of the run: its number in the receiver's paths and the event types it takes (null = all). */
export interface ChaosEndpoint {
  /** Number in `/ep/<n>`. */
  n: number;
  /** Herald's id. */
  id: string;
  /** Subscribed event types; null = all. */
  filterTypes: string[] | null;
}

/** An application of the run and its endpoints. */
export interface ChaosApp {
  /** Herald's id. */
  id: string;
  /** Its endpoints. */
  endpoints: ChaosEndpoint[];
}

/** An acknowledged message. */
export interface Acknowledged {
  /** Message id from the 202 (the webhook-id receivers see). */
  msgId: string;
  /** Application it was published to. */
  app: ChaosApp;
  /** Its event type. */
  eventType: string;
}

/** What the publishers saw. */
export interface PublishStats {
  /** Messages acknowledged (202), by message id. */
  acknowledged: Map<string, Acknowledged>;
  /** Answers other than 202, by status, and connection errors ("error"). */
  refused: Map<string, number>;
  /** Messages whose first request was not acknowledged but a later one was. */
  retriedToAck: number;
  /** Messages never acknowledged by the end of the publishing phase plus its grace period. */
  gaveUp: number;
}

/** A client of the API with the operator token. */
export class ChaosApi {
  private readonly pool: Pool;
  constructor(url: string, private readonly token: string) {
    this.pool = new Pool(url, { connections: 32, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
  }

  async request(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> | null }> {
    const res = await this.pool.request({
      method,
      path,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    let parsed: Record<string, unknown> | null = null;
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : null;
    } catch {
      parsed = null;
    }
    return { status: res.statusCode, body: parsed };
  }

  private async expect(status: number, path: string, body: unknown): Promise<Record<string, unknown>> {
    const res = await this.request('POST', path, body);
    if (res.status !== status) throw new Error(`POST ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body!;
  }

  /** Event types, `apps` applications and `perApp` endpoints each: one taking every type, the others one type each in turn. */
  async setUp(receiverUrl: string, apps: number, perApp: number): Promise<ChaosApp[]> {
    for (const name of EVENT_TYPES) await this.expect(201, '/api/v1/event-type', { name, description: `chaos ${name}` });
    const out: ChaosApp[] = [];
    let n = 0;
    for (let a = 0; a < apps; a++) {
      const id = String((await this.expect(201, '/api/v1/app', { name: `chaos ${a}` })).id);
      const endpoints: ChaosEndpoint[] = [];
      for (let e = 0; e < perApp; e++, n++) {
        const filterTypes = e === 0 ? null : [EVENT_TYPES[(e - 1) % EVENT_TYPES.length]!];
        const ep = await this.expect(201, `/api/v1/app/${id}/endpoint`, { url: `${receiverUrl}/ep/${n}`, ...(filterTypes ? { filterTypes } : {}) });
        endpoints.push({ n, id: String(ep.id), filterTypes });
      }
      out.push({ id, endpoints });
    }
    return out;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Options of {@link publishAtRate}. */
export interface PublishOptions {
  /** Messages per second, spread evenly. */
  rate: number;
  /** How long to publish new messages, ms. */
  durationMs: number;
  /** After that, how long unacknowledged messages are still retried, ms. */
  graceMs: number;
  /** Requests in flight at most (a publisher whose request is retrying holds its place). */
  concurrency: number;
  /** Prefix of every eventId, unique per run. */
  runId: string;
  /** Randomness (seeded). */
  random: () => number;
}

/**
 * Publishes message i at start + i / rate to an application and event type drawn at random, retrying
 * each until acknowledged or the grace period ends. Resolves when every message is settled.
 */
export async function publishAtRate(api: ChaosApi, apps: ChaosApp[], opts: PublishOptions): Promise<PublishStats> {
  const stats: PublishStats = { acknowledged: new Map(), refused: new Map(), retriedToAck: 0, gaveUp: 0 };
  const total = Math.max(1, Math.round((opts.rate * opts.durationMs) / 1000));
  const start = Date.now();
  const giveUpAt = start + opts.durationMs + opts.graceMs;
  const refuse = (why: string) => stats.refused.set(why, (stats.refused.get(why) ?? 0) + 1);
  let next = 0;

  const publishOne = async (i: number) => {
    const app = apps[Math.floor(opts.random() * apps.length)]!;
    const eventType = EVENT_TYPES[Math.floor(opts.random() * EVENT_TYPES.length)]!;
    const eventId = `${opts.runId}-${i}`;
    const body = { eventType, eventId, payload: { seq: i, note: 'chaos' } };
    for (let tries = 0; ; tries++) {
      try {
        const res = await api.request('POST', `/api/v1/app/${app.id}/msg`, body, { 'idempotency-key': eventId });
        if (res.status === 202 && typeof res.body?.id === 'string') {
          const msgId = res.body.id;
          stats.acknowledged.set(msgId, { msgId, app, eventType });
          if (tries > 0) stats.retriedToAck++;
          return;
        }
        refuse(String(res.status));
      } catch {
        refuse('error');
      }
      if (Date.now() > giveUpAt) {
        stats.gaveUp++;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** tries)));
    }
  };

  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const due = start + (i * 1000) / opts.rate;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await publishOne(i);
      }
    }),
  );
  return stats;
}
