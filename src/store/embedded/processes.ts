/**
 * Small process utilities for the embedded PostgreSQL: liveness that is not fooled by zombies or reused
 * pids, and running a short command as another OS user. Linux details come from /proc; where /proc is
 * missing the answers degrade to "unknown" (null) and callers fall back to PostgreSQL's own checks.
 */
import { spawn } from 'node:child_process';
import { readFile, readlink, readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** An OS identity to run a child process as (only used when Herald runs as root). */
export interface RunAs {
  /** User name, for messages. */
  name: string;
  /** Numeric user id. */
  uid: number;
  /** Numeric primary group id. */
  gid: number;
}

/** Fields of /proc/<pid>/stat after the command name; null without /proc. */
async function procStat(pid: number): Promise<string[] | null> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** True if `pid` is a running process; a zombie (exited, not yet reaped) counts as gone. */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const state = (await procStat(pid))?.[0];
  return state !== 'Z' && state !== 'X';
}

/**
 * The process's start time (clock ticks since boot, field 22 of /proc/<pid>/stat), or null. A pid plus
 * its start time identifies a process across pid reuse, e.g. Herald as pid 1 in a restarted container.
 */
export async function processStartTime(pid: number): Promise<string | null> {
  return (await procStat(pid))?.[19] ?? null;
}

/** The process's working directory, or null when it cannot be read (no /proc, or not permitted). */
export async function processCwd(pid: number): Promise<string | null> {
  try {
    return await readlink(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

/** Pids of live processes whose working directory is `dir` (PostgreSQL processes chdir to PGDATA). */
export async function processesInDir(dir: string): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const pids = entries.filter((e) => /^\d+$/.test(e)).map(Number);
  const found: number[] = [];
  for (const pid of pids) {
    if ((await processCwd(pid)) === dir && (await isAlive(pid))) found.push(pid);
  }
  return found;
}

/** Polls until `pid` is gone; false if it is still alive after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Outcome of {@link run}. */
export interface RunResult {
  /** Exit code; null if killed by a signal or never started. */
  code: number | null;
  /** stdout and stderr interleaved, or the spawn error's message. */
  output: string;
}

/**
 * Runs a short command to completion, as `runAs` when given, with a minimal environment (no PG* variables
 * from the caller leak in, and LC_ALL=C keeps messages in English so the log can be read by anyone).
 */
export function run(command: string, args: string[], runAs: RunAs | null): Promise<RunResult> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, {
      cwd: '/', // the OS user may not be allowed into our working directory
      env: { LC_ALL: 'C', PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    });
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('error', (e) => resolve({ code: null, output: `${output}${e.message}` }));
    child.on('close', (code) => resolve({ code, output }));
  });
}
