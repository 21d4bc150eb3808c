/** The chaos run's summary table (run.ts prints it; the test suite prints it when a check fails). */
import { WAIT_BOUND_MS, type ChaosResult } from './chaos.js';

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const n = (x: number) => x.toLocaleString('en-GB');

/** The one summary table. */
export function summary(r: ChaosResult): string {
  const refused = [...r.publish.refused].map(([k, v]) => `${k === 'error' ? 'connection errors' : k} ${n(v)}`).join(', ') || 'none';
  const modes = Object.entries(r.modes).map(([k, v]) => `${k} ${n(v)}`).join(', ');
  const rows: [string, string, string][] = [
    ['acknowledged (202 from the API)', n(r.acknowledged), ''],
    ['deliveries owed (message × subscribed endpoint)', n(r.expected), ''],
    ['delivered (a 2xx reached the endpoint)', n(r.delivered), ''],
    ['lost', n(r.lost), r.lost === 0 ? 'ok' : 'FAIL'],
    ['duplicates (extra 2xx arrivals, at least once)', `${n(r.duplicates)} over ${n(r.duplicatePairs)} deliveries`, ''],
    ['acknowledged but not stored', n(r.missingFromStore), r.missingFromStore === 0 ? 'ok' : 'FAIL'],
    ['deliveries not succeeded at the end (stuck)', n(r.notSucceeded), r.notSucceeded === 0 ? 'ok' : 'FAIL'],
    ['workers killed with SIGKILL (and restarted)', n(r.kills), ''],
    ["killed workers' in-flight deliveries attempted again", n(r.waits.retaken), r.waits.unresolved === 0 ? '' : `FAIL (${n(r.waits.unresolved)} never)`],
    ['longest wait to be attempted again after its worker died', seconds(r.waits.maxWaitMs), r.waits.maxWaitMs < WAIT_BOUND_MS ? `ok (< 60 s; lease ${seconds(r.leaseMs)})` : 'FAIL'],
    ['  of which after its lease had expired', seconds(r.waits.maxPastLeaseMs), ''],
    ['PostgreSQL restarted once, down for', seconds(r.restartMs), ''],
    ['migration applied while workers delivered', `${r.migration.applied.join(', ') || 'none'} in ${seconds(r.migration.ms)}`, r.migration.applied.length ? '' : 'FAIL'],
    ['Herald processes that crashed', n(r.crashes.length), r.crashes.length === 0 ? 'ok' : 'FAIL'],
    ['publish answers other than 202 (retried)', refused, ''],
    ['messages acknowledged only after a retry / never', `${n(r.publish.retriedToAck)} / ${n(r.publish.gaveUp)}`, ''],
    ['receiver answers', modes, ''],
    ['error log lines from Herald processes', n(r.errorLines), ''],
    ['first publish to fully drained', seconds(r.elapsedMs), ''],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const lines = rows.map(([a, b, c]) => `  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`.trimEnd());
  for (const c of r.crashes) lines.push(`  crash: ${c}`);
  if (r.waits.worst) lines.push(`  longest wait: ${r.waits.worst}`);
  for (const l of r.lostExamples) lines.push(`  lost: ${l}`);
  lines.push(`  result: ${r.ok ? 'PASS' : 'FAIL'}`);
  return lines.join('\n');
}

