/**
 * Scenario `latency`: publish-to-arrival latency through the API under open-loop load. Requests
 * arrive at a fixed rate and each is sent at its due time, whether or not earlier ones were answered
 * (a platform's traffic does not wait for Herald), over many connections, one message per request,
 * to an all-in-one `herald serve` with one endpoint. The payload carries the due time; the receiver
 * takes the arrival time (same machine, one clock). At 2,000 messages/s [target p99 < 50 ms], and at
 * 25 %, 50 % and 75 % of the end-to-end maximum the `api` scenario measured (one endpoint).
 * A message that was refused, not answered or not delivered within the wait counts as infinitely
 * late, so it cannot make a percentile look better.
 */
import { closedLoop, openLoop } from './api-load.js';
import { openHeraldApi, type HeraldApi } from './api-client.js';
import { e2eKey } from './api.js';
import { defaultDatabase, type DatabaseKind } from './databases.js';
import { PUBLISHERS } from './end-to-end.js';
import { ask, percentile, reachCount, size, type BenchContext, type ReceiverCounts } from './harness.js';
import { fmt } from './report.js';

const SECTION = 'latency';
const TARGET_RATE = 2_000;
const TARGET_P99_MS = 50;
/** Connections of the open-loop client: enough that Herald, not the client, is what requests wait for. */
const CONNECTIONS = Number(process.env.BENCH_LATENCY_CONNECTIONS ?? 512);

/** The end-to-end maximum (messages/s, one endpoint): the api scenario's, or measured here. */
async function maximum(ctx: BenchContext, kind: DatabaseKind, api: HeraldApi, appId: string): Promise<{ rate: number; from: string }> {
  const measured = ctx.report.get(e2eKey(kind, 1))?.value;
  if (measured) return { rate: measured, from: 'the api scenario' };
  // The api scenario did not run: a short closed-loop run on this Herald gives the maximum.
  await ask(ctx.rx, 'reset');
  const r = await closedLoop(api, appId, { publishers: PUBLISHERS, batch: 1, seconds: ctx.quick ? 2 : 5 });
  await reachCount(ctx.rx, r.accepted, 30_000);
  const { count, last } = await ask<ReceiverCounts>(ctx.rx, 'count');
  return { rate: count / ((last - r.start) / 1000), from: `a ${ctx.quick ? 2 : 5} s closed-loop run here (the api scenario did not run)` };
}

export async function runLatency(ctx: BenchContext): Promise<void> {
  const kind = defaultDatabase();
  const seconds = size(ctx, 'BENCH_LATENCY_SECONDS', 10, 1.5);
  const answerMs = ctx.quick ? 10_000 : 30_000;
  const drainMs = ctx.quick ? 10_000 : 30_000;
  const { api, close } = await openHeraldApi('latency', kind, 'all', CONNECTIONS);
  try {
    const appId = await api.createApp('bench-latency');
    await api.createEndpoint(appId, `${ctx.url}/latency/e0`);
    const max = await maximum(ctx, kind, api, appId);
    const shares = ctx.quick ? [0.5] : [0.25, 0.5, 0.75];
    const rates = [
      { rate: TARGET_RATE, key: 'target', label: `${fmt(TARGET_RATE)} messages/s` },
      ...shares.map((s) => {
        const rate = Math.max(1, Math.round(max.rate * s));
        return { rate, key: `share${s * 100}`, label: `${s * 100} % of the maximum (${fmt(rate)} messages/s)` };
      }),
    ].sort((a, b) => a.rate - b.rate);
    console.log(
      `[latency] open loop, ${CONNECTIONS} connections, ${seconds} s per rate; maximum ${fmt(max.rate)} messages/s from ${max.from}`,
    );
    const warm = await openLoop(api, appId, rates[0]!.rate, ctx.quick ? 0.5 : 1, answerMs);
    await reachCount(ctx.rx, warm.accepted, drainMs);
    for (const { rate, key, label } of rates) {
      await ask(ctx.rx, 'reset');
      const r = await openLoop(api, appId, rate, seconds, answerMs);
      await reachCount(ctx.rx, r.accepted, drainMs);
      const { latencies } = await ask<{ latencies: number[] }>(ctx.rx, 'stats');
      const missing = Math.max(0, r.scheduled - latencies.length);
      const all = latencies.sort((a, b) => a - b).concat(Array<number>(missing).fill(Infinity));
      const [p50, p99, worst] = [percentile(all, 50), percentile(all, 99), all.at(-1)!];
      const isTarget = key === 'target';
      const notes = [
        `${fmt(r.achieved)} messages/s achieved of ${fmt(rate)} offered`,
        r.failed > 0 ? `${r.failed} publishes refused or failed` : '',
        r.unanswered > 0 ? `${r.unanswered} not answered within ${answerMs / 1000} s` : '',
        missing > 0 ? `${missing} of ${r.scheduled} not delivered within ${drainMs / 1000} s (counted as ∞)` : '',
        r.maxLag > 50 ? `the load generator fell up to ${fmt(r.maxLag)} ms behind its schedule` : '',
      ].filter(Boolean);
      ctx.report.add({
        key: `latency.${key}.${kind}`,
        section: SECTION,
        label: `API open loop at ${label}, publish-to-arrival, 1 endpoint`,
        database: kind,
        value: p99,
        unit: 'ms',
        text: `p50 ${fmt(p50, 1)} / p99 ${fmt(p99, 1)} / max ${fmt(worst, 1)} ms`,
        ...(isTarget ? { target: { op: '<' as const, value: TARGET_P99_MS } } : {}),
        note: notes.join('; '),
        details: {
          offered: rate,
          achieved: r.achieved,
          seconds,
          scheduled: r.scheduled,
          accepted: r.accepted,
          failed: r.failed,
          unanswered: r.unanswered,
          missing,
          p50,
          p99,
          max: worst,
          maximum: max.rate,
          maxLagMs: r.maxLag,
          maximumFrom: max.from,
        },
      });
    }
  } finally {
    await close();
  }
}
