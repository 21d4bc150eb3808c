/**
 * Scenario `api`: Herald measured from the outside, as a user runs it: `herald serve` in a child
 * process, loaded through POST /api/v1/app/{app}/msg by 64 closed-loop clients in the bench process.
 *
 *  - publish only (`--role api`, no worker): accepted messages/s, single and batch (100 per request);
 *  - end to end (`--role all`), 1 endpoint: messages/s from the first publish to the last arrival at
 *    the receiver [target ≥ 6,000]; with 50 endpoints per message: deliveries/s;
 *  - for each: SQL statements per 100 deliveries (Herald's GET /metrics counter, when it has one), CPU
 *    per delivery (Herald's process and every postgres process), Herald's peak RSS.
 */
import { closedLoop } from './api-load.js';
import { openHeraldApi } from './api-client.js';
import { defaultDatabase, type DatabaseKind } from './databases.js';
import { endToEnd, PUBLISHERS, shortfall, type EndToEndOptions } from './end-to-end.js';
import { ask, size, type BenchContext } from './harness.js';
import { startCpuWindow } from './proc-stats.js';
import { addResourceFigures, fmt } from './report.js';

const SECTION = 'API';
/** Messages per batch request. */
const BATCH = Number(process.env.BENCH_API_BATCH ?? 100);
/** The end-to-end target, messages/s through the API with one endpoint. */
export const E2E_TARGET = 6_000;

/** Key of the end-to-end figure with one endpoint on a database (read by the latency scenario). */
export const e2eKey = (kind: DatabaseKind, endpoints = 1) => `api.e2e.${endpoints}.${kind}`;

/** Publish only: no worker runs, so this is the front door alone. Single requests, then batches. */
async function publishOnly(ctx: BenchContext, kind: DatabaseKind): Promise<void> {
  const seconds = size(ctx, 'BENCH_API_SECONDS', 10, 1.5);
  const { herald, api, close } = await openHeraldApi('publish', kind, 'api', PUBLISHERS);
  try {
    const appId = await api.createApp('bench-publish');
    // One endpoint, so each message creates its delivery row, as in real use; nothing delivers it.
    await api.createEndpoint(appId, `${ctx.url}/publish-only`);
    await closedLoop(api, appId, { publishers: PUBLISHERS, batch: 1, messages: ctx.quick ? 64 : 256, seconds: 20 }); // warm-up
    for (const batch of [1, BATCH]) {
      const what = batch === 1 ? 'single POST …/msg' : `batches of ${batch}, POST …/msg/batch`;
      const statements0 = await api.statements();
      const cpu = startCpuWindow([herald.pid]);
      const r = await closedLoop(api, appId, { publishers: PUBLISHERS, batch, seconds });
      const used = cpu.stop();
      const statements1 = await api.statements();
      const rate = r.accepted / ((r.end - r.start) / 1000);
      const key = `api.publish.${batch === 1 ? 'single' : 'batch'}.${kind}`;
      const label = `API publish only (--role api), ${what}, ${PUBLISHERS} clients`;
      ctx.report.add({
        key,
        section: SECTION,
        label,
        database: kind,
        value: rate,
        unit: 'messages/s',
        rate: true,
        ...(r.failed > 0 ? { note: `${r.failed} messages refused or failed` } : {}),
        details: { accepted: r.accepted, failed: r.failed, requests: r.requests, seconds: (r.end - r.start) / 1000, batch },
      });
      const statements = statements0 === null || statements1 === null ? null : statements1 - statements0;
      const us = (s: number) => (s * 1e6) / Math.max(1, r.accepted);
      ctx.report.add({
        key: `${key}.cost`,
        section: SECTION,
        label: `${label}: CPU and statements per message`,
        database: kind,
        value: us(used.herald) + us(used.postgres),
        unit: 'µs/message',
        text:
          `${fmt(us(used.herald) + us(used.postgres), 0)} µs CPU (Herald ${fmt(us(used.herald), 0)} + PostgreSQL ${fmt(us(used.postgres), 0)}); ` +
          `${statements === null ? 'statements n/a' : `${fmt((statements / Math.max(1, r.accepted)) * 100, 1)} statements per 100`}`,
        ...(statements === null ? { note: 'no herald_db_statements_total at GET /metrics' } : {}),
        details: { heraldCpuSeconds: used.herald, postgresCpuSeconds: used.postgres, statements, messages: r.accepted },
      });
    }
    ctx.report.add({
      key: `api.publish.rss.${kind}`,
      section: SECTION,
      label: 'API publish only: Herald peak RSS',
      database: kind,
      value: herald.peakRss() / 1e6,
      unit: 'MB',
      target: { op: '<', value: 300 },
      details: { bytes: herald.peakRss() },
    });
  } finally {
    await close();
  }
}

/** End to end through the API with `endpoints` per message on an all-in-one Herald, with its figures. */
export async function endToEndFigures(ctx: BenchContext, kind: DatabaseKind, endpoints: number): Promise<void> {
  const o: EndToEndOptions = {
    kind,
    topology: 'all-in-one',
    endpoints,
    messages: endpoints === 1 ? size(ctx, 'BENCH_API_MESSAGES', 20_000, 1_000) : size(ctx, 'BENCH_API_FANOUT_MESSAGES', 2_000, 2_000),
    publishSeconds: ctx.quick ? 15 : 90,
    drainMs: ctx.quick ? 15_000 : 60_000,
  };
  await ask(ctx.rx, 'reset');
  const r = await endToEnd(ctx, `e2e${endpoints}`, o);
  const base = {
    key: e2eKey(kind, endpoints),
    section: SECTION,
    label: `API end to end (--role all), ${endpoints} endpoint${endpoints === 1 ? '' : 's'} per message`,
    database: kind,
  };
  const note = shortfall(r, o);
  const details = {
    messages: r.published.accepted,
    deliveries: r.arrived,
    expected: r.expected,
    seconds: r.seconds,
    messagesPerSecond: r.messagesPerSecond,
    deliveriesPerSecond: r.deliveriesPerSecond,
    publishPerSecond: r.publishPerSecond,
    failedPublishes: r.published.failed,
  };
  const published = `published at ${fmt(r.publishPerSecond)} messages/s`;
  if (endpoints === 1) {
    ctx.report.add({ ...base, value: r.messagesPerSecond, unit: 'messages/s', rate: true, target: { op: '>=', value: E2E_TARGET }, note: [published, note].filter(Boolean).join('; '), details });
  } else {
    ctx.report.add({
      ...base,
      value: r.deliveriesPerSecond,
      unit: 'deliveries/s',
      rate: true,
      note: [`${fmt(r.messagesPerSecond)} messages/s delivered`, published, note].filter(Boolean).join('; '),
      details,
    });
  }
  addResourceFigures(ctx.report, base, r.resources);
}

export async function runApi(ctx: BenchContext): Promise<void> {
  const kind = defaultDatabase();
  console.log(`[api] herald serve in a child process, ${PUBLISHERS} closed-loop clients publishing through the API`);
  await publishOnly(ctx, kind);
  await endToEndFigures(ctx, kind, 1);
  if (ctx.quick) ctx.report.skip(SECTION, e2eKey(kind, 50), 'API end to end (--role all), 50 endpoints per message', kind, '--quick');
  else await endToEndFigures(ctx, kind, 50);
}
