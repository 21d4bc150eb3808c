/**
 * The chaos run, small: messages published through a `herald serve --role api` process to receivers
 * failing a third of requests, two worker processes killed with SIGKILL (and restarted), PostgreSQL
 * restarted once, a migration applied while workers deliver. Nothing acknowledged may be lost, and a
 * killed worker's in-flight deliveries must be attempted again within a minute. It runs its own
 * PostgreSQL (it restarts it), whatever DATABASE_URL says.
 */
import { describe, expect, it } from 'vitest';
import { runChaos, WAIT_BOUND_MS } from '../../bench/chaos/chaos.js';
import { summary } from '../../bench/chaos/summary.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('chaos', () => {
  it('loses nothing acknowledged through worker kills, a PostgreSQL restart and a migration, and retries in-flight work within a minute', async () => {
    const r = await runChaos({
      durationMs: 12_000,
      rate: 15,
      killEveryMs: 5_000, // kills at 5 s and 10 s
      workers: 2,
      apps: 2,
      endpointsPerApp: 3,
      failShare: 0.35,
      restartAt: 0.55,
      migrateAt: 0.7,
      drainTimeoutMs: 70_000,
      seed: 13,
    });
    const table = summary(r);
    expect(r.acknowledged, table).toBeGreaterThan(100);
    expect(r.lost, table).toBe(0);
    expect(r.missingFromStore, table).toBe(0);
    expect(r.notSucceeded, table).toBe(0);
    expect(r.crashes, table).toEqual([]);
    expect(r.kills, table).toBe(2);
    // The kills hit work in flight, so the bound below is about something.
    expect(r.waits.retaken, table).toBeGreaterThan(0);
    expect(r.waits.unresolved, table).toBe(0);
    expect(r.waits.maxWaitMs, table).toBeLessThan(WAIT_BOUND_MS);
    expect(r.restartMs, table).toBeGreaterThan(0);
    expect(r.migration.applied, table).toHaveLength(1);
    expect(r.ok, table).toBe(true);
    expect(r.pids.filter(alive), 'Herald processes left running').toEqual([]);
  }, 150_000);
});
