/**
 * Process and event-loop figures of the Node.js process running Herald, under prom-client's default
 * metric names with the `herald_` prefix (`herald_process_cpu_seconds_total`,
 * `herald_nodejs_eventloop_lag_p99_seconds`, ...), so dashboards made for those names need only the
 * prefix.
 *
 * Herald does not call prom-client's `collectDefaultMetrics`: each call starts an event-loop delay
 * monitor and a GC observer that nothing can stop, and Herald creates a registry per instance (a
 * library user or a test suite opens many in one process) and must leave nothing running once
 * closed. The few figures an operator of a delivery service needs are read here instead, at scrape
 * time, and the one monitor that samples continuously is stopped by `stop()`.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from 'prom-client';

/** Event-loop delay sampling period, as prom-client's default. */
const EVENT_LOOP_RESOLUTION_MS = 10;

/** Event-loop delay statistics exposed, with how each is read from the histogram (nanoseconds). */
const LAG_STATS: { name: string; help: string; read: (h: IntervalHistogram) => number }[] = [
  { name: 'mean', help: 'Mean event-loop delay since the previous scrape.', read: (h) => h.mean },
  { name: 'max', help: 'Largest event-loop delay since the previous scrape.', read: (h) => h.max },
  { name: 'p50', help: 'Median event-loop delay since the previous scrape.', read: (h) => h.percentile(50) },
  { name: 'p90', help: '90th percentile of the event-loop delay since the previous scrape.', read: (h) => h.percentile(90) },
  { name: 'p99', help: '99th percentile of the event-loop delay since the previous scrape.', read: (h) => h.percentile(99) },
];

/** The runtime metrics of one registry; `sample()` before each scrape, `stop()` when the Herald closes. */
export class RuntimeMetrics {
  private readonly delay: IntervalHistogram;
  private readonly cpu: Counter;
  private cpuReported = 0;
  private readonly rss: Gauge;
  private readonly heap: Gauge;
  private readonly lagSamples: Gauge;
  private readonly lag: Gauge[];

  constructor(registry: Registry, prefix: string) {
    const registers = [registry];
    this.delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    this.delay.enable();
    this.cpu = new Counter({
      name: `${prefix}process_cpu_seconds_total`,
      help: 'User and system CPU time spent by the process, in seconds.',
      registers,
    });
    this.rss = new Gauge({ name: `${prefix}process_resident_memory_bytes`, help: 'Resident memory of the process, in bytes.', registers });
    this.heap = new Gauge({ name: `${prefix}nodejs_heap_size_used_bytes`, help: 'V8 heap in use, in bytes.', registers });
    const startTime = new Gauge({
      name: `${prefix}process_start_time_seconds`,
      help: 'Start time of the process since the Unix epoch, in seconds.',
      registers,
    });
    startTime.set(Math.round(Date.now() / 1000 - process.uptime()));
    this.lagSamples = new Gauge({
      name: `${prefix}nodejs_eventloop_lag_samples`,
      help: `Event-loop delay samples behind the lag figures (one every ${EVENT_LOOP_RESOLUTION_MS} ms at most) since the previous scrape.`,
      registers,
    });
    this.lag = LAG_STATS.map((s) => new Gauge({ name: `${prefix}nodejs_eventloop_lag_${s.name}_seconds`, help: s.help, registers }));
  }

  /** Reads the current figures into the metrics and restarts the event-loop delay window. */
  sample(): void {
    const usage = process.cpuUsage();
    const cpu = (usage.user + usage.system) / 1e6;
    if (cpu > this.cpuReported) this.cpu.inc(cpu - this.cpuReported);
    this.cpuReported = Math.max(this.cpuReported, cpu);
    this.rss.set(process.memoryUsage.rss());
    this.heap.set(process.memoryUsage().heapUsed);
    const h = this.delay;
    this.lagSamples.set(h.count);
    LAG_STATS.forEach((s, i) => this.lag[i]!.set(h.count > 0 ? s.read(h) / 1e9 : 0));
    h.reset();
  }

  /** Stops the event-loop delay monitor. */
  stop(): void {
    this.delay.disable();
  }
}
