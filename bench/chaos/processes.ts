/**
 * The Herald processes of a chaos run: one `herald serve --role api` (the publishers' front door) and
 * the worker processes (worker-child.ts) that the run kills with SIGKILL and starts again. Each is
 * spawned from the built files (`npm run chaos`) or from source through tsx (the test suite).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanup, trackChild } from '../cleanup.js';

/** How long a process may take to be ready. */
const START_TIMEOUT_MS = 60_000;
/** Output kept per process for error messages. */
const OUTPUT_TAIL = 8_192;

/** A Herald process of the run. */
export interface ChaosProcess {
  /** What it is, for messages: "api", "worker 2". */
  name: string;
  pid: number;
  /** Log lines at error level or worse it printed (pino level >= 50). */
  errorLines(): number;
  /** The last lines it printed. */
  output(): string;
  /** How it exited ("signal SIGKILL", "code 1"), or null while it runs. */
  exited(): string | null;
  /** Resolves when it has exited. */
  whenExited: Promise<void>;
  /** SIGKILL, as a crash or the OOM killer would; resolves once it is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (drain), SIGKILL after 15 s. */
  stop(): Promise<void>;
}

/** `node file.js`, or `node --import tsx file.ts` when the run itself runs from source. */
function nodeArgs(relative: string): string[] {
  const fromSource = import.meta.url.endsWith('.ts');
  const file = fileURLToPath(new URL(`${relative}.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  return fromSource ? ['--import', 'tsx', file] : [file];
}

/** The child's environment: the run's settings only, none of the caller's DATABASE_URL or HERALD_*. */
function childEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL' && !k.startsWith('HERALD_')));
  return { ...base, ...settings };
}

function spawnChild(name: string, args: string[], settings: Record<string, string>): { proc: ChaosProcess; child: ChildProcess } {
  const child = spawn(process.execPath, args, { env: childEnv(settings), stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let tail = '';
  let errors = 0;
  let partial = '';
  const keep = (chunk: Buffer) => {
    const s = chunk.toString();
    tail = (tail + s).slice(-OUTPUT_TAIL);
    const lines = (partial + s).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (/"level":(5\d|6\d)/.test(line)) errors++;
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exit: string | null = null;
  const whenExited = new Promise<void>((r) =>
    child.once('exit', (code, signal) => {
      exit = signal ? `signal ${signal}` : `code ${code}`;
      r();
    }),
  );
  const stop = onCleanup(`stop ${name} (pid ${child.pid})`, async () => {
    if (exit) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await whenExited;
    clearTimeout(t);
  });
  const proc: ChaosProcess = {
    name,
    pid: child.pid!,
    errorLines: () => errors,
    output: () => tail,
    exited: () => exit,
    whenExited,
    async kill9() {
      if (!exit) child.kill('SIGKILL');
      await whenExited;
      await stop(); // nothing left to do; unregisters the cleanup step
    },
    stop,
  };
  return { proc, child };
}

/** Starts a chaos worker and resolves once it said "ready". */
export async function startWorker(name: string, settings: Record<string, string>): Promise<ChaosProcess> {
  const { proc, child } = spawnChild(name, nodeArgs('./worker-child'), settings);
  const ready = new Promise<void>((resolve) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-64);
      if (/(^|\n)ready\n/.test(seen)) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
  });
  await waitFor(proc, ready);
  return proc;
}

/** Starts `herald serve --role api` on `port` and resolves once its health check answers 200. */
export async function startApi(port: number, settings: Record<string, string>): Promise<ChaosProcess> {
  const { proc } = spawnChild('api', [...nodeArgs('../../src/cli/main'), 'serve', '--role', 'api'], {
    ...settings,
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: String(port),
  });
  const ready = (async () => {
    while (!proc.exited()) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/health`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
  })();
  await waitFor(proc, ready);
  return proc;
}

async function waitFor(proc: ChaosProcess, ready: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    proc.whenExited.then(() => 'exited' as const),
    new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), START_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (outcome === 'ready' && !proc.exited()) return;
  await proc.kill9();
  throw new Error(`${proc.name} ${outcome !== 'timeout' ? `exited (${proc.exited()})` : `was not ready within ${START_TIMEOUT_MS / 1000} s`} before it was ready:\n${proc.output()}`);
}
