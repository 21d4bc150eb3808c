/**
 * `herald serve`: runs Herald (API and/or delivery workers) until SIGINT/SIGTERM, then drains:
 * stop claiming, let in-flight requests finish within a grace period, hand back leases, stop the
 * embedded database.
 */
import type { Command } from 'commander';
import { loggerFor } from '../logger.js';
import { openHeraldOrExit } from './open-herald.js';
import { configFromFlags, withServerFlags } from './server-flags.js';

/** How long in-flight deliveries may take to finish at shutdown. */
const SHUTDOWN_GRACE_MS = 10_000;

export function registerServe(program: Command): void {
  withServerFlags(program.command('serve').description('run Herald: management API, dashboard and delivery workers'))
    .option('--role <role>', 'all, api or worker', 'all')
    .action(async (opts: Record<string, string>) => {
      const config = configFromFlags(opts);
      const role = opts.role ?? 'all';
      if (!['all', 'api', 'worker'].includes(role)) {
        process.stderr.write(`--role must be all, api or worker (got "${role}")\n`);
        process.exit(2);
      }
      const log = loggerFor(config);
      // Loaded here, not at the top: every other command starts without the server's module graph.
      const { startHttpServer, startMetricsServer } = await import('./http-server.js');
      const herald = await openHeraldOrExit(config, log);
      // Signals are handled from here on, before anything starts: a SIGTERM sent the moment the
      // server says it is listening still drains and exits 0.
      const stops: (() => Promise<void>)[] = [];
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        for (const stop of stops) await stop().catch((e: unknown) => log.error({ err: e }, 'shutdown step failed'));
        await herald.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void shutdown('SIGINT'));
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
      if (role !== 'api') {
        const worker = herald.createWorker();
        await worker.start();
        stops.push(() => worker.stop(SHUTDOWN_GRACE_MS));
        log.info({ concurrency: config.HERALD_WORKER_CONCURRENCY }, 'delivery worker started');
        // Alert emails run beside the worker, on their own timer and database connection.
        const alerts = herald.createAlertSender();
        alerts.start();
        stops.push(() => alerts.stop());
        // Debounced event types: consolidated messages are published where deliveries are sent.
        const flusher = herald.createDebounceFlusher();
        flusher.start();
        stops.push(() => flusher.stop());
        // Retention: old log rows, payloads and credentials are purged in bounded batches, one process at a time.
        const { createRetentionPurger } = await import('../engine/retention.js');
        const purger = createRetentionPurger(herald);
        purger.start();
        stops.push(() => purger.stop());
      }
      if (role !== 'worker') {
        const server = await startHttpServer(herald);
        stops.unshift(() => server.close());
      } else if (config.HERALD_METRICS_PORT !== undefined) {
        const server = await startMetricsServer(herald, config.HERALD_METRICS_PORT);
        stops.unshift(() => server.close());
      }
    });
}
