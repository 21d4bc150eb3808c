/**
 * Herald's Prometheus metrics: one prom-client Registry per Herald (never prom-client's global one,
 * so several Heralds in one process, as in a test suite or a platform embedding Herald, keep their
 * figures apart). The rest of Herald reports through the named methods here; what only the database
 * knows (queue depth, oldest due delivery, breakers) is read by one bounded statement at scrape time
 * (src/store/queue-stats.ts), so the delivery path pays nothing for it. docs/metrics.md lists every
 * metric.
 */
import type pg from 'pg';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../core/clock.js';
import type { Outcome } from '../core/outcome.js';
import type { Logger } from '../logger.js';
import { queueStats, type QueueStats } from '../store/queue-stats.js';
import { HERALD_VERSION } from '../version.js';
import { RuntimeMetrics } from './runtime.js';

/** Prefix of every metric name. */
const PREFIX = 'herald_';

/** What a worker result must tell the metrics: its decision and, if a request was sent, its duration. */
export interface RecordedResult {
  /** The decision; null when the delivery was skipped without a request (its endpoint was disabled). */
  outcome: { kind: Outcome['kind'] } | null;
  /** The row change written. */
  update: { attempt: { durationMs: number } | null };
}

/** Label values of herald_delivery_attempts_total, in a fixed order (index = position). */
const RESULT_OUTCOMES = ['delivered', 'retry', 'failed', 'disable-endpoint', 'skipped'] as const;
const OUTCOME_INDEX: Record<(typeof RESULT_OUTCOMES)[number], number> = {
  delivered: 0,
  retry: 1,
  failed: 2,
  'disable-endpoint': 3,
  skipped: 4,
};

/**
 * Attempt durations: a healthy receiver answers in a few milliseconds to a few hundred; the per-attempt
 * deadline is 15 s by default and at most 60 s (HERALD_MAX_REQUEST_TIMEOUT's default).
 */
const ATTEMPT_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60];
/** Messages per publish statement: single publishes coalesced, up to batch publishes of 1,000. */
const PUBLISH_GROUP_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
/** How long a scrape waits for the database before answering without the queue and endpoint figures. */
const DATABASE_WAIT_MS = 5_000;

/** Dependencies of {@link HeraldMetrics}. */
export interface MetricsOptions {
  /** Herald's pool: its statements are counted and its connections reported. */
  pool: pg.Pool;
  /** Time source of the "oldest due" age and breaker states. */
  clock: Clock;
  /** Failures in a row that open a breaker (HERALD_BREAKER_FAILURES). */
  breakerFailures: number;
  /** Logger (a failed scrape-time query is logged). */
  log: Logger;
}

export class HeraldMetrics {
  /** The registry behind `/metrics` (every metric but the database's figures). */
  readonly registry = new Registry();
  /** The figures read from the database at scrape time: left out of a scrape when that read fails. */
  private readonly databaseRegistry = new Registry();
  private readonly runtime: RuntimeMetrics;
  private readonly results: Counter.Internal[];
  private readonly resultCounts = new Array<number>(RESULT_OUTCOMES.length).fill(0);
  private readonly attemptSeconds: Histogram;
  private readonly publishGroup: Histogram;
  private readonly messagesPublished: Counter;
  private readonly deliveriesCreated: Counter;
  private readonly statements: Counter;
  private statementsSent = 0;
  private statementsReported = 0;
  private readonly databaseUp: Gauge;
  private readonly databaseSeconds: Gauge;
  private readonly queue: QueueGauges;
  private statsInFlight: Promise<QueueStats> | null = null;

  constructor(private readonly opts: MetricsOptions) {
    const registers = [this.registry];
    new Gauge({ name: `${PREFIX}build_info`, help: 'Always 1; the version label says which Herald runs.', labelNames: ['version'], registers })
      .set({ version: HERALD_VERSION }, 1);

    const results = new Counter({
      name: `${PREFIX}delivery_attempts_total`,
      help: 'Delivery results written by this process\'s workers, by outcome: delivered, retry, failed, disable-endpoint (410 Gone), skipped (endpoint disabled; no request).',
      labelNames: ['outcome'],
      registers,
    });
    this.results = RESULT_OUTCOMES.map((o) => results.labels(o));
    for (const child of this.results) child.inc(0); // every series exists from the start, for rate()
    this.attemptSeconds = new Histogram({
      name: `${PREFIX}attempt_duration_seconds`,
      help: 'Duration of delivery requests (DNS, connect, TLS, headers and body), in seconds.',
      buckets: ATTEMPT_SECONDS_BUCKETS,
      registers,
    });

    this.publishGroup = new Histogram({
      name: `${PREFIX}publish_group_messages`,
      help: 'Messages written by one publish statement (a group commit of concurrent publishes, or a batch).',
      buckets: PUBLISH_GROUP_BUCKETS,
      registers,
    });
    this.messagesPublished = new Counter({ name: `${PREFIX}messages_published_total`, help: 'Messages published through this process.', registers });
    this.deliveriesCreated = new Counter({
      name: `${PREFIX}deliveries_created_total`,
      help: 'Deliveries created by the messages published through this process (one per subscribed endpoint).',
      registers,
    });

    this.statements = new Counter({ name: `${PREFIX}db_statements_total`, help: 'SQL statements sent by Herald\'s database pool.', registers });
    opts.pool.on('connect', (client) => this.countStatementsOf(client));
    poolGauges(opts.pool, registers);

    this.databaseUp = new Gauge({
      name: `${PREFIX}database_up`,
      help: '1 when the scrape-time database read answered; 0 when it failed or took over 5 s (the queue and endpoint figures are then left out).',
      registers,
    });
    this.databaseSeconds = new Gauge({ name: `${PREFIX}database_scrape_seconds`, help: 'Time the scrape-time database read took, in seconds.', registers });
    this.queue = queueGauges(this.databaseRegistry);
    this.runtime = new RuntimeMetrics(this.registry, PREFIX);
  }

  /** Content type of {@link scrape}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Counts the results of one group commit (written, so a result retried after a failed write is
   * counted once). One call per batch: a tally in a fixed array, then one increment per outcome seen.
   */
  recordResults(results: readonly RecordedResult[]): void {
    const counts = this.resultCounts;
    for (const r of results) {
      counts[OUTCOME_INDEX[r.outcome?.kind ?? 'skipped']]! += 1;
      const attempt = r.update.attempt;
      if (attempt) this.attemptSeconds.observe(attempt.durationMs / 1000);
    }
    for (let i = 0; i < counts.length; i++) {
      if (counts[i]! > 0) this.results[i]!.inc(counts[i]);
      counts[i] = 0;
    }
  }

  /** Records the size of one publish statement (how many messages it wrote). */
  observePublishGroup(messages: number): void {
    if (messages > 0) this.publishGroup.observe(messages);
  }

  /** Counts messages published and the deliveries they created. */
  countPublished(messages: number, deliveries: number): void {
    if (messages > 0) this.messagesPublished.inc(messages);
    if (deliveries > 0) this.deliveriesCreated.inc(deliveries);
  }

  /** The text exposition of every metric, the database's figures read now. */
  async scrape(): Promise<string> {
    this.runtime.sample();
    this.statements.inc(this.statementsSent - this.statementsReported);
    this.statementsReported = this.statementsSent;
    const withDatabase = await this.sampleDatabase();
    const [own, database] = await Promise.all([this.registry.metrics(), withDatabase ? this.databaseRegistry.metrics() : null]);
    return database === null ? own : `${own}\n${database}`;
  }

  /** Stops the event-loop monitor; the registry keeps its last values. */
  close(): void {
    this.runtime.stop();
  }

  /** Reads the queue and endpoint figures; false when the database did not answer in time. */
  private async sampleDatabase(): Promise<boolean> {
    const started = performance.now();
    // Concurrent scrapes share one read, so scrapers never pile statements onto a slow database.
    this.statsInFlight ??= queueStats(this.opts.pool, { now: this.opts.clock.now(), breakerFailures: this.opts.breakerFailures }).finally(() => {
      this.statsInFlight = null;
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const stats = await Promise.race([
        this.statsInFlight,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${DATABASE_WAIT_MS} ms`)), DATABASE_WAIT_MS);
        }),
      ]);
      this.queue.set(stats, this.opts.clock.now());
      this.databaseUp.set(1);
      return true;
    } catch (e) {
      this.opts.log.warn({ err: e }, 'metrics: reading the queue figures failed; this scrape leaves them out');
      this.databaseUp.set(0);
      return false;
    } finally {
      clearTimeout(timer);
      this.databaseSeconds.set((performance.now() - started) / 1000);
    }
  }

  /** Counts every statement a pooled connection sends (pool.query goes through client.query too). */
  private countStatementsOf(client: pg.PoolClient): void {
    const query = client.query as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      this.statementsSent += 1;
      return query.apply(client, args);
    };
  }
}

/** Gauges of the pool's connections, read when scraped. */
function poolGauges(pool: pg.Pool, registers: Registry[]): void {
  const gauge = (name: string, help: string, read: () => number) => {
    const g: Gauge = new Gauge({ name: `${PREFIX}${name}`, help, registers, collect: () => g.set(read()) });
  };
  gauge('db_pool_connections', 'Connections the pool holds open (idle or in use).', () => pool.totalCount);
  gauge('db_pool_idle_connections', 'Open connections not in use.', () => pool.idleCount);
  gauge('db_pool_waiting_clients', 'Queries and transactions waiting for a free connection.', () => pool.waitingCount);
  gauge('db_pool_max_connections', 'Most connections the pool may open.', () => pool.options.max ?? 10);
}

/** The figures read from the database, set together from one read. */
interface QueueGauges {
  /** Sets every gauge from one read; `now` is what the oldest due delivery's age is measured to. */
  set(s: QueueStats, now: Date): void;
}

function queueGauges(registry: Registry): QueueGauges {
  const registers = [registry];
  const pending = new Gauge({
    name: `${PREFIX}queue_pending`,
    help: 'Pending deliveries: due, scheduled for a retry, or held by a paused endpoint (exact up to 100,000, above that PostgreSQL\'s estimate).',
    registers,
  });
  const pendingExact = new Gauge({ name: `${PREFIX}queue_pending_exact`, help: '1 when herald_queue_pending is an exact count, 0 when it is an estimate.', registers });
  const sending = new Gauge({ name: `${PREFIX}queue_sending`, help: 'Deliveries leased by a worker (in flight, or waiting for a dead worker\'s lease to expire).', registers });
  const oldestDue = new Gauge({
    name: `${PREFIX}queue_oldest_due_age_seconds`,
    help: 'How long the longest-waiting delivery that may be sent now has been due (breakers and strict-order holds respected, paused endpoints left out); 0 when none is due.',
    registers,
  });
  const breakers = new Gauge({ name: `${PREFIX}endpoint_breakers`, help: 'Enabled endpoints by circuit breaker state.', labelNames: ['state'], registers });
  const disabled = new Gauge({ name: `${PREFIX}endpoints_disabled`, help: 'Disabled endpoints, by who disabled them (user: paused; auto: Herald).', labelNames: ['by'], registers });
  return {
    set(s, now) {
      pending.set(s.pending);
      pendingExact.set(s.pendingExact ? 1 : 0);
      sending.set(s.sending);
      oldestDue.set(s.oldestDueAt ? Math.max(0, now.getTime() - s.oldestDueAt.getTime()) / 1000 : 0);
      breakers.set({ state: 'closed' }, s.breakerClosed);
      breakers.set({ state: 'open' }, s.breakerOpen);
      breakers.set({ state: 'half-open' }, s.breakerHalfOpen);
      disabled.set({ by: 'user' }, s.disabledByUser);
      disabled.set({ by: 'auto' }, s.disabledAuto);
    },
  };
}
