/**
 * Debounced event types on a fake clock: the quiet period, the cap under continuous changes, merging,
 * the diff against what was last sent, a restart mid-window and two flushers at once. Windows are
 * flushed by calling the flusher's pass directly, so "not yet" is as exact as "now".
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DebounceSettings } from '../../src/core/debounce.js';
import { loadConfig } from '../../src/config.js';
import { openHerald } from '../../src/engine/herald.js';
import { publish, publishEach, publishToEndpoint } from '../../src/engine/publish.js';
import { silentLogger } from '../../src/logger.js';
import { insertEventType } from '../../src/store/event-types.js';
import { getMessage } from '../../src/store/messages.js';
import { FakeClock } from '../support/fake-clock.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';

const SECOND = 1_000;
let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(async () => {
  await t.close();
});
// Each test counts the windows flushed: none may be left over from the one before.
afterEach(async () => {
  t.clock.advance(7 * 86_400 * SECOND);
  await t.herald.createDebounceFlusher().flushDue();
});

let typeSeq = 0;

/** A debounced event type with a fresh name (and settings over the defaults). */
async function debouncedType(over: Partial<DebounceSettings> = {}): Promise<string> {
  const name = `agent.compliance.t${++typeSeq}`;
  const debounce: DebounceSettings = { quietPeriodSeconds: 60, maxDelaySeconds: 600, groupBy: '/agencyId', entityKey: '/agentId', state: null, ...over };
  await insertEventType(t.herald.pool, name, { description: '', debounce }, t.clock.now());
  t.herald.publishGroup.forgetTargets();
  return name;
}

/** An application with one endpoint subscribed to everything. */
async function appWithEndpoint(): Promise<string> {
  const app = await t.makeApp();
  await t.makeEndpoint(app.id, { url: 'http://127.0.0.1:9/hook' });
  return app.id;
}

/** Consolidated messages of an application and event type, oldest first, with their payloads and delivery counts. */
async function consolidated(appId: string, eventType: string) {
  const { rows } = await t.herald.pool.query<{ id: string; payload: Buffer; consolidates: string[]; deliveries: number }>(
    `select m.id, m.payload, m.consolidates, (select count(*) from delivery d where d.msg_id = m.id)::int as deliveries
     from message m where m.app_id = $1 and m.event_type = $2 and m.consolidates is not null order by m.id`,
    [appId, eventType],
  );
  return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload.toString()) }));
}

const deliveriesOf = async (msgId: string) =>
  Number((await t.herald.pool.query('select count(*) from delivery where msg_id = $1', [msgId])).rows[0].count);

describe('quiet period', () => {
  it('keeps the window open while changes come 10 s apart, and flushes 60 s after the last one; other types go out at once', async () => {
    const appId = await appWithEndpoint();
    const type = await debouncedType();
    const flusher = t.herald.createDebounceFlusher();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      if (i > 0) t.clock.advance(10 * SECOND);
      const m = await t.herald.publish(appId, { eventType: type, payload: { agencyId: 'ag_1', agentId: 'a1', status: `s${i}` } });
      expect(m).toMatchObject({ deliveries: 0, debounceState: 'waiting' });
      ids.push(m.id);
      expect(await flusher.flushDue()).toEqual({ windows: 0, messages: 0 });
    }
    // A type that is not debounced, published in the middle of the window, is delivered at once.
    const plain = await t.herald.publish(appId, { eventType: 'order.paid', payload: { id: 1 } });
    expect(plain.deliveries).toBe(1);
    expect(await deliveriesOf(plain.id)).toBe(1);
    expect(await Promise.all(ids.map(deliveriesOf))).toEqual([0, 0, 0, 0, 0]);

    t.clock.advance(59 * SECOND);
    expect(await flusher.flushDue()).toEqual({ windows: 0, messages: 0 });
    t.clock.advance(1 * SECOND);
    expect(await flusher.flushDue()).toEqual({ windows: 1, messages: 1 });

    const [sent, ...more] = await consolidated(appId, type);
    expect(more).toEqual([]);
    expect(sent!.deliveries).toBe(1);
    expect(sent!.consolidates).toEqual(ids);
    expect(sent!.payload).toMatchObject({
      type,
      group: 'ag_1',
      entities: [{ key: 'a1', changes: { agencyId: 'ag_1', agentId: 'a1', status: 's4' } }],
      consolidates: ids,
    });
    expect(new Date(sent!.payload.window.closedAt).getTime() - new Date(sent!.payload.window.lastChangeAt).getTime()).toBe(60 * SECOND);
    expect(new Date(sent!.payload.window.lastChangeAt).getTime() - new Date(sent!.payload.window.openedAt).getTime()).toBe(40 * SECOND);
    // The log: each published message says where its change went.
    for (const id of ids) expect(await getMessage(t.herald.pool, appId, id)).toMatchObject({ debounceState: 'consolidated', consolidatedInto: sent!.id });
    expect(await flusher.flushDue()).toEqual({ windows: 0, messages: 0 });
  });
});

describe('cap', () => {
  it('flushes 10 minutes after the window opened although changes keep coming, then opens a new one', async () => {
    const appId = await appWithEndpoint();
    const type = await debouncedType();
    const flusher = t.herald.createDebounceFlusher();
    const opened = t.clock.now().getTime();
    let flushedAt: number | null = null;
    for (let i = 0; i <= 30; i++) {
      await t.herald.publish(appId, { eventType: type, payload: { agencyId: 'ag_1', agentId: 'a1', n: i } });
      t.clock.advance(30 * SECOND);
      const r = await flusher.flushDue();
      if (r.windows > 0 && flushedAt === null) flushedAt = t.clock.now().getTime();
    }
    expect(flushedAt! - opened).toBe(600 * SECOND);
    const sent = await consolidated(appId, type);
    // The first window took the changes of its 10 minutes (0 to 570 s); the next one opened at 600 s.
    expect(sent).toHaveLength(1);
    expect(sent[0]!.consolidates).toHaveLength(20);
    expect(sent[0]!.payload.entities).toEqual([{ key: 'a1', changes: { agencyId: 'ag_1', agentId: 'a1', n: 19 } }]);
    const open = await t.herald.pool.query('select messages as n from debounce_window where app_id = $1', [appId]);
    expect(open.rows).toEqual([{ n: 11 }]);
  });
});

describe('merge and diff', () => {
  it('gives each entity once with its latest state, one message per group', async () => {
    const appId = await appWithEndpoint();
    const type = await debouncedType({ state: '/compliance' });
    const flusher = t.herald.createDebounceFlusher();
    const changes = [
      ['ag_1', 'a1', { CA: 'pending' }],
      ['ag_1', 'a2', { CA: 'ok' }],
      ['ag_2', 'a3', { NY: 'ok' }],
      ['ag_1', 'a1', { CA: 'ok', NY: 'pending' }],
      ['ag_1', 'a2', { CA: 'expired' }],
    ] as const;
    for (const [agencyId, agentId, compliance] of changes) {
      await t.herald.publish(appId, { eventType: type, payload: { agencyId, agentId, compliance } });
      t.clock.advance(SECOND);
    }
    t.clock.advance(60 * SECOND);
    expect(await flusher.flushDue()).toEqual({ windows: 2, messages: 2 });
    const byGroup = Object.fromEntries((await consolidated(appId, type)).map((m) => [m.payload.group, m.payload]));
    expect(byGroup.ag_1.entities).toEqual([
      { key: 'a1', changes: { CA: 'ok', NY: 'pending' } },
      { key: 'a2', changes: { CA: 'expired' } },
    ]);
    expect(byGroup.ag_1.consolidates).toHaveLength(4);
    expect(byGroup.ag_2.entities).toEqual([{ key: 'a3', changes: { NY: 'ok' } }]);
  });

  it('sends only the fields that changed since the last message sent, leaves unchanged entities out, and sends nothing when nothing changed', async () => {
    const appId = await appWithEndpoint();
    const type = await debouncedType({ state: '/compliance' });
    const flusher = t.herald.createDebounceFlusher();
    const send = async (agentId: string, compliance: Record<string, unknown>) =>
      (await t.herald.publish(appId, { eventType: type, payload: { agencyId: 'ag_1', agentId, compliance } })).id;
    const flush = async () => {
      t.clock.advance(61 * SECOND);
      return flusher.flushDue();
    };

    await send('a1', { CA: 'ok', NY: 'pending', TX: 'ok' });
    await send('a2', { CA: 'ok' });
    expect(await flush()).toEqual({ windows: 1, messages: 1 });

    // a1: NY changed and TX went; a2 published again unchanged; a1 goes there and back within the window.
    await send('a1', { CA: 'ok', NY: 'expired', TX: 'ok' });
    await send('a2', { CA: 'ok' });
    await send('a1', { CA: 'ok', NY: 'ok' });
    expect(await flush()).toEqual({ windows: 1, messages: 1 });
    const second = (await consolidated(appId, type))[1]!;
    expect(second.payload.entities).toEqual([{ key: 'a1', changes: { NY: 'ok', TX: null } }]);
    expect(second.payload.consolidates).toHaveLength(3);

    // The diff is against what was sent, not against the previous window: a change and its undoing cancel out.
    const unchanged = [await send('a1', { CA: 'expired', NY: 'ok' }), await send('a1', { CA: 'ok', NY: 'ok' }), await send('a2', { CA: 'ok' })];
    expect(await flush()).toEqual({ windows: 1, messages: 0 });
    expect(await consolidated(appId, type)).toHaveLength(2);
    for (const id of unchanged) expect(await getMessage(t.herald.pool, appId, id)).toMatchObject({ debounceState: 'unchanged', consolidatedInto: null });
    expect((await t.herald.pool.query('select count(*)::int as n from debounce_window where app_id = $1', [appId])).rows[0].n).toBe(0);
  });

  it('merges a repeated eventId once, and refuses a payload without its keys', async () => {
    const appId = await appWithEndpoint();
    const type = await debouncedType();
    const first = await t.herald.publish(appId, { eventType: type, payload: { agencyId: 1, agentId: 2, s: 'x' }, eventId: 'evt_d1' });
    const again = await t.herald.publish(appId, { eventType: type, payload: { agencyId: 1, agentId: 2, s: 'x' }, eventId: 'evt_d1' });
    expect(again).toMatchObject({ id: first.id, duplicate: true, debounceState: 'waiting' });
    const w = await t.herald.pool.query('select messages from debounce_window where app_id = $1', [appId]);
    expect(w.rows).toEqual([{ messages: 1 }]);
    await expect(t.herald.publish(appId, { eventType: type, payload: { agentId: 2 } })).rejects.toMatchObject({
      code: 'validation',
      message: expect.stringMatching(/payload\/agencyId must be a string or a number/),
    });
  });

  it('merges a batch of one statement into its windows, the latest change of each entity winning', async () => {
    const appId = await appWithEndpoint();
    const type = await debouncedType();
    const inputs = Array.from({ length: 12 }, (_, i) => ({ eventType: type, payload: { agencyId: i % 2, agentId: i % 3, v: i } }));
    const outcomes = await publishEach(t.herald.pool, appId, [...inputs, { eventType: 'order.paid', payload: { id: 1 } }], { now: t.clock.now() });
    expect(outcomes.map((o) => o.ok && o.message.deliveries)).toEqual([...inputs.map(() => 0), 1]);
    const { rows } = await t.herald.pool.query(
      'select group_key, entities, messages as n from debounce_window where app_id = $1 order by group_key',
      [appId],
    );
    expect(rows).toEqual([
      { group_key: '0', entities: { '0': { agencyId: 0, agentId: 0, v: 6 }, '1': { agencyId: 0, agentId: 1, v: 10 }, '2': { agencyId: 0, agentId: 2, v: 8 } }, n: 6 },
      { group_key: '1', entities: { '0': { agencyId: 1, agentId: 0, v: 9 }, '1': { agencyId: 1, agentId: 1, v: 7 }, '2': { agencyId: 1, agentId: 2, v: 11 } }, n: 6 },
    ]);
  });

  it('sends a test event of a debounced type to its endpoint at once', async () => {
    const app = await t.makeApp();
    const ep = await t.makeEndpoint(app.id, { url: 'http://127.0.0.1:9/hook' });
    const type = await debouncedType();
    const m = await publishToEndpoint(t.herald.pool, app.id, ep.id, { eventType: type, payload: { example: true } }, { now: t.clock.now() });
    expect(m).toMatchObject({ deliveries: 1, debounceState: null });
  });

  it('merges within the caller\'s own transaction, and not at all when it rolls back', async () => {
    const appId = await appWithEndpoint();
    const type = await debouncedType();
    const client = await t.herald.pool.connect();
    try {
      await client.query('begin');
      await publish(client, appId, { eventType: type, payload: { agencyId: 1, agentId: 1, s: 'a' } }, { now: t.clock.now() });
      await client.query('rollback');
    } finally {
      client.release();
    }
    expect((await t.herald.pool.query('select count(*)::int as n from debounce_window where app_id = $1', [appId])).rows[0].n).toBe(0);
  });
});

describe('durability', () => {
  it('flushes a window once, with every change, after the Herald that took them closed and another opened', async () => {
    const appId = await appWithEndpoint();
    const type = await debouncedType({ groupBy: null });
    const config = loadConfig({ DATABASE_URL: t.db.url, HERALD_SECRET_KEY: t.herald.config.HERALD_SECRET_KEY!, HERALD_LOG_LEVEL: 'silent' });
    const clock = new FakeClock(t.clock.now());
    const first = await openHerald({ config, log: silentLogger, clock, skipMigrations: true });
    const ids: string[] = [];
    try {
      first.createDebounceFlusher().start();
      for (let i = 0; i < 10; i++) {
        ids.push((await first.publish(appId, { eventType: type, payload: { agentId: `a${i % 4}`, v: i } })).id);
        clock.advance(SECOND);
      }
    } finally {
      await first.close();
    }
    const later = new FakeClock(clock.now().getTime() + 60 * SECOND);
    const second = await openHerald({ config, log: silentLogger, clock: later, skipMigrations: true });
    try {
      const flushers = [second.createDebounceFlusher(), second.createDebounceFlusher()];
      const results = await Promise.all(flushers.map((f) => f.flushDue()));
      expect(results.reduce((n, r) => n + r.messages, 0)).toBe(1);
    } finally {
      await second.close();
    }
    const [sent, ...more] = await consolidated(appId, type);
    expect(more).toEqual([]);
    expect(sent!.consolidates).toEqual(ids);
    expect(sent!.payload.group).toBeNull();
    expect(sent!.payload.entities.map((e: { key: string; changes: { v: number } }) => [e.key, e.changes.v])).toEqual([
      ['a0', 8],
      ['a1', 9],
      ['a2', 6],
      ['a3', 7],
    ]);
  });

  it('never flushes a window twice with several flushers at once', async () => {
    const appId = await appWithEndpoint();
    const type = await debouncedType();
    for (let g = 0; g < 40; g++) {
      await t.herald.publish(appId, { eventType: type, payload: { agencyId: g, agentId: 1, s: 'x' } });
      await t.herald.publish(appId, { eventType: type, payload: { agencyId: g, agentId: 2, s: 'y' } });
    }
    t.clock.advance(60 * SECOND);
    const flushers = [1, 2, 3].map(() => t.herald.createDebounceFlusher({ batchSize: 3 }));
    const results = await Promise.all(flushers.map((f) => f.flushDue()));
    expect(results.reduce((n, r) => n + r.windows, 0)).toBe(40);
    const sent = await consolidated(appId, type);
    expect(sent).toHaveLength(40);
    expect(new Set(sent.map((m) => m.payload.group)).size).toBe(40);
    expect(sent.every((m) => m.deliveries === 1 && m.payload.entities.length === 2)).toBe(true);
  });

  it('loses and duplicates nothing when the process taking changes is killed with SIGKILL mid-window', async () => {
    const appId = await appWithEndpoint();
    const type = await debouncedType();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/debounce-child.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: t.db.url,
        HERALD_SECRET_KEY: t.herald.config.HERALD_SECRET_KEY!,
        HERALD_ALLOW_HTTP: 'true',
        HERALD_LOG_LEVEL: 'silent',
        APP_ID: appId,
        EVENT_TYPE: type,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acknowledged: string[] = [];
    try {
      let buffered = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const l of lines) if (l.startsWith('published ')) acknowledged.push(l.slice(10));
          if (acknowledged.length >= 200) resolve();
        });
        child.once('exit', (code) => reject(new Error(`the child exited early (${code})`)));
      });
    } finally {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    }
    // Every stored message is in the window exactly once, acknowledged or not (killed between commit and answer).
    const stored = await t.herald.pool.query<{ id: string; payload: Buffer }>(
      `select id, payload from message where app_id = $1 and event_type = $2 order by id`,
      [appId, type],
    );
    const storedIds = stored.rows.map((r) => r.id);
    expect(storedIds).toEqual(expect.arrayContaining(acknowledged));
    const open = await t.herald.pool.query('select messages from debounce_window where app_id = $1', [appId]);
    expect(open.rows).toEqual([{ messages: storedIds.length }]);
    const waiting = await t.herald.pool.query(`select count(*)::int as n from message where app_id = $1 and debounce_state = 'waiting'`, [appId]);
    expect(waiting.rows[0].n).toBe(storedIds.length);

    // The child ran on the real clock: the window is due a minute after its last change.
    const due = new Date(Date.now() + 61 * SECOND);
    if (t.clock.now() < due) t.clock.set(due);
    expect(await t.herald.createDebounceFlusher().flushDue()).toEqual({ windows: 1, messages: 1 });
    const [sent, ...more] = await consolidated(appId, type);
    expect(more).toEqual([]);
    expect([...sent!.consolidates].sort()).toEqual(storedIds);
    const latest = new Map<string, number>();
    for (const r of stored.rows) {
      const p = JSON.parse(r.payload.toString()) as { agentId: string; v: number };
      latest.set(p.agentId, p.v);
    }
    expect(sent!.payload.entities.map((e: { key: string; changes: { v: number } }) => [e.key, e.changes.v])).toEqual([...latest].sort());
  });
});
