/**
 * The retention purge against a real PostgreSQL, a real receiver and a fake clock: what is older
 * than the period goes and what is newer stays, an application's retentionPeriod and a message's
 * payloadRetentionHours are honoured, a pending delivery keeps its message whole, every statement
 * stays within the batch size, and only one process runs a pass at a time.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publishMany } from '../../src/engine/publish.js';
import { createRetentionPurger, RETENTION_LOCK_KEY, type RetentionOptions } from '../../src/engine/retention.js';
import { updateApplication, getApplication } from '../../src/store/applications.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

const DAY = 86_400_000;
let t: TestHerald;
let rx: Receiver;
beforeEach(async () => {
  t = await startTestHerald();
  rx = await startReceiver();
});
const purgers: ReturnType<typeof createRetentionPurger>[] = [];
/** A purge over the test Herald (stopped after the test). */
function purger(overrides: Partial<RetentionOptions> = {}) {
  const p = createRetentionPurger(t.herald, overrides);
  purgers.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(purgers.splice(0).map((p) => p.stop()));
  await rx.close();
  await t.close();
});

const count = async (sql: string, args: unknown[] = []) => Number((await t.herald.pool.query(sql, args)).rows[0].n);
const rowsOf = async (msgId: string) => ({
  message: await count('select count(*) as n from message where id = $1', [msgId]),
  deliveries: await count('select count(*) as n from delivery where msg_id = $1', [msgId]),
  attempts: await count('select count(*) as n from attempt where msg_id = $1', [msgId]),
});

/** Publishes one message now (fake clock) and returns its id. */
async function publishOne(appId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const [out] = await publishMany(t.herald.pool, appId, [{ eventType: 'order.paid', payload: { total: 1 }, ...extra }], { now: t.clock.now() });
  return out!.id;
}

/** Runs a worker until every delivery is finished (the receiver answers 200), then stops it. */
async function deliverAll(): Promise<void> {
  const worker = t.herald.createWorker();
  await worker.start();
  const deadline = Date.now() + 10_000;
  while ((await count(`select count(*) as n from delivery where state in ('pending', 'sending')`)) > 0) {
    if (Date.now() > deadline) throw new Error('deliveries did not finish');
    await new Promise((r) => setTimeout(r, 20));
  }
  await worker.stop(1_000);
}

describe('retention purge', () => {
  it('deletes messages older than the retention period with their deliveries and attempts, and keeps newer ones', async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: `${rx.url}/hook` });
    const old = await publishOne(app.id);
    t.clock.advance(60 * DAY);
    const recent = await publishOne(app.id);
    await deliverAll();
    expect(await rowsOf(old)).toEqual({ message: 1, deliveries: 1, attempts: 1 });
    t.clock.advance(31 * DAY); // old is 91 days old, recent 31: the default period is 90 days

    const r = await purger().pass();
    // (the operational event of the endpoint's creation is a message of Herald's own application, and goes too)
    expect(r).toMatchObject({ ran: true, deliveries: 1, attempts: 1 });
    expect(await rowsOf(old)).toEqual({ message: 0, deliveries: 0, attempts: 0 });
    expect(await rowsOf(recent)).toEqual({ message: 1, deliveries: 1, attempts: 1 });
  });

  it("honours an application's retentionPeriod beside the default", async () => {
    const short = await t.makeApp('short');
    const usual = await t.makeApp('usual');
    const row = (await getApplication(t.herald.pool, short.id))!;
    await updateApplication(t.herald.pool, short.id, { ...row, retentionSeconds: 7 * 86_400 }, t.clock.now());
    const a = await publishOne(short.id);
    const b = await publishOne(usual.id);
    t.clock.advance(8 * DAY);

    await purger().pass();
    expect((await rowsOf(a)).message).toBe(0);
    expect((await rowsOf(b)).message).toBe(1);
  });

  it("purges a payload after the message's payloadRetentionHours and keeps its log, marked purged", async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: `${rx.url}/hook` });
    const brief = await publishOne(app.id, { payloadRetentionHours: 2 });
    const kept = await publishOne(app.id, { payloadRetentionPeriod: 30 });
    await deliverAll();
    t.clock.advance(3 * 3_600_000);

    const r = await purger().pass();
    expect(r).toMatchObject({ payloads: 1, messages: 0 });
    const { rows } = await t.herald.pool.query(
      `select id, convert_from(payload, 'UTF8') as payload, payload_purged_at, expunged_at from message where id = any($1) order by id`,
      [[brief, kept]],
    );
    expect(rows[0]).toMatchObject({ id: brief, payload: '{}' });
    expect(rows[0].payload_purged_at).toEqual(t.clock.now());
    expect(rows[0].expunged_at).toEqual(t.clock.now()); // so every resend and replay refuses it
    expect(rows[1]).toMatchObject({ id: kept, payload: '{"total":1}', payload_purged_at: null });
    expect(await rowsOf(brief)).toEqual({ message: 1, deliveries: 1, attempts: 1 });
  });

  it('never purges a message whose delivery is still pending, and purges it once it is delivered', async () => {
    const app = await t.makeApp();
    await t.makeEndpoint(app.id, { url: `${rx.url}/hook` });
    const msg = await publishOne(app.id, { payloadRetentionHours: 1 });
    t.clock.advance(91 * DAY); // past the payload's retention and the log's: no worker ran, the delivery is pending

    const r = await purger().pass();
    expect(r).toMatchObject({ payloads: 0, deliveries: 0 });
    expect(await rowsOf(msg)).toEqual({ message: 1, deliveries: 1, attempts: 0 });
    const { rows } = await t.herald.pool.query(`select convert_from(payload, 'UTF8') as payload from message where id = $1`, [msg]);
    expect(rows[0].payload).toBe('{"total":1}');

    await deliverAll();
    expect(JSON.parse(rx.requests[0]!.body.toString())).toEqual({ total: 1 }); // sent whole, 91 days late
    await purger().pass();
    expect(await rowsOf(msg)).toEqual({ message: 0, deliveries: 0, attempts: 0 });
  });

  it('works in bounded batches: a batch size of 2 over 5 messages takes 3 rounds', async () => {
    const app = await t.makeApp();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await publishOne(app.id));
    t.clock.advance(91 * DAY);

    const r = await purger({ batchSize: 2, pauseMs: 0 }).pass();
    expect(r).toMatchObject({ messages: 5, batches: 3 });
    expect(await count('select count(*) as n from message where id = any($1)', [ids])).toBe(0);
  });

  it("bounds a message's fan-out too: 5 deliveries of one message are deleted 2 at a time", async () => {
    const app = await t.makeApp();
    for (let i = 0; i < 5; i++) await t.makeEndpoint(app.id, { url: `${rx.url}/hook/${i}` });
    const msg = await publishOne(app.id);
    await t.herald.pool.query(`update delivery set state = 'failed' where msg_id = $1`, [msg]);
    // the endpoints' creation events are messages too (Herald's own application): out of this count
    await t.herald.pool.query(`delete from message where app_id <> $1`, [app.id]);
    t.clock.advance(91 * DAY);

    const r = await purger({ batchSize: 2, pauseMs: 0 }).pass();
    // 2 + 2 deliveries in transactions of their own, then the last one with the message
    expect(r).toMatchObject({ messages: 1, deliveries: 5, batches: 3 });
    expect(await rowsOf(msg)).toEqual({ message: 0, deliveries: 0, attempts: 0 });
  });

  it('runs in one process at a time: a pass finds the lock taken and does nothing', async () => {
    const app = await t.makeApp();
    const msg = await publishOne(app.id);
    t.clock.advance(91 * DAY);
    const other = new pg.Client({ connectionString: t.herald.databaseUrl });
    await other.connect();
    try {
      await other.query('select pg_advisory_lock($1::bigint)', [RETENTION_LOCK_KEY]);
      expect(await purger().pass()).toMatchObject({ ran: false, messages: 0 });
      expect((await rowsOf(msg)).message).toBe(1);
      await other.query('select pg_advisory_unlock($1::bigint)', [RETENTION_LOCK_KEY]);
      expect(await purger().pass()).toMatchObject({ ran: true, messages: 1 });
    } finally {
      await other.end();
    }
  });
});
