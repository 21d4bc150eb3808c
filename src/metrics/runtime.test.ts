import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { RuntimeMetrics } from './runtime.js';

async function read(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values[0]!.value;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RuntimeMetrics', () => {
  it('samples the event loop until stopped, and nothing after', async () => {
    const registry = new Registry();
    const runtime = new RuntimeMetrics(registry, 'test_');
    await expect
      .poll(async () => {
        runtime.sample();
        return read(registry, 'test_nodejs_eventloop_lag_samples');
      }, { timeout: 5_000 })
      .toBeGreaterThan(0);

    runtime.stop();
    runtime.sample(); // restarts the window
    await pause(100); // ten sampling periods: a running monitor would have recorded some
    runtime.sample();
    expect(await read(registry, 'test_nodejs_eventloop_lag_samples')).toBe(0);
    expect(await read(registry, 'test_nodejs_eventloop_lag_p99_seconds')).toBe(0);
  });

  it('reports the process CPU time (user and system) and resident memory', async () => {
    const registry = new Registry();
    const runtime = new RuntimeMetrics(registry, 'test_');
    try {
      const seconds = () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      };
      const before = seconds();
      runtime.sample();
      const after = seconds();
      const reported = await read(registry, 'test_process_cpu_seconds_total');
      expect(reported).toBeGreaterThanOrEqual(before);
      expect(reported).toBeLessThanOrEqual(after);
      expect(await read(registry, 'test_process_resident_memory_bytes')).toBeGreaterThan(0);
    } finally {
      runtime.stop();
    }
  });
});
