/**
 * Runs the CLI from source as a child process (`node --import tsx src/cli/main.ts ...`), the way a user
 * or a script would, with a clean environment so the developer's HERALD_* variables never leak in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Project root, where `tsx` resolves from. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = 'src/cli/main.ts';

/** A TCP port on 127.0.0.1 that was free a moment ago, for a `herald serve` child to listen on. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** What a finished command produced. */
export interface CliResult {
  /** Exit code. */
  code: number | null;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** Environment of every child: only what node needs, plus `env`. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, NODE_OPTIONS: '', ...env };
}

/** Runs `herald <args>` to completion. `input` is written to its stdin. */
export function runCli(args: string[], opts: { env?: Record<string, string>; input?: string | Buffer } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: childEnv(opts.env ?? {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** A long-running command (`listen`). */
export interface CliProcess {
  /** The child. */
  child: ChildProcess;
  /** stdout so far. */
  readonly stdout: string;
  /** stderr so far. */
  readonly stderr: string;
  /** Resolves once stdout (or stderr) matches `pattern`; rejects if the process exits first. */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr'): Promise<RegExpMatchArray>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `herald <args>` and returns at once. Stop it in afterEach. */
export function startCli(args: string[], opts: { env?: Record<string, string> } = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: childEnv(opts.env ?? {}) });
  const out = { stdout: '', stderr: '' };
  const waiters = new Set<() => void>();
  let exited: number | null | undefined;
  const exitedPromise = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      exited = code;
      for (const w of waiters) w();
      resolve(code);
    }),
  );
  child.stdout!.on('data', (d: Buffer) => {
    out.stdout += d.toString('utf8');
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out.stderr += d.toString('utf8');
    for (const w of waiters) w();
  });
  return {
    child,
    get stdout() {
      return out.stdout;
    },
    get stderr() {
      return out.stderr;
    },
    waitFor(pattern, stream = 'stdout') {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out[stream].match(pattern);
          if (m) {
            waiters.delete(check);
            resolve(m);
          } else if (exited !== undefined) {
            waiters.delete(check);
            reject(new Error(`herald ${args[0]} exited (${exited}) before printing ${pattern}:\n${out.stdout}\n${out.stderr}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGINT') {
      if (exited === undefined) child.kill(signal);
      return exitedPromise;
    },
  };
}
