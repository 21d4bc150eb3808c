/**
 * A running Herald: database (external or embedded), migrations, the secret box, and the pieces
 * built on them. `serve`, the tests and the benchmark all start Herald through `openHerald`.
 */
import type pg from 'pg';
import type { Config } from '../config.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { DEFAULT_AUTO_DISABLE } from '../core/endpoint-health.js';
import type { RetryPolicy } from '../core/retry-policy.js';
import type { SecretBox } from '../core/secret-box.js';
import { parseCidrList } from '../delivery/address-policy.js';
import { createHttpClient, type HttpClient } from '../delivery/http-client.js';
import { DeliveryWorker } from '../delivery/worker.js';
import type { Logger } from '../logger.js';
import { HeraldMetrics } from '../metrics/registry.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../store/embedded-postgres.js';
import { migrate } from '../store/migrate.js';
import { createPool } from '../store/pool.js';
import { loadSecretBox } from './secret-keys.js';
import { sealClearHeaders } from './reseal.js';
import { PublishGroupCommit } from './publish-group.js';
import { BackgroundTaskRunner } from './background-tasks.js';
import { DebounceFlusher, type DebounceFlusherOptions } from './debounce-flusher.js';
import { AlertEmailSender, type AlertSenderOptions } from '../alerts/email-sender.js';
import type { PublishedMessage, PublishInput } from './publish.js';
import type { HeraldError } from '../core/errors.js';
import type { PublishTarget } from '../store/messages.js';
import type { UrlPolicy } from './endpoints.js';

/** Everything a Herald process holds. */
export interface Herald {
  /** Parsed configuration. */
  config: Config;
  /** Database pool. */
  pool: pg.Pool;
  /** Connection string in use (embedded or external). */
  databaseUrl: string;
  /** Opens and seals endpoint secrets. */
  secretBox: SecretBox;
  /** Time source. */
  clock: Clock;
  /** Logger. */
  log: Logger;
  /** Endpoint URL rules. */
  urlPolicy: UrlPolicy;
  /** Retry schedule from the configuration. */
  retryPolicy: RetryPolicy;
  /** Prometheus metrics of this Herald (served at `/metrics`); publishing and workers report here. */
  metrics: HeraldMetrics;
  /**
   * Publishes one message on Herald's own pool, coalesced with concurrent publishes into one statement
   * (group commit); resolves once it is stored. The API publishes through this. For a publish inside
   * your own transaction, use `publish(client, …)` from the package instead.
   */
  publish(app: string, input: PublishInput, authorize?: (target: PublishTarget) => HeraldError | null): Promise<PublishedMessage>;
  /** The group commit behind {@link Herald.publish}. */
  publishGroup: PublishGroupCommit;
  /**
   * Creates and runs background tasks (recover, replays). The API server starts it; any number of
   * processes may, and each task runs in one of them at a time.
   */
  backgroundTasks: BackgroundTaskRunner;
  /** Builds a delivery worker with this process's settings (not started). */
  createWorker(overrides?: { http?: HttpClient; concurrency?: number; batchSize?: number; leaseMs?: number; random?: () => number; liveness?: { intervalMs?: number; graceMs?: number } }): DeliveryWorker;
  /**
   * Builds the alert email sender (not started; `start()` it where a delivery worker runs). Any number
   * of processes may run one: they take turns, and each email is sent once (src/alerts/email-sender.ts).
   * Without HERALD_SMTP_URL it does nothing.
   */
  createAlertSender(overrides?: Pick<AlertSenderOptions, 'tickMs' | 'transport'>): AlertEmailSender;
  /**
   * Builds the flusher of debounce windows (not started; `start()` it where a delivery worker runs).
   * Any number of processes may run one: each window is flushed once (docs/debounce.md).
   */
  createDebounceFlusher(overrides?: Pick<DebounceFlusherOptions, 'batchSize' | 'maxSleepMs'>): DebounceFlusher;
  /** Closes workers, alert senders and debounce flushers created here, the metrics' monitors, the pool, and the embedded database. */
  close(): Promise<void>;
}

/** Options of {@link openHerald}. */
export interface OpenOptions {
  /** Configuration. */
  config: Config;
  /** Logger. */
  log: Logger;
  /** Clock (fake in tests). */
  clock?: Clock;
  /** Skip migrations (they normally run at start). */
  skipMigrations?: boolean;
}

export async function openHerald(opts: OpenOptions): Promise<Herald> {
  const { config, log } = opts;
  const clock = opts.clock ?? systemClock;
  const allowedNetworks = parseCidrList(config.HERALD_ALLOWED_NETWORKS);
  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = config.DATABASE_URL;
  const secretBox = await loadSecretBox({
    secretKey: config.HERALD_SECRET_KEY,
    databaseUrl,
    dataDir: config.HERALD_DATA_DIR,
    log,
  });
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.HERALD_DATA_DIR,
      log: (level, msg) => log[level]({ component: 'embedded-postgres' }, msg),
    });
    databaseUrl = embedded.url;
    log.info({ url: databaseUrl }, 'embedded PostgreSQL running');
  }
  const pool = createPool({ url: databaseUrl, max: 20 }, (e) =>
    // Log the message only: pg errors carry the whole client object, connection settings included.
    log.warn({ error: e.message, code: (e as { code?: string }).code }, 'idle database connection lost; the pool reconnects'));
  // Before the first statement, so every connection's statements are counted (migrations included).
  const metrics = new HeraldMetrics({ pool, clock, breakerFailures: config.HERALD_BREAKER_FAILURES, log });
  try {
    if (!opts.skipMigrations) {
      const applied = await migrate(pool, {
        onRetry: (name, tries, e) => log.warn({ err: e, migration: name, tries }, 'migration met locks held by running Herald processes; trying again'),
      });
      if (applied.length > 0) log.info({ applied }, 'migrations applied');
    }
  } catch (e) {
    metrics.close();
    await pool.end();
    await embedded?.stop();
    throw e;
  }
  // Custom header values stored in clear by an earlier version are sealed in the background, in batches
  // (a database with none costs one empty index probe); close() waits for it.
  const sweep = opts.skipMigrations
    ? Promise.resolve()
    : sealClearHeaders(pool, secretBox, log).then(
        () => undefined,
        (e: unknown) => log.warn({ err: e }, 'sealing custom header values stored in clear failed; the next start or `herald secrets rotate-key` tries again'),
      );
  const retryPolicy: RetryPolicy = {
    schedule: config.HERALD_RETRY_SCHEDULE,
    jitter: config.HERALD_RETRY_JITTER,
    retryAfterMaxMs: 24 * 3_600_000,
  };
  const urlPolicy: UrlPolicy = { allowHttp: config.HERALD_ALLOW_HTTP, allowedNetworks };
  const workers: DeliveryWorker[] = [];
  const alertSenders: AlertEmailSender[] = [];
  const flushers: DebounceFlusher[] = [];
  const clients: HttpClient[] = [];
  const publishGroup = new PublishGroupCommit({
    pool,
    maxMessages: config.HERALD_PUBLISH_GROUP_MAX,
    now: () => clock.now(),
    maxPayloadBytes: config.HERALD_MAX_PAYLOAD_BYTES,
    enforceSchemas: config.HERALD_SCHEMA_ENFORCEMENT,
    log,
    onGroup: (messages, stored, deliveries) => {
      metrics.observePublishGroup(messages);
      metrics.countPublished(stored, deliveries);
    },
  });

  const backgroundTasks = new BackgroundTaskRunner({ pool, clock, log });

  return {
    config,
    pool,
    databaseUrl,
    secretBox,
    clock,
    log,
    urlPolicy,
    retryPolicy,
    metrics,
    publishGroup,
    backgroundTasks,
    publish: (app, input, authorize) => publishGroup.publish(app, input, authorize),
    createWorker(overrides = {}) {
      let http = overrides.http;
      if (!http) {
        http = createHttpClient({ allowHttp: config.HERALD_ALLOW_HTTP, allowedNetworks, log });
        clients.push(http);
      }
      const worker = new DeliveryWorker({
        pool,
        http,
        secretBox,
        clock,
        defaults: { retry: retryPolicy, timeoutMs: config.HERALD_REQUEST_TIMEOUT, maxInFlight: config.HERALD_ENDPOINT_MAX_IN_FLIGHT },
        bounds: {
          maxInFlight: config.HERALD_MAX_IN_FLIGHT_LIMIT,
          timeoutMs: config.HERALD_MAX_REQUEST_TIMEOUT,
          attempts: config.HERALD_MAX_RETRY_ATTEMPTS,
          delayMs: config.HERALD_MAX_RETRY_DELAY,
        },
        breaker: {
          failures: config.HERALD_BREAKER_FAILURES,
          backoffMs: config.HERALD_BREAKER_BACKOFF,
          backoffMaxMs: config.HERALD_BREAKER_BACKOFF_MAX,
        },
        autoDisable: {
          ...DEFAULT_AUTO_DISABLE,
          failuresInARow: config.HERALD_AUTO_DISABLE_FAILURES,
          minFailingMs: config.HERALD_AUTO_DISABLE_AFTER,
        },
        failingAfter: config.HERALD_ALERT_FAILING_AFTER,
        concurrency: overrides.concurrency ?? config.HERALD_WORKER_CONCURRENCY,
        batchSize: overrides.batchSize,
        leaseMs: overrides.leaseMs,
        liveness: overrides.liveness,
        pollIntervalMs: config.HERALD_POLL_INTERVAL,
        log,
        metrics,
        random: overrides.random,
      });
      workers.push(worker);
      return worker;
    },
    createDebounceFlusher(overrides = {}) {
      const flusher = new DebounceFlusher({ pool, clock, log, onPublished: (messages, deliveries) => metrics.countPublished(messages, deliveries), ...overrides });
      flushers.push(flusher);
      return flusher;
    },
    createAlertSender(overrides = {}) {
      const sender = new AlertEmailSender({ databaseUrl: databaseUrl!, config, clock, log, ...overrides });
      alertSenders.push(sender);
      return sender;
    },
    async close() {
      await sweep;
      await Promise.all(alertSenders.splice(0).map((s) => s.stop()));
      await Promise.all(flushers.splice(0).map((f) => f.stop()));
      await backgroundTasks.stop();
      await publishGroup.close();
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(clients.map((c) => c.close()));
      metrics.close();
      await pool.end();
      await embedded?.stop();
    },
  };
}
