/**
 * Scenario `retention` (issue 13): how fast the retention purge deletes an expired delivery log, how
 * long its longest statement and transaction run, and what it costs delivery while it runs.
 *
 *  - A real message is published to 4 endpoints and delivered; its message, delivery and attempt rows
 *    are the templates of an expired log stored with set-based `insert … select` (every other column
 *    copied from the real rows, so the seeded rows have the shape Herald writes): N messages
 *    (BENCH_RETENTION_MESSAGES) published 30 days past HERALD_RETENTION_PERIOD, each delivered to the
 *    4 endpoints in 2 attempts, a 500 with a 3 KiB HTML body and then a 200 with 1 KiB of JSON.
 *  - Purge rate: one pass of the real purge (RetentionPurger.pass(), the background job's own pass
 *    with its batch size and pauses) over that log, to completion: rows deleted per second, and the
 *    longest statement and transaction on the purge's connection.
 *  - Effect on delivery: a second expired backlog (BENCH_RETENTION_BACKLOG messages) is stored, then
 *    the library's steady-state throughput (publishMany in batches of 1,000, one in-process worker,
 *    4 endpoints, as in bench/throughput.ts) is measured without the purge and while the purge loop
 *    runs on that backlog, alternated over two rounds; both deliveries/s (means) and their ratio.
 */
import pg from 'pg';
import { createApplication } from '../src/engine/applications.js';
import { createEndpoint } from '../src/engine/endpoints.js';
import type { Herald } from '../src/engine/herald.js';
import { publishMany } from '../src/engine/publish.js';
import { BATCH_SIZE, createRetentionPurger, PAUSE_MS, type RetentionPurger } from '../src/engine/retention.js';
import { defaultDatabase, type DatabaseKind } from './databases.js';
import { ask, now, openBenchHerald, percentile, reachCount, size, sleep, type BenchContext, type ReceiverCounts } from './harness.js';
import { fmt } from './report.js';

const SECTION = 'retention';
const ENDPOINTS = 4;
/** Attempts per seeded delivery: a failure, then the success. */
const ATTEMPTS = 2;
/** Messages per seeding transaction (× 4 deliveries × 2 attempts). */
const SEED_CHUNK = 5_000;
const PUBLISH_BATCH = 1_000;
const DAY_MS = 86_400_000;

/** The scenario's sizes: the full run's, or --quick's. */
function sizes(ctx: BenchContext) {
  return {
    /** Expired messages of the purge-rate pass (× 4 deliveries × 2 attempts). */
    messages: size(ctx, 'BENCH_RETENTION_MESSAGES', 125_000, 2_000),
    /** Expired messages the purge works on while delivery is measured. */
    backlog: size(ctx, 'BENCH_RETENTION_BACKLOG', 60_000, 5_000),
    /** Messages published in each delivery phase (× 4 endpoints). */
    deliveryMessages: size(ctx, 'BENCH_RETENTION_DELIVERY_MESSAGES', 20_000, 1_500),
  };
}

/** Columns of `table` an insert may set (identity columns get new values). */
async function insertableColumns(db: pg.Pool, table: string): Promise<string[]> {
  const { rows } = await db.query<{ column_name: string }>(
    `select column_name from information_schema.columns
     where table_schema = current_schema() and table_name = $1 and is_generated = 'NEVER' and is_identity = 'NO'
     order by ordinal_position`,
    [table],
  );
  return rows.map((r) => r.column_name);
}

/** `insert into table (every column) select …`: an override's expression where given, else the template row's (alias t) value. */
function cloneInsert(table: string, columns: string[], overrides: Record<string, string>, from: string): string {
  const unknown = Object.keys(overrides).filter((c) => !columns.includes(c));
  if (unknown.length > 0) throw new Error(`retention bench: ${table} has no column ${unknown.join(', ')} (the schema changed; update bench/retention.ts)`);
  return `insert into ${table} (${columns.join(', ')}) select ${columns.map((c) => overrides[c] ?? `t.${c}`).join(', ')} from ${from}`;
}

/** Seeds expired logs of one application, cloned from one real delivered message. */
interface Seeder {
  /** Stores `messages` expired messages with their deliveries and attempts; returns the seconds it took. */
  seed(messages: number): Promise<number>;
}

async function seeder(db: pg.Pool, appId: string, templateMsg: string, retentionMs: number): Promise<Seeder> {
  const [msgCols, deliveryCols, attemptCols] = await Promise.all(['message', 'delivery', 'attempt'].map((t) => insertableColumns(db, t)));
  // Ids sort like Herald's (time-sortable) within the seeded log, and never collide with real ones.
  const msgId = `'msg_expired' || lpad(g::text, 10, '0')`;
  const insertMessages = cloneInsert('message', msgCols!, {
    id: msgId,
    event_id: `'evt_expired' || g`,
    created_at: `$3::timestamptz + g * interval '1 millisecond'`,
  }, `(select * from message where id = $4) t cross join generate_series($1::bigint, $2::bigint) g`);
  const insertDeliveries = cloneInsert('delivery', deliveryCols!, {
    msg_id: 'm.id',
    endpoint_id: 'e.id',
    state: `'succeeded'`,
    attempts_made: String(ATTEMPTS),
    run_attempts: String(ATTEMPTS),
    last_status: '200',
    last_attempt_at: `m.created_at + interval '${ATTEMPTS - 1} seconds'`,
    next_attempt_at: 'm.created_at',
    created_at: 'm.created_at',
    updated_at: `m.created_at + interval '${ATTEMPTS - 1} seconds'`,
  }, `(select * from delivery where msg_id = $3 limit 1) t
      cross join message m join endpoint e on e.app_id = m.app_id
      where m.id between 'msg_expired' || lpad($1::text, 10, '0') and 'msg_expired' || lpad($2::text, 10, '0')`);
  // Attempt 1: a 500 with an HTML error page of about 3 KiB; attempt 2: a 200 with about 1 KiB of JSON.
  const insertAttempts = cloneInsert('attempt', attemptCols!, {
    id: `'atmpt_expired' || d.id || '_' || k`,
    delivery_id: 'd.id',
    msg_id: 'd.msg_id',
    endpoint_id: 'd.endpoint_id',
    attempt_number: 'k',
    response_status: `case k when 1 then 500 else 200 end`,
    succeeded: 'k = 2',
    response_body: `case k when 1 then b.html else b.json end`,
    created_at: `d.created_at + (k - 1) * interval '1 second'`,
  }, `(select * from attempt where msg_id = $4 limit 1) t
      cross join delivery d cross join generate_series(1, ${ATTEMPTS}) k
      join bodies b on b.i = d.id % 64
      where d.app_id = $3 and d.msg_id between 'msg_expired' || lpad($1::text, 10, '0') and 'msg_expired' || lpad($2::text, 10, '0')`);
  // 64 bodies of each kind, picked by delivery id: the same text around a request id and a trace that
  // differ, so PostgreSQL compresses them about as well as real error pages (3 KiB of HTML to 1.3 KiB).
  // Materialized: computed once per statement, not once per attempt.
  const bodies = `with bodies as materialized (
    select i,
      '<!DOCTYPE html><html><head><title>500 Internal Server Error</title><style>body{font-family:sans-serif;margin:2em}' ||
      'pre{background:#eee;padding:1em}</style></head><body><h1>Internal Server Error</h1><p>Request ' || md5(i::text) || ' failed.</p><pre>' ||
      (select string_agg('  at handler_' || (j % 7) || ' (/srv/app/src/routes/orders.js:' || (j * 37 % 500) || ':' || (j % 40) || ') ' ||
                         substr(md5(i || ':' || j), 1, 12) || E'\\n', '') from generate_series(1, 40) j) || '</pre></body></html>' as html,
      '{"error":"upstream_unavailable","message":"The order service did not answer in time","requestId":"' || md5(i::text) || '","details":[' ||
      (select string_agg('{"step":' || j || ',"service":"svc-' || (j % 5) || '","ms":' || (j * 13 % 997) || ',"trace":"' ||
                         substr(md5(j || ':' || i), 1, 16) || '"}', ',') from generate_series(1, 12) j) || ']}' as json
    from generate_series(0, 63) i)`;
  let next = 0;
  return {
    async seed(messages) {
      const t0 = now();
      // Published 30 days past the retention period, a millisecond apart, oldest first.
      const base = new Date(Date.now() - retentionMs - 30 * DAY_MS);
      for (let done = 0; done < messages; done += SEED_CHUNK) {
        const first = next + done;
        const last = first + Math.min(SEED_CHUNK, messages - done) - 1;
        const client = await db.connect();
        try {
          await client.query('begin');
          await client.query(insertMessages, [first, last, base, templateMsg]);
          await client.query(insertDeliveries, [first, last, templateMsg]);
          await client.query(`${bodies} ${insertAttempts}`, [first, last, appId, templateMsg]);
          await client.query('commit');
        } catch (e) {
          await client.query('rollback').catch(() => undefined);
          throw e;
        } finally {
          client.release();
        }
      }
      next += messages;
      await db.query('analyze message; analyze delivery; analyze attempt');
      return (now() - t0) / 1000;
    },
  };
}

/** What the purge's connection ran, timed on the client (round trip included). */
interface PurgeTrace {
  /** Statements run, with their duration in ms. */
  statements: number;
  /** The longest run of each kind of statement, ms, by name ("delete from attempt", "commit", …). */
  longest: Map<string, number>;
  /** Duration of every transaction (a batch), begin to commit, ms. */
  transactions: number[];
  /** Rows deleted so far. */
  deleted: number;
  /** When the pass in progress let go of its lock (the pass ended), `now()` ms; 0 while none has. */
  passEndedAt: number;
}

/** What a purge statement is, for people. */
function statementName(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  const deleted = /^delete from (\w+)/.exec(text);
  if (deleted) return `delete from ${deleted[1]}`;
  if (/for update skip locked$/.test(text)) return `lock a batch of ${/ from (\w+)/.exec(text)?.[1] ?? '?'}`;
  if (/^update message/.test(text)) return 'purge payloads';
  return text.split(' ').slice(0, 4).join(' ');
}

/**
 * Times every statement on the purger's connection. The purger keeps its one-connection pool to
 * itself; the benchmark reaches it (a private field) to wrap `query` as its connection opens, the way
 * the throughput scenario counts statements on Herald's pool.
 */
function tracePurger(purger: RetentionPurger): PurgeTrace {
  const pool = (purger as unknown as { db: unknown }).db;
  if (!(pool instanceof pg.Pool)) throw new Error('retention bench: the purger has no pool named db any more; update tracePurger');
  const trace: PurgeTrace = { statements: 0, longest: new Map(), transactions: [], deleted: 0, passEndedAt: 0 };
  let begun = 0;
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const sql = typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string }).text);
      const t0 = now();
      if (sql === 'begin') begun = t0;
      const done = (rowCount: number | null) => {
        const t1 = now();
        trace.statements++;
        const name = statementName(sql);
        trace.longest.set(name, Math.max(t1 - t0, trace.longest.get(name) ?? 0));
        if (sql === 'commit' || sql === 'rollback') trace.transactions.push(t1 - begun);
        if (/^\s*delete/.test(sql)) trace.deleted += rowCount ?? 0;
        if (sql.includes('pg_advisory_unlock')) trace.passEndedAt = t1;
      };
      const r = query(...args) as Promise<pg.QueryResult> | undefined;
      if (!r || typeof r.then !== 'function') return r;
      return r.then((res) => (done(res.rowCount), res));
    };
  });
  return trace;
}

/** The statements by their longest run, longest first. */
function longestStatements(trace: PurgeTrace): [string, number][] {
  return [...trace.longest].sort((a, b) => b[1] - a[1]);
}

/** The longest and the 99th-percentile transaction, ms. */
function batchTimes(trace: PurgeTrace): { max: number; p99: number; count: number } {
  const sorted = [...trace.transactions].sort((a, b) => a - b);
  return { max: sorted.at(-1) ?? NaN, p99: percentile(sorted, 99), count: sorted.length };
}

/** The seeded expired rows (messages, deliveries, attempts), and the delivery log's size on disk (indexes and TOAST included). */
async function expiredLog(db: pg.Pool): Promise<{ messages: number; deliveries: number; attempts: number; bytes: number }> {
  const { rows } = await db.query<{ messages: number; deliveries: number; attempts: number; bytes: string }>(
    `select (select count(*)::int from message where id like 'msg_expired%') as messages,
            (select count(*)::int from delivery where msg_id like 'msg_expired%') as deliveries,
            (select count(*)::int from attempt where msg_id like 'msg_expired%') as attempts,
            pg_total_relation_size('message') + pg_total_relation_size('delivery') + pg_total_relation_size('attempt') as bytes`,
  );
  return { ...rows[0]!, bytes: Number(rows[0]!.bytes) };
}

/** Publishes `messages` in batches of 1,000 to the application's 4 endpoints and waits for every arrival. */
async function deliveryPhase(ctx: BenchContext, publisher: pg.Pool, appId: string, messages: number) {
  const total = messages * ENDPOINTS;
  await ask(ctx.rx, 'reset');
  const start = now();
  for (let sent = 0; sent < messages; sent += PUBLISH_BATCH) {
    const batch = Array.from({ length: Math.min(PUBLISH_BATCH, messages - sent) }, (_, i) => ({
      eventType: 'order.paid',
      payload: { t: now(), i: sent + i, orderId: `ord_${sent + i}`, total: 4900 },
    }));
    await publishMany(publisher, appId, batch);
  }
  const timeoutMs = ctx.quick ? 60_000 : 300_000;
  const complete = await reachCount(ctx.rx, total, timeoutMs);
  const counts = await ask<ReceiverCounts>(ctx.rx, 'count');
  const arrived = Math.min(counts.count, total);
  const end = counts.last || now();
  return { arrived, total, complete, timeoutMs, start, end, perSecond: arrived / ((end - start) / 1000) };
}

/** Waits until `ready()` answers true, or throws after timeoutMs. */
async function until(what: string, timeoutMs: number, ready: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`retention bench: ${what} within ${timeoutMs / 1000} s`);
    await sleep(20);
  }
}

/** Purge rate: one pass of the real purge over `messages` expired messages, to completion. */
async function purgeRate(ctx: BenchContext, kind: DatabaseKind, herald: Herald, seed: Seeder, messages: number): Promise<void> {
  const seedSeconds = await seed.seed(messages);
  const before = await expiredLog(herald.pool);
  ctx.report.add({
    key: `retention.seed.${kind}`,
    section: SECTION,
    label: `retention, expired log: ${fmt(messages)} messages × ${ENDPOINTS} deliveries × ${ATTEMPTS} attempts (3 KiB + 1 KiB bodies)`,
    database: kind,
    value: before.messages + before.deliveries + before.attempts,
    unit: 'rows',
    text: `${fmt(before.messages + before.deliveries + before.attempts)} rows, ${fmt(before.bytes / 1e6)} MB`,
    note: `stored in ${fmt(seedSeconds, 1)} s with insert … select`,
    details: { ...before, seedSeconds },
  });
  const purger = createRetentionPurger(herald);
  const trace = tracePurger(purger);
  const t0 = now();
  const result = await purger.pass();
  const seconds = (now() - t0) / 1000;
  await purger.stop();
  const after = await expiredLog(herald.pool);
  const left = after.messages + after.deliveries + after.attempts;
  const purged = result.messages + result.deliveries + result.attempts;
  const label = `retention purge, one pass over that log (batches of ${BATCH_SIZE}, ${PAUSE_MS} ms pauses)`;
  const rate = (n: number) => fmt(n / seconds);
  ctx.report.add({
    key: `retention.purge.${kind}`,
    section: SECTION,
    label,
    database: kind,
    value: purged / seconds,
    unit: 'rows/s',
    text: `${rate(purged)} rows/s: ${rate(result.messages)} messages, ${rate(result.deliveries)} deliveries, ${rate(result.attempts)} attempts/s`,
    note: [`${fmt(seconds, 1)} s, ${fmt(result.batches, 0)} transactions`, left > 0 ? `${fmt(left, 0)} expired rows left` : ''].filter(Boolean).join('; '),
    details: { ...result, swept: JSON.stringify(result.swept), seconds, statements: trace.statements, left, bytesAfter: after.bytes },
  });
  const longest = longestStatements(trace);
  ctx.report.add({
    key: `retention.purge.statement.${kind}`,
    section: SECTION,
    label: `${label}: longest statement`,
    database: kind,
    value: longest[0]?.[1] ?? null,
    unit: 'ms',
    note: `${longest.slice(0, 3).map(([name, ms]) => `${name} ${fmt(ms, 1)} ms`).join(', ')}; ${fmt(trace.statements, 0)} statements`,
    details: { statements: trace.statements, ...Object.fromEntries(longest.map(([name, ms]) => [`${name} ms`, ms])) },
  });
  const batches = batchTimes(trace);
  ctx.report.add({
    key: `retention.purge.transaction.${kind}`,
    section: SECTION,
    label: `${label}: longest transaction (one batch)`,
    database: kind,
    value: batches.max,
    unit: 'ms',
    text: `${fmt(batches.max, 1)} ms (p99 ${fmt(batches.p99, 1)} ms)`,
    details: batches,
  });
}

type PhaseResult = Awaited<ReturnType<typeof deliveryPhase>>;

/** A delivery phase while the purge loop (started for it, stopped after it) works on the expired backlog. */
async function purgingPhase(ctx: BenchContext, herald: Herald, publisher: pg.Pool, appId: string, messages: number) {
  const purger = createRetentionPurger(herald, { intervalMs: DAY_MS });
  const trace = tracePurger(purger);
  purger.start();
  try {
    await until('the purge deleted nothing', 60_000, () => trace.deleted > 0);
    const deletedBefore = trace.deleted;
    const phase = await deliveryPhase(ctx, publisher, appId, messages);
    const deleted = trace.deleted - deletedBefore;
    // The pass ran out of expired rows before delivery ended: part of the phase ran without a purge.
    const endedEarly = trace.passEndedAt > 0 && trace.passEndedAt < phase.end;
    return { ...phase, deleted, endedEarly };
  } finally {
    await purger.stop();
  }
}

/** Rounds of the no-purge / purge-running pair: alternated, so a machine that gets busier weighs on both. */
const ROUNDS = 2;

/**
 * Delivery throughput without the purge and while the purge loop works on an expired backlog,
 * alternated over {@link ROUNDS} rounds; the figures are the rounds' mean.
 */
async function deliveryEffect(ctx: BenchContext, kind: DatabaseKind, herald: Herald, publisher: pg.Pool, appId: string, seed: Seeder, sz: ReturnType<typeof sizes>): Promise<void> {
  // A first phase warms the worker and the tables up, as the throughput scenario's fresh phase does.
  await deliveryPhase(ctx, publisher, appId, sz.deliveryMessages);
  await seed.seed(sz.backlog);
  const without: PhaseResult[] = [];
  const during: Awaited<ReturnType<typeof purgingPhase>>[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    without.push(await deliveryPhase(ctx, publisher, appId, sz.deliveryMessages));
    during.push(await purgingPhase(ctx, herald, publisher, appId, sz.deliveryMessages));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const seconds = (p: PhaseResult) => (p.end - p.start) / 1000;
  const label = `retention, library deliveries, ${ENDPOINTS} endpoints per message`;
  const add = (phases: PhaseResult[], key: string, name: string, notes: string[]) => {
    const late = phases.filter((p) => !p.complete).map((p) => `only ${p.arrived} of ${p.total} deliveries arrived within ${p.timeoutMs / 1000} s`);
    return ctx.report.add({
      key: `retention.delivery.${key}.${kind}`,
      section: SECTION,
      label: `${label}, ${name}`,
      database: kind,
      value: mean(phases.map((p) => p.perSecond)),
      unit: 'deliveries/s',
      rate: true,
      note: [`mean of ${phases.map((p) => fmt(p.perSecond)).join(' and ')}`, ...notes, ...late].join('; '),
      details: { messages: sz.deliveryMessages, endpoints: ENDPOINTS, rounds: phases.length, perSecond: phases.map((p) => Math.round(p.perSecond)).join(' '), seconds: mean(phases.map(seconds)) },
    });
  };
  const base = add(without, 'baseline', 'no purge', [`${fmt(sz.backlog)} expired messages stored, not purged`]);
  const deleted = during.reduce((n, p) => n + p.deleted, 0);
  const purgeRate = deleted / during.reduce((n, p) => n + seconds(p), 0);
  const early = during.filter((p) => p.endedEarly).length;
  const purging = add(during, 'purging', 'purge running', [
    `the purge deleted ${fmt(deleted)} rows meanwhile (${fmt(purgeRate)} rows/s)`,
    early > 0 ? `in ${early} of ${ROUNDS} phases the purge ran out of expired rows before the last arrival: raise BENCH_RETENTION_BACKLOG` : '',
  ].filter(Boolean));
  ctx.report.add({
    key: `retention.delivery.ratio.${kind}`,
    section: SECTION,
    label: `${label}, purge running: share of the rate without it`,
    database: kind,
    value: (purging.value! / base.value!) * 100,
    unit: '%',
    details: { without: base.value, during: purging.value, purgedRows: deleted, purgedRowsPerSecond: purgeRate, phasesPurgeEndedEarly: early },
  });
}

export async function runRetention(ctx: BenchContext): Promise<void> {
  const kind = defaultDatabase();
  const sz = sizes(ctx);
  console.log(
    `[retention] purge of ${fmt(sz.messages)} expired messages (× ${ENDPOINTS} deliveries × ${ATTEMPTS} attempts); ` +
      `then ${fmt(sz.deliveryMessages)} messages × ${ENDPOINTS} endpoints delivered without and with the purge on ${fmt(sz.backlog)} more`,
  );
  const { herald, close } = await openBenchHerald('retention', {}, kind);
  let publisher: pg.Pool | undefined;
  try {
    const app = await createApplication(herald.pool, { name: 'retention' }, new Date());
    for (let i = 0; i < ENDPOINTS; i++) {
      await createEndpoint(herald.pool, herald.secretBox, app.id, { url: `${ctx.url}/ep${i}` }, { now: new Date(), policy: herald.urlPolicy });
    }
    await herald.createWorker().start();
    publisher = new pg.Pool({ connectionString: herald.databaseUrl, max: 16 });
    // The template: a real message, delivered to the 4 endpoints, with its real rows.
    const [template] = await publishMany(publisher, app.id, [{
      eventType: 'order.paid',
      eventId: 'evt_template',
      payload: { orderId: 'ord_template', total: 4900, lines: Array.from({ length: 12 }, (_, i) => ({ sku: `sku_${i}`, quantity: i + 1, price: 990 + i, name: `Item number ${i}` })) },
    }]);
    await until('the template message was not delivered', 30_000, async () => {
      const { rows } = await herald.pool.query<{ n: number }>(`select count(*)::int as n from attempt where msg_id = $1`, [template!.id]);
      return rows[0]!.n >= ENDPOINTS;
    });
    const seed = await seeder(herald.pool, app.id, template!.id, herald.config.HERALD_RETENTION_PERIOD);
    await purgeRate(ctx, kind, herald, seed, sz.messages);
    await deliveryEffect(ctx, kind, herald, publisher, app.id, seed, sz);
  } finally {
    await publisher?.end();
    await close();
  }
}
