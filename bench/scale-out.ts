/**
 * Scenario `scale-out`: the same end-to-end load through the API (64 closed-loop clients, single
 * messages) against one all-in-one `herald serve`, then against one `--role api` process and two
 * `--role worker` processes on one database; with 1 endpoint per message, then 4. On one machine the
 * processes share its cores with PostgreSQL, the receiver and the load, so this shows what splitting
 * the roles costs or gains here, not what more machines would give.
 */
import { defaultDatabase } from './databases.js';
import { endToEnd, shortfall, type EndToEndOptions, type Topology } from './end-to-end.js';
import { size, type BenchContext } from './harness.js';
import { addResourceFigures, fmt } from './report.js';

const SECTION = 'scale-out';

export async function runScaleOut(ctx: BenchContext): Promise<void> {
  const kind = defaultDatabase();
  console.log('[scale-out] all-in-one herald serve against --role api plus 2 × --role worker, one database');
  for (const endpoints of ctx.quick ? [1] : [1, 4]) {
    const rates: Partial<Record<Topology, number>> = {};
    for (const topology of ['all-in-one', 'scale-out'] as const) {
      const o: EndToEndOptions = {
        kind,
        topology,
        endpoints,
        messages: size(ctx, 'BENCH_API_MESSAGES', 20_000, 1_000) / (endpoints === 1 ? 1 : 2),
        publishSeconds: ctx.quick ? 15 : 90,
        drainMs: ctx.quick ? 15_000 : 60_000,
        // Several processes use one database, so the bench starts the embedded PostgreSQL itself
        // (both layouts, so that they differ only in the processes).
        sharedDatabase: true,
      };
      const r = await endToEnd(ctx, `${topology}${endpoints}`, o);
      rates[topology] = r.deliveriesPerSecond;
      const base = {
        key: `scaleout.${topology}.${endpoints}.${kind}`,
        section: SECTION,
        label: `${topology === 'all-in-one' ? 'one herald serve --role all' : 'herald --role api + 2 × --role worker'}, ${endpoints} endpoint${endpoints === 1 ? '' : 's'}`,
        database: kind,
      };
      const note = [
        endpoints > 1 ? `${fmt(r.messagesPerSecond)} messages/s delivered` : '',
        `published at ${fmt(r.publishPerSecond)} messages/s`,
        shortfall(r, o),
      ].filter(Boolean).join('; ');
      ctx.report.add({
        ...base,
        value: r.deliveriesPerSecond,
        unit: 'deliveries/s',
        rate: true,
        note,
        details: { messages: r.published.accepted, deliveries: r.arrived, expected: r.expected, seconds: r.seconds, publishPerSecond: r.publishPerSecond },
      });
      addResourceFigures(ctx.report, base, r.resources);
    }
    ctx.report.add({
      key: `scaleout.ratio.${endpoints}.${kind}`,
      section: SECTION,
      label: `scale-out / all-in-one, ${endpoints} endpoint${endpoints === 1 ? '' : 's'}`,
      database: kind,
      value: (rates['scale-out']! / rates['all-in-one']!) * 100,
      unit: '%',
    });
  }
}
