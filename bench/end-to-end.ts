/**
 * One end-to-end measurement through the API, shared by the `api`, `scale-out` and `embedded`
 * scenarios: Herald started as child processes (all-in-one, or one `--role api` plus two
 * `--role worker`), an application with N endpoints created through the API, then 64 closed-loop
 * clients publishing single messages until M are published; measured from the first publish to the
 * last arrival at the receiver, with the CPU, SQL statements and peak memory of the phase.
 */
import { closedLoop, type ClosedLoopResult } from './api-load.js';
import { counterValue, HeraldApi } from './api-client.js';
import { openDatabase, type DatabaseKind } from './databases.js';
import { ask, now, reachCount, type BenchContext, type ReceiverCounts } from './harness.js';
import { startHerald, type HeraldProcess } from './herald-process.js';
import { startCpuWindow } from './proc-stats.js';
import type { PhaseResources } from './report.js';

/** Closed-loop clients, each with a connection of its own (a platform's web servers publishing). */
export const PUBLISHERS = Number(process.env.BENCH_PUBLISHERS ?? 64);

/** How the Herald under test is laid out. */
export type Topology = 'all-in-one' | 'scale-out';

/** Options of {@link endToEnd}. */
export interface EndToEndOptions {
  kind: DatabaseKind;
  topology: Topology;
  /** Endpoints per message. */
  endpoints: number;
  /** Messages to publish. */
  messages: number;
  /** Longest the publishing may take, s; what was published by then is measured. */
  publishSeconds: number;
  /** Longest wait for the deliveries after the last publish, ms. */
  drainMs: number;
  /** The database shared by several processes: the bench starts an embedded one itself (scale-out). */
  sharedDatabase?: boolean;
}

/** What an end-to-end run measured. */
export interface EndToEndResult {
  published: ClosedLoopResult;
  /** Deliveries owed: accepted messages × endpoints. */
  expected: number;
  /** Deliveries that arrived. */
  arrived: number;
  /** From the first publish to the last arrival, s. */
  seconds: number;
  /** Messages whose every delivery arrived per second (arrived / endpoints / seconds). */
  messagesPerSecond: number;
  /** Deliveries per second. */
  deliveriesPerSecond: number;
  /** Accepted messages per second while publishing. */
  publishPerSecond: number;
  resources: PhaseResources;
}

/** Sum of the statement counters of every process (workers serve /metrics too); null unless all answer. */
async function statementsOf(processes: HeraldProcess[]): Promise<number | null> {
  const token = process.env.HERALD_METRICS_TOKEN;
  const counts = await Promise.all(
    processes.map(async (p) => {
      try {
        const res = await fetch(`${p.metricsUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10_000) });
        const text = await res.text();
        return res.status === 200 ? counterValue(text, 'herald_db_statements_total') : null;
      } catch {
        return null;
      }
    }),
  );
  return counts.some((c) => c === null) ? null : counts.reduce((s, c) => s! + c!, 0);
}

/** Starts the processes of a topology, API first (it runs the migrations before the workers start). */
async function startTopology(topology: Topology, db: Awaited<ReturnType<typeof openDatabase>>): Promise<HeraldProcess[]> {
  const processes: HeraldProcess[] = [];
  try {
    if (topology === 'all-in-one') {
      processes.push(await startHerald('all', db));
    } else {
      processes.push(await startHerald('api', db));
      processes.push(...(await Promise.all([startHerald('worker', db), startHerald('worker', db)])));
    }
    return processes;
  } catch (e) {
    await Promise.all(processes.map((p) => p.stop()));
    throw e;
  }
}

export async function endToEnd(ctx: BenchContext, name: string, o: EndToEndOptions): Promise<EndToEndResult> {
  const db = await openDatabase(name, o.kind, { url: o.sharedDatabase });
  let processes: HeraldProcess[] = [];
  let api: HeraldApi | undefined;
  try {
    processes = await startTopology(o.topology, db);
    api = new HeraldApi(processes[0]!.url!, PUBLISHERS);
    const appId = await api.createApp(`bench-${name}`);
    for (let i = 0; i < o.endpoints; i++) await api.createEndpoint(appId, `${ctx.url}/e2e/${name}/e${i}`);
    // Warm-up: connections, JIT and the first statements, so the measured phase starts in a running Herald.
    await ask(ctx.rx, 'reset');
    const warm = await closedLoop(api, appId, { publishers: PUBLISHERS, batch: 1, messages: ctx.quick ? 64 : 256, seconds: 20 });
    await reachCount(ctx.rx, warm.accepted * o.endpoints, 30_000);
    await ask(ctx.rx, 'reset');

    const statements0 = await statementsOf(processes);
    const cpu = startCpuWindow(processes.map((p) => p.pid));
    const crashed = () => processes.some((p) => p.exited() !== null);
    const published = await closedLoop(api, appId, { publishers: PUBLISHERS, batch: 1, messages: o.messages, seconds: o.publishSeconds, abort: crashed });
    const expected = published.accepted * o.endpoints;
    await reachCount(ctx.rx, expected, crashed() ? 0 : o.drainMs);
    const dead = processes.find((p) => p.exited() !== null);
    if (dead) throw new Error(`herald serve --role ${dead.role} exited (${dead.exited()}) during the phase; its last output:\n${dead.output()}`);
    const used = cpu.stop();
    const statements1 = await statementsOf(processes);
    const counts = await ask<ReceiverCounts>(ctx.rx, 'count');
    const arrived = Math.min(counts.count, expected);
    const end = counts.last > 0 ? counts.last : now();
    const seconds = (end - published.start) / 1000;
    const deliveriesPerSecond = arrived / seconds;
    return {
      published,
      expected,
      arrived,
      seconds,
      messagesPerSecond: deliveriesPerSecond / o.endpoints,
      deliveriesPerSecond,
      publishPerSecond: published.accepted / ((published.end - published.start) / 1000),
      resources: {
        deliveries: arrived,
        statements: statements0 === null || statements1 === null ? null : statements1 - statements0,
        statementsNote: 'no herald_db_statements_total at GET /metrics',
        cpu: used,
        heraldIs: o.topology === 'all-in-one' ? 'the herald serve process' : 'the 3 herald serve processes',
        peakRss: Math.max(...processes.map((p) => p.peakRss())),
      },
    };
  } finally {
    await api?.close();
    await Promise.all(processes.map((p) => p.stop()));
    await db.cleanup();
  }
}

/** "(12,000 of 20,000 deliveries arrived within 60 s)" when a run did not complete; "" when it did. */
export function shortfall(r: EndToEndResult, o: Pick<EndToEndOptions, 'messages' | 'drainMs'>): string {
  const notes: string[] = [];
  if (r.published.cutShort) notes.push(`publishing stopped at its time limit: ${r.published.accepted} of ${o.messages} messages published`);
  if (r.published.failed > 0) notes.push(`${r.published.failed} publishes failed`);
  if (r.arrived < r.expected) notes.push(`only ${r.arrived} of ${r.expected} deliveries arrived within ${o.drainMs / 1000} s of the last publish`);
  return notes.join('; ');
}
