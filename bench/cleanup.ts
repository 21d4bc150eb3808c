/**
 * What the benchmark must undo however it ends: child processes it started and databases it created.
 * Each resource registers its undo step when it is created and removes it once undone. A normal end
 * runs the steps in each scenario's `finally`; Ctrl-C (SIGINT), SIGTERM or a crash runs whatever is
 * left, newest first, so no Herald, worker, postmaster or `herald_bench_*` database outlives the run.
 */
import type { ChildProcess } from 'node:child_process';

/** Undo steps still owed, newest last. */
const steps = new Map<number, { name: string; run: () => Promise<void> }>();
/** Children to SIGKILL synchronously if the process exits before their step ran. */
const children = new Set<ChildProcess>();
let nextId = 0;
let unwinding: Promise<void> | undefined;

/**
 * Registers an undo step; the returned function runs it (once) and unregisters it. Run it in the
 * owner's `finally`; it also runs on a signal or crash.
 */
export function onCleanup(name: string, run: () => Promise<void>): () => Promise<void> {
  const id = nextId++;
  let done: Promise<void> | undefined;
  const once = () => (done ??= (steps.delete(id), run()));
  steps.set(id, { name, run: once });
  return once;
}

/** Tracks a child so that even an abrupt exit of this process kills it. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Runs every step still owed, newest first; a failing step is reported and the rest still run. */
export function runAllCleanups(): Promise<void> {
  return (unwinding ??= (async () => {
    for (const [id, step] of [...steps.entries()].reverse()) {
      steps.delete(id);
      await step.run().catch((e: unknown) => console.error(`cleanup "${step.name}" failed: ${String(e)}`));
    }
  })());
}

/** Installs the signal and exit handlers (once, at start). */
export function installCleanupHandlers(): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.error(`\n${sig}: stopping Herald processes and dropping the benchmark's databases…`);
      // A second Ctrl-C while unwinding ends at once (children are still killed by the exit handler).
      process.once(sig, () => process.exit(130));
      void runAllCleanups().finally(() => process.exit(130));
    });
  }
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
}
