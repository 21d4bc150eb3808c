/**
 * `herald recover <app> <endpoint> --since ...`: re-queues every failed delivery to an endpoint created
 * since a time (Svix `POST .../endpoint/{ep}/recover`); each gets one more attempt.
 *
 * The API answers once the deliveries are queued, not when they are sent. With `--wait` (the default
 * when stderr is a terminal) the command then polls the endpoint's stats and shows a progress bar
 * until none of the recovered deliveries is pending. That progress is an estimate: it compares the
 * endpoint's pending/sending/success counts with those read just before recovering, so other
 * traffic to the same endpoint meanwhile skews it. What is certain is the final state on the server.
 */
import type { Command } from 'commander';
import { ok, type Schemas } from '../api-client/index.js';
import { ApiError, clientFrom, withApiFlags, type ApiClient, type ApiFlags } from './api-client.js';
import { CommandFailed, run, UsageError } from './exit-codes.js';
import { parseTimeArg } from './input.js';
import { note, printJson } from './output.js';
import { parseDuration } from '../config.js';

/** Svix `EndpointStats`: delivery counts of an endpoint. */
type EndpointStats = Schemas['EndpointStats'];

/** Path parameters of the endpoint being recovered. */
type EndpointPath = { app_id: string; endpoint_id: string };

/** How often `--wait` polls the stats. */
const POLL_MS = 500;
const BAR_WIDTH = 30;

/** "1 delivery", "3 deliveries". */
const deliveries = (n: number) => `${n} ${n === 1 ? 'delivery' : 'deliveries'}`;

/** Options of `recover`. */
interface RecoverFlags extends ApiFlags {
  since: string;
  until?: string;
  wait?: boolean;
  timeout: string;
  json?: boolean;
}

/** `[█████░░░░░] 5/10 · delivered 4 · failed again 1` */
export function progressLine(done: number, total: number, delivered: number): string {
  const ratio = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(ratio * BAR_WIDTH);
  const failed = Math.max(0, done - delivered);
  return `recovering [${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${done}/${total} · delivered ${delivered} · failed again ${failed}`;
}

/** The endpoint's stats, or why they cannot be read (no read permission, window over 28 days). */
async function stats(client: ApiClient, path: EndpointPath, window: { since: string; until?: string }): Promise<EndpointStats | string> {
  try {
    return await ok(client.api.GET('/api/v1/app/{app_id}/endpoint/{endpoint_id}/stats', { params: { path, query: window } }));
  } catch (e) {
    if (e instanceof ApiError && e.status !== 0) return e.message.split('\n')[0]!;
    throw e;
  }
}

/** Polls until the recovered deliveries are no longer pending; returns the estimate at the end. */
async function waitForRecovery(
  client: ApiClient,
  path: EndpointPath,
  window: { since: string; until?: string },
  before: EndpointStats,
  total: number,
  deadline: number,
): Promise<{ done: number; delivered: number; finished: boolean }> {
  const tty = process.stderr.isTTY === true;
  let last = { done: 0, delivered: 0, finished: total === 0 };
  while (!last.finished && Date.now() < deadline) {
    const now = await stats(client, path, window);
    if (typeof now === 'string') break;
    const inFlight = Math.max(0, now.pending + now.sending - (before.pending + before.sending));
    const done = Math.max(0, total - Math.min(total, inFlight));
    const delivered = Math.min(done, Math.max(0, now.success - before.success));
    last = { done, delivered, finished: inFlight === 0 };
    if (tty) process.stderr.write(`\r${progressLine(done, total, delivered)}`);
    if (!last.finished) await new Promise((r) => setTimeout(r, POLL_MS));
  }
  if (tty) process.stderr.write('\n');
  return last;
}

export function registerRecover(program: Command): void {
  withApiFlags(
    program
      .command('recover')
      .description('re-send every failed delivery to an endpoint since a time, with a progress bar')
      .argument('<app>', 'application id or uid')
      .argument('<endpoint>', 'endpoint id or uid')
      .requiredOption('--since <time>', 'ISO 8601 time, or a duration ago: 30m, 2h, 1d, "2h ago"')
      .option('--until <time>', 'only deliveries created before this time (same forms)')
      .option('--wait', 'wait until the recovered deliveries have been attempted (default when stderr is a terminal)')
      .option('--no-wait', 'return as soon as they are queued')
      .option('--timeout <duration>', 'longest --wait, e.g. 10m', '10m')
      .option('--json', 'print the result as JSON')
      .addHelpText(
        'after',
        `
Exit codes: 0 queued (and with --wait, all delivered), 1 API error, some failed again, or --timeout
reached, 2 usage error. Progress is estimated from the endpoint's stats (see docs/cli.md).

Examples:
  herald recover acme ep_2a... --since 2h
  herald recover acme billing --since 2024-05-01T00:00:00Z --until 2024-05-02T00:00:00Z --wait`,
      ),
  ).action(
    run(async (app: string, endpoint: string, flags: RecoverFlags) => {
      const now = new Date();
      const since = parseTimeArg(flags.since, '--since', now);
      const until = flags.until === undefined ? undefined : parseTimeArg(flags.until, '--until', now);
      if (until && until <= since) throw new UsageError('--until must be later than --since');
      const timeoutMs = parseDuration(flags.timeout);
      if (timeoutMs === null || !/[a-z]$/i.test(flags.timeout.trim())) throw new UsageError(`--timeout must be a duration with a unit, e.g. 90s or 10m (got "${flags.timeout}")`);
      const wait = flags.wait ?? process.stderr.isTTY === true;

      const client = clientFrom(flags);
      const path = { app_id: app, endpoint_id: endpoint };
      const window = { since: since.toISOString(), until: until?.toISOString() };
      // Count only deliveries created before now: later ones are not recovered, so new traffic stays out of the estimate.
      const statsWindow = { since: window.since, until: (until ?? now).toISOString() };
      const before = wait ? await stats(client, path, statsWindow) : undefined;
      const out = await ok(client.api.POST('/api/v1/app/{app_id}/endpoint/{endpoint_id}/recover', { params: { path }, body: window }));
      // Herald says how many it found; a server that does not leaves the count out.
      const queued: number | undefined = (out as { count?: number }).count;
      const result: Record<string, unknown> = { ...window, queued: queued ?? null, task: out };

      if (queued === 0) {
        if (flags.json) printJson(result);
        else process.stdout.write(`no failed deliveries to ${endpoint} since ${window.since}: nothing to recover\n`);
        return;
      }
      if (!wait || before === undefined || typeof before === 'string' || queued === undefined) {
        if (typeof before === 'string') note(`not waiting: cannot read the endpoint's stats (${before})`);
        else if (wait && queued === undefined) note('not waiting: the server did not say how many deliveries it queued');
        if (flags.json) printJson(result);
        else process.stdout.write(`${queued === undefined ? 'recovery queued' : `${deliveries(queued)} queued`} for ${endpoint} since ${window.since}\n`);
        return;
      }
      const progress = await waitForRecovery(client, path, statsWindow, before, queued, Date.now() + timeoutMs);
      Object.assign(result, { attempted: progress.done, delivered: progress.delivered, failedAgain: progress.done - progress.delivered, finished: progress.finished });
      if (flags.json) printJson(result);
      else {
        process.stdout.write(
          `${deliveries(queued)} queued; ${progress.done} attempted: ${progress.delivered} delivered, ${progress.done - progress.delivered} failed again\n`,
        );
      }
      if (!progress.finished) throw new CommandFailed(`gave up waiting after ${flags.timeout}; the recovery goes on on the server`);
      if (progress.done > progress.delivered) throw new CommandFailed('some deliveries failed again; see the delivery log');
    }),
  );
}
