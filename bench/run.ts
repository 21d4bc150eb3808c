/**
 * `npm run bench`: Herald's delivery figures, each beside this machine's own limit measured in the same
 * run (a bare undici loop sending the same signed requests to the same receiver).
 *
 *   throughput  durable deliveries/s (fresh database and steady state), SQL statements per 100
 *               deliveries, publish-to-arrival latency at 2,000 messages/s   (bench/throughput.ts)
 *   isolation   healthy endpoints' throughput and p99 while others hang or answer 500 (bench/isolation.ts)
 *   memory      worker RSS: one 1 MiB message to 600 slow endpoints; a large backlog (bench/memory.ts)
 *
 * All of them by default; `npm run bench -- --only isolation` (or `--only isolation,memory`) selects.
 * Each scenario gets a database of its own: a fresh one on DATABASE_URL's server, or a new embedded
 * PostgreSQL when DATABASE_URL is unset. BENCHMARKS.md describes each figure and its target.
 */
import { fork } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { bareLimit, type BenchContext } from './harness.js';
import { runIsolation } from './isolation.js';
import { runMemory } from './memory.js';
import { ENDPOINTS, MESSAGES, runThroughput } from './throughput.js';

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<void>> = {
  throughput: runThroughput,
  isolation: runIsolation,
  memory: runMemory,
};

const USAGE = `usage: npm run bench [-- --only <scenario>[,<scenario>…]]
scenarios: ${Object.keys(SCENARIOS).join(', ')} (default: all, in that order)`;

/** The scenarios named by --only (repeatable, comma-separated), in the runner's order; all by default. */
function selectedScenarios(argv: string[]): string[] {
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    const value = arg === '--only' ? argv[++i] : arg.startsWith('--only=') ? arg.slice('--only='.length) : undefined;
    if (value === undefined) {
      console.error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
      process.exit(2);
    }
    names.push(...value.split(',').map((s) => s.trim()).filter(Boolean));
  }
  const unknown = names.filter((n) => !(n in SCENARIOS));
  if (unknown.length > 0) {
    console.error(`unknown scenario ${unknown.join(', ')}\n${USAGE}`);
    process.exit(2);
  }
  return Object.keys(SCENARIOS).filter((n) => names.length === 0 || names.includes(n));
}

async function main(): Promise<void> {
  const selected = selectedScenarios(process.argv.slice(2));
  const started = Date.now();
  // From source (tsx) the receiver is a .ts file; once built it is .js. fork() inherits the loader flags.
  const rx = fork(new URL(import.meta.url.endsWith('.ts') ? './receiver.ts' : './receiver.js', import.meta.url), { stdio: 'inherit' });
  const { port } = await new Promise<{ port: number }>((r) => rx.once('message', (m) => r(m as { port: number })));
  const url = `http://127.0.0.1:${port}`;
  try {
    const sizes = selected.includes('throughput') ? `, ${MESSAGES} messages × ${ENDPOINTS} endpoints` : '';
    console.log(`Herald benchmark — ${cpus().length} CPUs${sizes}, ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded'} PostgreSQL`);
    // Other work on the machine moves every figure: the load average says how quiet it was.
    console.log(`scenarios: ${selected.join(', ')}; load average ${loadavg()[0]!.toFixed(2)} at start`);
    await bareLimit(url, 5_000); // warm-up
    const bare = await bareLimit(url, MESSAGES * ENDPOINTS);
    console.log(`bare undici limit      : ${bare.toFixed(0)} signed requests/s`);
    for (const name of selected) await SCENARIOS[name]!({ rx, url, bare, selected });
    const s = Math.round((Date.now() - started) / 1000);
    console.log(`finished in ${Math.floor(s / 60)} min ${s % 60} s; load average ${loadavg()[0]!.toFixed(2)} at the end`);
  } finally {
    rx.send({ cmd: 'exit' });
  }
}

await main();
