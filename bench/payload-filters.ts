/**
 * Part of scenario `throughput`: what payload filters cost the publish path. The same `publishMany`
 * (batches of 1,000) to three applications of 50 endpoints each: none filtered; every other one
 * with a filter half the messages match (`{"total": {"$gte": 2500}}`: fewer deliveries); every
 * other one with a filter all messages match (the same deliveries as none, so the difference is
 * the cost of evaluating the filters). Publish only, no worker: the figure is the fan-out
 * statement's, messages/s and deliveries created/s. The applications share one database and take
 * turns, two rounds each, so a busy machine weighs on all alike.
 */
import pg from 'pg';
import { createApplication } from '../src/engine/applications.js';
import { createEndpoint } from '../src/engine/endpoints.js';
import { publishMany } from '../src/engine/publish.js';
import type { DatabaseKind } from './databases.js';
import { now, openBenchHerald, size, type BenchContext } from './harness.js';
import { fmt } from './report.js';

const SECTION = 'library';
const ENDPOINTS = 50;
const PUBLISH_BATCH = 1_000;
const ROUNDS = 2;
/** Matched by every other message (their totals are 4900 and 100). */
const HALF = { total: { $gte: 2500 } };
/** Matched by every message: the same deliveries as without filters, so only evaluating them differs. */
const ALL = { total: { $gte: 0 }, 'customer.country': { $in: ['GB', 'IE'] } };

/** Publishes `messages` to `appId` and returns the seconds it took and the deliveries created. */
async function publishAll(publisher: pg.Pool, appId: string, messages: number): Promise<{ seconds: number; deliveries: number }> {
  let deliveries = 0;
  const start = now();
  for (let sent = 0; sent < messages; sent += PUBLISH_BATCH) {
    const batch = Array.from({ length: Math.min(PUBLISH_BATCH, messages - sent) }, (_, i) => ({
      eventType: 'order.paid',
      payload: { i: sent + i, orderId: `ord_${sent + i}`, total: (sent + i) % 2 === 0 ? 4900 : 100, customer: { country: 'GB' } },
    }));
    for (const m of await publishMany(publisher, appId, batch)) deliveries += m.deliveries;
  }
  return { seconds: (now() - start) / 1000, deliveries };
}

/** The two payload filter rows: 50 endpoints without filters, and with a filter on half of them. */
export async function payloadFilterFigures(ctx: BenchContext, kind: DatabaseKind): Promise<void> {
  const messages = size(ctx, 'BENCH_FILTER_MESSAGES', 4_000, 1_000);
  const { herald, close } = await openBenchHerald('filters', {}, kind);
  const publisher = new pg.Pool({ connectionString: herald.databaseUrl, max: 4 });
  try {
    const shapes = [
      { key: 'none', name: 'none filtered', filter: null },
      { key: 'half', name: `${ENDPOINTS / 2} of ${ENDPOINTS} with a payload filter half the messages match`, filter: HALF },
      { key: 'all', name: `${ENDPOINTS / 2} of ${ENDPOINTS} with a payload filter every message matches`, filter: ALL },
    ];
    const apps: { key: string; name: string; id: string }[] = [];
    for (const shape of shapes) {
      const app = await createApplication(herald.pool, { name: `filters-${shape.key}` }, new Date());
      for (let i = 0; i < ENDPOINTS; i++) {
        const payloadFilter = i % 2 === 1 ? shape.filter : null;
        await createEndpoint(herald.pool, herald.secretBox, app.id, { url: `${ctx.url}/f${i}`, payloadFilter }, { now: new Date(), policy: herald.urlPolicy });
      }
      apps.push({ key: shape.key, name: shape.name, id: app.id });
    }
    const totals = apps.map(() => ({ seconds: 0, deliveries: 0 }));
    await publishAll(publisher, apps[0]!.id, Math.min(messages, 200)); // warm-up: connections, plans
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, app] of apps.entries()) {
        const r = await publishAll(publisher, app.id, messages);
        totals[i]!.seconds += r.seconds;
        totals[i]!.deliveries += r.deliveries;
      }
    }
    const baseline = (ROUNDS * messages) / totals[0]!.seconds;
    for (const [i, app] of apps.entries()) {
      const rate = (ROUNDS * messages) / totals[i]!.seconds;
      const deliveryRate = totals[i]!.deliveries / totals[i]!.seconds;
      ctx.report.add({
        key: `library.filters.${app.key}.${kind}`,
        section: SECTION,
        label: `library, publishMany to ${ENDPOINTS} endpoints (publish only), ${app.name}`,
        database: kind,
        value: rate,
        unit: 'messages/s',
        note: [`${fmt(deliveryRate)} deliveries created/s`, i > 0 ? `${fmt((rate / baseline) * 100, 1)} % of the unfiltered rate` : ''].filter(Boolean).join('; '),
        details: { messages: ROUNDS * messages, endpoints: ENDPOINTS, filtered: app.key === 'none' ? 0 : ENDPOINTS / 2, deliveries: totals[i]!.deliveries, seconds: totals[i]!.seconds, deliveriesPerSecond: deliveryRate },
      });
    }
  } finally {
    await publisher.end();
    await close();
  }
}
