/**
 * Herald as a user runs it: `node dist/src/cli/main.js serve --role all|api|worker` in a child process,
 * on the scenario's database, on a free port the bench picks (HERALD_PORT=0 could not be printed
 * back), with a known operator token so the bench can call the API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { onCleanup, trackChild } from './cleanup.js';
import type { BenchDatabase } from './databases.js';
import { BENCH_SETTINGS, heraldSettingsFromEnv, sleep } from './harness.js';
import { memoryOf } from './proc-stats.js';

export type Role = 'all' | 'api' | 'worker';

/**
 * The operator token every Herald of this run gets (HERALD_ADMIN_TOKEN), unless the bench's own
 * environment sets one, which is then passed through and used.
 */
export const ADMIN_TOKEN = process.env.HERALD_ADMIN_TOKEN ?? `bench_${randomBytes(24).toString('hex')}`;

/** How long a Herald may take to answer its health check (an embedded PostgreSQL runs initdb first). */
const START_TIMEOUT_MS = 120_000;
/** SIGTERM lets in-flight deliveries finish for up to 10 s; past this, the bench kills it. */
const STOP_TIMEOUT_MS = 20_000;
/** Output kept for error messages. */
const OUTPUT_TAIL = 16_384;

/** A running `herald serve`. */
export interface HeraldProcess {
  role: Role;
  pid: number;
  /** Base URL of its API (not for `worker`). */
  url: string | null;
  /** Base URL of its `GET /metrics`: the API's, or for a worker its HERALD_METRICS_PORT listener. */
  metricsUrl: string;
  /** Peak resident set (VmHWM) over its life so far, bytes. */
  peakRss(): number;
  /** The last lines it printed (warnings and errors: logs are at `warn`). */
  output(): string;
  /** How it exited ("code 1", "signal SIGKILL"), or null while it runs; before stop(), that is a crash. */
  exited(): string | null;
  /** SIGTERM, then SIGKILL after 20 s. Idempotent. */
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 at this moment. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The `herald` entry point next to this file: built (.js) or, when the bench runs from source, .ts. */
function mainScript(): string {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return fileURLToPath(new URL(`../src/cli/main.${ext}`, import.meta.url));
}

/** The child's environment: no DATABASE_URL or HERALD_* of the bench's but those passed on purpose. */
function childEnv(db: BenchDatabase, port: number, settings: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL' && !k.startsWith('HERALD_')));
  return {
    ...base,
    ...db.env,
    ...BENCH_SETTINGS,
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: String(port),
    HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
    ...settings,
    ...heraldSettingsFromEnv(),
  };
}

/** Starts `herald serve --role <role>` and resolves once it serves (API roles) or its worker started. */
export async function startHerald(role: Role, db: BenchDatabase, settings: Record<string, string> = {}): Promise<HeraldProcess> {
  const port = await freePort();
  // A worker has no HTTP server to probe: it logs "delivery worker started" at info, so it runs at info
  // (it logs nothing else at that level until shutdown).
  const args = [...process.execArgv, mainScript(), 'serve', '--role', role, ...(role === 'worker' ? ['--log-level', 'info'] : [])];
  // A worker serves only /metrics, on the port an API process would use.
  const env = childEnv(db, port, role === 'worker' ? { HERALD_METRICS_PORT: String(port), ...settings } : settings);
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let tail = '';
  let workerStarted = false;
  const keep = (chunk: Buffer) => {
    const s = chunk.toString();
    if (s.includes('delivery worker started')) workerStarted = true;
    tail = (tail + s).slice(-OUTPUT_TAIL);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exit: string | null = null;
  const exited = new Promise<void>((r) =>
    child.once('exit', (code, signal) => {
      exit = signal ? `signal ${signal}` : `code ${code}`;
      r();
    }),
  );
  const stop = onCleanup(`stop herald ${role} (pid ${child.pid})`, () => stopChild(child, exited));
  const url = role === 'worker' ? null : `http://127.0.0.1:${port}`;
  const until = Date.now() + START_TIMEOUT_MS;
  try {
    for (;;) {
      if (exit) throw new Error(`herald serve --role ${role} exited (${exit}) before it was ready:\n${tail}`);
      if (url ? await healthy(url) : workerStarted) break;
      if (Date.now() > until) throw new Error(`herald serve --role ${role} was not ready within ${START_TIMEOUT_MS / 1000} s:\n${tail}`);
      await sleep(url ? 100 : 20);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const pid = child.pid!;
  return {
    role,
    pid,
    url,
    metricsUrl: `http://127.0.0.1:${port}`,
    peakRss: () => memoryOf(pid).hwm,
    output: () => tail,
    exited: () => exit,
    stop: async () => {
      await stop();
      showOutput(role, pid, tail);
    },
  };
}

/**
 * Herald logs at `warn`, so whatever it printed while under test matters (a failing pool, a crash):
 * its last lines are shown. A worker's own start and stop lines at info are not.
 */
function showOutput(role: Role, pid: number, tail: string): void {
  const lines = tail.split('\n').filter((l) => l.trim() && !/"msg":"(delivery worker started|shutting down|Herald listening|migrations applied)"/.test(l));
  if (lines.length === 0) return;
  console.log(`  herald serve --role ${role} (pid ${pid}) printed ${lines.length} line(s); the last ones:`);
  for (const line of lines.slice(-5)) console.log(`    ${line.slice(0, 300)}`);
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
