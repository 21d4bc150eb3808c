/**
 * What the benchmark reads from Linux's /proc (Herald, like the bench, is Linux-only): CPU time of a
 * process and of every PostgreSQL process, and resident memory with its high-water mark.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`; 100 on every common kernel). */
export const CLOCK_TICKS = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces and parentheses). */
function statFields(pid: number | string): { comm: string; rest: string[] } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // exited meanwhile
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  return { comm: text.slice(open + 1, close), rest: text.slice(close + 2).split(' ') };
}

/**
 * CPU seconds of a process: utime + stime, plus cutime + cstime when `withChildren` (the time of
 * children it has reaped, so a PostgreSQL backend that exits during a phase is still counted
 * through its postmaster). 0 for a process that has gone.
 */
export function cpuSecondsOf(pid: number | string, withChildren = false): number {
  const f = statFields(pid);
  if (!f) return 0;
  // After the name: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17), numbered from pid = 1.
  const at = (field: number) => Number(f.rest[field - 3]);
  const ticks = at(14) + at(15) + (withChildren ? at(16) + at(17) : 0);
  return ticks / CLOCK_TICKS;
}

/**
 * CPU seconds of every process named `postgres` on the machine (the machine's server and any
 * embedded one), reaped children included. Other PostgreSQL work on the machine counts too.
 */
export function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(entry);
    if (f?.comm === 'postgres') total += cpuSecondsOf(entry, true);
  }
  return total;
}

/** CPU seconds of Herald (the given processes, or this one) and of PostgreSQL since `start()`. */
export interface CpuWindow {
  /** Seconds of CPU used by Herald's processes (or by this process, for in-process scenarios). */
  herald: number;
  /** Seconds of CPU used by PostgreSQL processes. */
  postgres: number;
}

/** Starts a CPU window over the given Herald pids (none: this process). */
export function startCpuWindow(pids: number[] = []): { stop(): CpuWindow } {
  const heraldNow = () => {
    if (pids.length > 0) return pids.reduce((s, p) => s + cpuSecondsOf(p), 0);
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  };
  const h0 = heraldNow();
  const p0 = postgresCpuSeconds();
  return { stop: () => ({ herald: heraldNow() - h0, postgres: postgresCpuSeconds() - p0 }) };
}

/** VmRSS and VmHWM of a process, in bytes (NaN when unreadable). */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    // gone
  }
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** Samples VmRSS every 10 ms from now on, after resetting the kernel's high-water mark if allowed. */
export function watchPeak(pid: number): { stop(): number } {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // 5 = reset the peak resident set size
  } catch {
    // Not permitted here: the samples alone give the peak.
  }
  let max = memoryOf(pid).rss;
  const timer = setInterval(() => {
    const { rss } = memoryOf(pid);
    if (rss > max) max = rss;
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      const { rss, hwm } = memoryOf(pid);
      return Math.max(Number.isFinite(max) ? max : 0, Number.isFinite(rss) ? rss : 0, Number.isFinite(hwm) ? hwm : 0);
    },
  };
}

export const MIB = 1_048_576;
