/**
 * The chaos run (`npm run chaos`, and a small one in test/chaos): publishers send messages through the
 * API of a `herald serve --role api` process to receivers that fail a share of requests (receiver.ts),
 * while worker processes are killed with SIGKILL every few seconds and started again, PostgreSQL is
 * restarted once, and a migration is applied while the workers deliver (migration.ts). Then it waits
 * for the queue to drain and checks, from the receivers' side, that every acknowledged message reached
 * a 2xx at every endpoint subscribed to it, and from the database's, that every one is stored and
 * every delivery of it succeeded.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import pg from 'pg';
import { DEFAULT_LEASE_MS } from '../../src/delivery/worker.js';
import { migrate } from '../../src/store/migrate.js';
import { LeaseWatch, type LeaseWaits } from './lease-watch.js';
import { applyChaosMigration } from './migration.js';
import { startChaosPostgres, type ChaosPostgres } from './postgres.js';
import { startApi, startWorker, type ChaosProcess } from './processes.js';
import { ChaosApi, publishAtRate, type ChaosApp, type PublishStats } from './publisher.js';
import { defaultShares, deliveryKey, seededRandom, startChaosReceiver, type ChaosReceiver, type Mode } from './receiver.js';

/** What a run does. */
export interface ChaosOptions {
  /** How long messages are published (kills and the restart happen within it), ms. */
  durationMs: number;
  /** Messages per second. */
  rate: number;
  /** A worker is killed with SIGKILL this often, ms. */
  killEveryMs: number;
  /** Worker processes. */
  workers: number;
  /** Applications, and endpoints per application. */
  apps: number;
  endpointsPerApp: number;
  /** Share of requests the receivers fail (5xx, no answer, reset, body past the deadline). */
  failShare: number;
  /** When PostgreSQL is restarted and when the migration is applied, as fractions of the duration. */
  restartAt: number;
  migrateAt: number;
  /** How long the run waits for everything to be delivered once publishing ends, ms. */
  drainTimeoutMs: number;
  /** Seed of the receivers' answers and the publishers' choices. */
  seed: number;
  /** Progress lines go here (none in the test suite). */
  progress?: (line: string) => void;
}

/** The default run: a few minutes. */
export const DEFAULT_OPTIONS: ChaosOptions = {
  durationMs: 150_000,
  rate: 40,
  killEveryMs: 5_000,
  workers: 3,
  apps: 2,
  endpointsPerApp: 3,
  failShare: 0.35,
  restartAt: 0.4,
  migrateAt: 0.7,
  drainTimeoutMs: 150_000,
  seed: 1,
};

/** The longest a killed worker's in-flight delivery may wait to be attempted again (HOSTILE-INPUTS.md: within a minute). */
export const WAIT_BOUND_MS = 60_000;

/** What a run found. */
export interface ChaosResult {
  /** Messages the API answered 202 for. */
  acknowledged: number;
  /** (message, subscribed endpoint) pairs those messages owe. */
  expected: number;
  /** Pairs that reached a 2xx. */
  delivered: number;
  /** Pairs that never did (must be 0). */
  lost: number;
  /** Extra 2xx arrivals of pairs already delivered (allowed: at least once), and the pairs concerned. */
  duplicates: number;
  duplicatePairs: number;
  /** Acknowledged messages missing from the database, and their deliveries not `succeeded` at the end (both must be 0). */
  missingFromStore: number;
  notSucceeded: number;
  /** Killed workers' in-flight deliveries: how many, the longest wait to be attempted again (must be under 60 s), still waiting. */
  waits: LeaseWaits;
  /** The workers' lease: what a killed worker's deliveries wait for before they fall due again. */
  leaseMs: number;
  /** Workers killed, and Herald processes that exited without being killed (must be 0). */
  kills: number;
  crashes: string[];
  /** PostgreSQL restart: how long it was away, ms. */
  restartMs: number;
  /** The migration applied mid-run, and how long it took (with its held locks). */
  migration: { applied: string[]; ms: number };
  /** Publishing: answers other than 202 by status, retried messages, messages never acknowledged. */
  publish: Pick<PublishStats, 'refused' | 'retriedToAck' | 'gaveUp'>;
  /** Receiver answers by mode. */
  modes: Record<Mode, number>;
  /** Log lines at error level the Herald processes printed (expected around the restart). */
  errorLines: number;
  /** From the first publish to everything delivered, ms. */
  elapsedMs: number;
  /** For a few lost deliveries: what the database holds about them (to find the cause). */
  lostExamples: string[];
  /** Every Herald process the run started (all stopped when runChaos returns). */
  pids: number[];
  /** Whether the run passed: nothing lost, missing or stuck, no crash, every wait under the bound. */
  ok: boolean;
}

/** The Herald settings of every process of the run. */
function heraldSettings(url: string, token: string): Record<string, string> {
  return {
    DATABASE_URL: url,
    HERALD_SECRET_KEY: randomBytes(32).toString('base64'),
    HERALD_ADMIN_TOKEN: token,
    HERALD_ALLOW_HTTP: 'true',
    HERALD_ALLOWED_NETWORKS: '127.0.0.0/8',
    // A short deadline so hanging receivers cost seconds, not minutes.
    HERALD_REQUEST_TIMEOUT: '2s',
    // Twenty quick attempts: at a 35 % failure share no delivery runs out of them, and a retry is
    // never minutes away, so the run drains in seconds. The breaker stays on but backs off 10 s at most.
    HERALD_RETRY_SCHEDULE: ['0', '1s', '2s', '3s', ...Array.from({ length: 16 }, () => '5s')].join(','),
    HERALD_BREAKER_BACKOFF_MAX: '10s',
    HERALD_LOG_LEVEL: 'warn',
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** Worker slots: each holds its current process, is killed on schedule and started again; a crash is noted and restarted. */
class WorkerFleet {
  private readonly slots: (ChaosProcess | null)[];
  private readonly killing = new Set<ChaosProcess>();
  private readonly all: ChaosProcess[] = [];
  private running = true;
  readonly crashes: string[] = [];
  kills = 0;

  constructor(private readonly settings: Record<string, string>, size: number) {
    this.slots = Array.from({ length: size }, () => null);
  }

  async startAll(): Promise<void> {
    await Promise.all(this.slots.map((_, i) => this.startSlot(i)));
  }

  private async startSlot(i: number): Promise<void> {
    const proc = await startWorker(`worker ${i}`, this.settings);
    this.all.push(proc);
    this.slots[i] = proc;
    void proc.whenExited.then(async () => {
      if (this.killing.has(proc) || !this.running) return;
      this.crashes.push(`${proc.name} (pid ${proc.pid}) exited on its own (${proc.exited()}): ${proc.output().slice(-1_000)}`);
      if (this.slots[i] === proc) await this.startSlot(i).catch((e: unknown) => this.crashes.push(`restarting ${proc.name} failed: ${String(e)}`));
    });
  }

  /** SIGKILLs slot i's worker, resolves once it is gone (the restart runs on in the background). */
  async kill(i: number): Promise<{ at: number; restarted: Promise<void> }> {
    const slot = i % this.slots.length;
    // A worker still starting after the previous round is waited for: every kill hits a running one.
    while (!this.slots[slot]) await sleep(50);
    const proc = this.slots[slot]!;
    this.killing.add(proc);
    await proc.kill9();
    this.kills++;
    const at = Date.now();
    this.slots[slot] = null;
    const restarted = this.startSlot(slot).catch((e: unknown) => void this.crashes.push(`restarting worker ${slot} failed: ${String(e)}`));
    return { at, restarted };
  }

  errorLines(): number {
    return this.all.reduce((n, p) => n + p.errorLines(), 0);
  }

  pids(): number[] {
    return this.all.map((p) => p.pid);
  }

  async stopAll(): Promise<void> {
    this.running = false;
    await Promise.all(this.slots.map((p) => p?.stop()));
  }
}

/** Runs the chaos scenario; always stops everything it started. */
export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const say = opts.progress ?? (() => undefined);
  const random = seededRandom(opts.seed ^ 0x5eed);
  const token = `chaos_${randomBytes(24).toString('hex')}`;
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const db: ChaosPostgres = await startChaosPostgres();
    stops.unshift(() => db.close());
    const pool = new pg.Pool({ connectionString: db.url, max: 3 });
    pool.on('error', () => undefined);
    stops.unshift(() => pool.end());
    await migrate(pool);

    const deadlineMs = 2_000;
    const rx: ChaosReceiver = await startChaosReceiver({ shares: defaultShares(opts.failShare), deadlineMs, seed: opts.seed });
    stops.unshift(() => rx.close());
    const settings = heraldSettings(db.url, token);
    const apiPort = await freePort();
    const apiProc = await startApi(apiPort, settings);
    stops.unshift(() => apiProc.stop());
    const api = new ChaosApi(`http://127.0.0.1:${apiPort}`, token);
    stops.unshift(() => api.close());
    const apps = await api.setUp(rx.url, opts.apps, opts.endpointsPerApp);
    const fleet = new WorkerFleet(settings, opts.workers);
    stops.unshift(() => fleet.stopAll());
    await fleet.startAll();
    say(`  PostgreSQL ${db.url}, API pid ${apiProc.pid}, ${opts.workers} workers, ${opts.apps * opts.endpointsPerApp} endpoints at ${rx.url}`);

    const watch = new LeaseWatch(pool);
    watch.start();
    const started = Date.now();
    const publishing = publishAtRate(api, apps, {
      rate: opts.rate,
      durationMs: opts.durationMs,
      graceMs: 60_000,
      concurrency: 32,
      runId: `chaos-${opts.seed}-${started}`,
      random,
    });
    const chaos = runSchedule(opts, started, db, fleet, watch, say);
    const [stats, events] = await Promise.all([publishing, chaos]);
    say(`  publishing done: ${stats.acknowledged.size} acknowledged; waiting for the queue to drain`);

    const expected = expectedPairs(apps, stats);
    await drain(pool, rx, watch, expected, stats, opts.drainTimeoutMs);
    const elapsedMs = Date.now() - started;
    const waits = await watch.stop();
    const store = await storeChecks(pool, [...stats.acknowledged.keys()]);
    let delivered = 0;
    let duplicates = 0;
    let duplicatePairs = 0;
    for (const k of expected) {
      const n = rx.delivered.get(k) ?? 0;
      if (n > 0) delivered++;
      if (n > 1) [duplicates, duplicatePairs] = [duplicates + n - 1, duplicatePairs + 1];
    }
    const lostPairs = [...expected].filter((k) => !rx.delivered.has(k));
    const lostExamples = lostPairs.length ? await explainLost(pool, apps, lostPairs.slice(0, 5)) : [];
    if (apiProc.exited()) fleet.crashes.push(`the API process exited (${apiProc.exited()}): ${apiProc.output().slice(-1_000)}`);
    const lost = expected.size - delivered;
    const result: ChaosResult = {
      acknowledged: stats.acknowledged.size,
      expected: expected.size,
      delivered,
      lost,
      duplicates,
      duplicatePairs,
      missingFromStore: store.missing,
      notSucceeded: store.notSucceeded,
      waits,
      leaseMs: DEFAULT_LEASE_MS,
      kills: fleet.kills,
      crashes: fleet.crashes,
      restartMs: events.restartMs,
      migration: events.migration,
      publish: { refused: stats.refused, retriedToAck: stats.retriedToAck, gaveUp: stats.gaveUp },
      modes: { ...rx.modes },
      errorLines: fleet.errorLines() + apiProc.errorLines(),
      elapsedMs,
      lostExamples,
      pids: [apiProc.pid, ...fleet.pids()],
      ok: false,
    };
    result.ok =
      lost === 0 && store.missing === 0 && store.notSucceeded === 0 && fleet.crashes.length === 0 && waits.unresolved === 0 && waits.maxWaitMs < WAIT_BOUND_MS && stats.acknowledged.size > 0 &&
      events.migration.applied.length > 0;
    return result;
  } finally {
    for (const stop of stops) await stop().catch((e: unknown) => console.error(`  chaos cleanup: ${String(e)}`));
  }
}

/** Kills on schedule, restarts PostgreSQL once and applies the migration, all within the publishing phase. */
async function runSchedule(
  opts: ChaosOptions,
  started: number,
  db: ChaosPostgres,
  fleet: WorkerFleet,
  watch: LeaseWatch,
  say: (line: string) => void,
): Promise<{ restartMs: number; migration: { applied: string[]; ms: number } }> {
  let restartMs = -1;
  let migration: { applied: string[]; ms: number } = { applied: [], ms: -1 };
  const restartAt = started + opts.durationMs * opts.restartAt;
  const migrateAt = started + opts.durationMs * opts.migrateAt;
  let migrating: Promise<void> | null = null;
  // A migration that fails is a failed run, reported with the rest, not an unhandled rejection.
  const migrationFailed = (e: unknown) =>
    void fleet.crashes.push(`the migration applied while workers delivered failed: ${e instanceof Error ? e.message : String(e)}`);
  const restarts: Promise<void>[] = [];
  for (let k = 1; ; k++) {
    const killAt = started + k * opts.killEveryMs;
    if (killAt >= started + opts.durationMs) break;
    if (restartMs < 0 && restartAt <= killAt) {
      await sleep(restartAt - Date.now());
      restartMs = await db.restart();
      say(`  ${((Date.now() - started) / 1000).toFixed(1)} s: PostgreSQL restarted (down ${restartMs} ms)`);
    }
    if (!migrating && migrateAt <= killAt) {
      await sleep(migrateAt - Date.now());
      // In the background: the point is that workers go on while it holds its locks.
      migrating = applyChaosMigration(db.url).then((m) => {
        migration = m;
        say(`  ${((Date.now() - started) / 1000).toFixed(1)} s: applied ${m.applied.join(', ')} while workers delivered (${m.ms} ms)`);
      }, migrationFailed);
    }
    await sleep(killAt - Date.now());
    const { at, restarted } = await fleet.kill(k - 1);
    restarts.push(restarted);
    await watch.killed(at);
    say(`  ${((at - started) / 1000).toFixed(1)} s: killed a worker with SIGKILL (${fleet.kills} so far)`);
  }
  if (restartMs < 0) restartMs = await db.restart();
  if (!migrating) migrating = applyChaosMigration(db.url).then((m) => void (migration = m), migrationFailed);
  await migrating;
  await Promise.all(restarts);
  return { restartMs, migration };
}

/** The (endpoint, message) pairs acknowledged messages owe: every endpoint of the app subscribed to the type. */
function expectedPairs(apps: ChaosApp[], stats: PublishStats): Set<string> {
  const out = new Set<string>();
  for (const m of stats.acknowledged.values()) {
    const app = apps.find((a) => a.id === m.app.id)!;
    for (const ep of app.endpoints) if (!ep.filterTypes || ep.filterTypes.includes(m.eventType)) out.add(deliveryKey(ep.n, m.msgId));
  }
  return out;
}

/** Waits until every pair reached a 2xx, every delivery is written as succeeded and every kill settled, or the timeout. */
async function drain(pool: pg.Pool, rx: ChaosReceiver, watch: LeaseWatch, expected: Set<string>, stats: PublishStats, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  const ids = [...stats.acknowledged.keys()];
  while (Date.now() < until) {
    const arrived = [...expected].every((k) => (rx.delivered.get(k) ?? 0) > 0);
    if (arrived && watch.settled()) {
      const store = await storeChecks(pool, ids).catch(() => null);
      if (store && store.notSucceeded === 0 && store.missing === 0) return;
    }
    await sleep(500);
  }
}

/** What the database says about lost (endpoint, message) pairs: the delivery row and its attempts. */
async function explainLost(pool: pg.Pool, apps: ChaosApp[], pairs: string[]): Promise<string[]> {
  const byN = new Map(apps.flatMap((a) => a.endpoints.map((e) => [e.n, e.id] as const)));
  const out: string[] = [];
  for (const pair of pairs) {
    const [n, msgId] = pair.split('|');
    const endpointId = byN.get(Number(n));
    const d = await pool.query(`select id, state, attempts_made, lease_version from delivery where msg_id = $1 and endpoint_id = $2`, [msgId, endpointId]);
    const a = await pool.query(
      `select attempt_number as n, response_status as status, error_stage as stage, succeeded, duration_ms as ms, created_at as at
         from attempt where msg_id = $1 and endpoint_id = $2 order by created_at`,
      [msgId, endpointId],
    );
    out.push(`${msgId} to /ep/${n}: delivery ${JSON.stringify(d.rows[0] ?? null)}; attempts ${JSON.stringify(a.rows)}`);
  }
  return out;
}

/** Acknowledged messages missing from the database, and deliveries of theirs not succeeded. */
async function storeChecks(pool: pg.Pool, ids: string[]): Promise<{ missing: number; notSucceeded: number }> {
  const { rows } = await pool.query<{ missing: number; not_succeeded: number }>(
    `select (select count(*)::int from unnest($1::text[]) as a(id) where not exists (select 1 from message m where m.id = a.id)) as missing,
            (select count(*)::int from delivery d where d.msg_id = any($1::text[]) and d.state <> 'succeeded') as not_succeeded`,
    [ids],
  );
  return { missing: rows[0]!.missing, notSucceeded: rows[0]!.not_succeeded };
}
