/**
 * `npm run bench`: every figure of Herald's benchmark in one run, each with its target and PASS or
 * MISS, beside this machine's own limit measured in the same run (a bare undici loop sending the same
 * signed requests to the same receiver). At the end it prints one table, writes bench/results.json
 * and rewrites the generated section of BENCHMARKS.md (`--no-write` leaves both files alone).
 *
 *   api         herald serve in a child process, loaded through the API: publish only, end to end with
 *               1 and 50 endpoints; statements, CPU and peak RSS per phase        (bench/api.ts)
 *   throughput  Herald as a library: publishMany and an in-process worker, 4, 1 and 50 endpoints
 *               per message, fresh and steady state; latency at 2,000/s              (bench/throughput.ts)
 *   latency     open-loop publish-to-arrival latency through the API               (bench/latency.ts)
 *   scale-out   one all-in-one process against --role api + 2 × --role worker       (bench/scale-out.ts)
 *   embedded    the headline figures on the embedded PostgreSQL (with DATABASE_URL) (bench/embedded.ts)
 *   isolation   healthy endpoints' throughput and p99 while others hang or answer 500 (bench/isolation.ts)
 *   memory      worker RSS: one 1 MiB message to 600 slow endpoints; 1,000,000 pending (bench/memory.ts)
 *   retention   purge rate over an expired log of 1,000,000 attempts, its longest statement and batch;
 *               library deliveries/s without and while the purge runs                (bench/retention.ts)
 *
 * `--only api,latency` selects; `--quick` shrinks every size so the whole run takes under a minute.
 * Each scenario gets databases of its own: fresh ones on DATABASE_URL's server, or new embedded
 * PostgreSQL clusters when DATABASE_URL is unset. BENCHMARKS.md describes each figure and its target.
 */
import { execFileSync, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runApi } from './api.js';
import { installCleanupHandlers, onCleanup, runAllCleanups, trackChild } from './cleanup.js';
import { defaultDatabase, dropStaleDatabases, postgresVersion, type DatabaseKind } from './databases.js';
import { runEmbedded } from './embedded.js';
import { bareLimit, size, type BenchContext } from './harness.js';
import { runIsolation } from './isolation.js';
import { runLatency } from './latency.js';
import { runMemory } from './memory.js';
import { Report, rewriteSection, type MachineDescription, type RunDescription } from './report.js';
import { runRetention } from './retention.js';
import { runScaleOut } from './scale-out.js';
import { runThroughput } from './throughput.js';

/** A scenario, and whether --quick runs it. */
interface Scenario {
  run: (ctx: BenchContext) => Promise<void>;
  /** Why --quick leaves it out unless --only names it (then it runs, smaller). */
  quickSkip?: string;
  /** Why it does not apply to this run at all. */
  notApplicable?: () => string | undefined;
}

const SCENARIOS: Record<string, Scenario> = {
  api: { run: runApi },
  throughput: { run: runThroughput },
  latency: { run: runLatency },
  'scale-out': { run: runScaleOut, quickSkip: 'eight Herald processes to start; --only scale-out runs it' },
  embedded: {
    run: runEmbedded,
    quickSkip: 'an embedded cluster per figure; --only embedded runs it',
    notApplicable: () => (process.env.DATABASE_URL ? undefined : 'DATABASE_URL is unset, so every scenario already ran on the embedded PostgreSQL'),
  },
  isolation: { run: runIsolation },
  memory: { run: runMemory },
  retention: { run: runRetention },
};

const USAGE = `usage: npm run bench [-- [--quick] [--no-write] [--only <scenario>[,<scenario>…]]]
scenarios: ${Object.keys(SCENARIOS).join(', ')} (default: all, in that order)
  --quick     smaller sizes and shorter phases, slow scenarios skipped unless --only names them: under a minute
  --no-write  print only; leave bench/results.json and BENCHMARKS.md as they are`;

interface Options {
  selected: string[];
  /** Whether --only named the scenarios. */
  named: boolean;
  quick: boolean;
  write: boolean;
}

function parseArgs(argv: string[]): Options {
  const names: string[] = [];
  let quick = false;
  let write = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (arg === '--quick') quick = true;
    else if (arg === '--no-write') write = false;
    else {
      const value = arg === '--only' ? argv[++i] : arg.startsWith('--only=') ? arg.slice('--only='.length) : undefined;
      if (value === undefined) {
        console.error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
        process.exit(2);
      }
      names.push(...value.split(',').map((s) => s.trim()).filter(Boolean));
    }
  }
  const unknown = names.filter((n) => !(n in SCENARIOS));
  if (unknown.length > 0) {
    console.error(`unknown scenario ${unknown.join(', ')}\n${USAGE}`);
    process.exit(2);
  }
  return { selected: Object.keys(SCENARIOS).filter((n) => names.length === 0 || names.includes(n)), named: names.length > 0, quick, write };
}

const repoRoot = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '..' : '../..', import.meta.url));

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** A URL without its password. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '***';
  }
}

/** The command that reproduces this run: the settings that moved it, then npm run bench and its flags. */
function reproduceCommand(argv: string[]): string {
  const secret = /TOKEN|SECRET|PASSWORD/;
  const vars = Object.entries(process.env)
    .filter(([k]) => k === 'DATABASE_URL' || k.startsWith('BENCH_') || k.startsWith('HERALD_'))
    .map(([k, v]) => `${k}=${k === 'DATABASE_URL' ? redact(v!) : secret.test(k) ? '…' : v}`);
  return [...vars, 'npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' ');
}

async function describeMachine(kinds: DatabaseKind[]): Promise<MachineDescription> {
  const postgres: MachineDescription['postgres'] = {};
  for (const kind of kinds) postgres[kind] = await postgresVersion(kind).catch(() => 'unknown');
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus().length,
    memoryBytes: totalmem(),
    node: process.version,
    kernel: release(),
    postgres,
    databaseServer: process.env.DATABASE_URL ? redact(process.env.DATABASE_URL) : null,
  };
}

/** The receiver process, stopped at the end however the run ends. */
async function startReceiver(): Promise<{ ctx: Pick<BenchContext, 'rx' | 'url'>; stop: () => Promise<void> }> {
  // From source (tsx) the receiver is a .ts file; once built it is .js. fork() inherits the loader flags.
  const rx = fork(new URL(import.meta.url.endsWith('.ts') ? './receiver.ts' : './receiver.js', import.meta.url), { stdio: 'inherit' });
  trackChild(rx);
  const stop = onCleanup('stop the receiver', async () => {
    if (rx.exitCode !== null || rx.signalCode !== null) return;
    const exited = new Promise((r) => rx.once('exit', r));
    if (rx.connected) rx.send({ cmd: 'exit' });
    else rx.kill('SIGKILL');
    await exited;
  });
  const { port } = await new Promise<{ port: number }>((r) => rx.once('message', (m) => r(m as { port: number })));
  return { ctx: { rx, url: `http://127.0.0.1:${port}` }, stop };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { selected, named, quick, write } = parseArgs(argv);
  installCleanupHandlers();
  const startedAt = new Date();
  const load0 = loadavg()[0]!;
  const report = new Report();
  let failed = 0;
  try {
    const stale = await dropStaleDatabases();
    if (stale.length > 0) console.log(`dropped ${stale.length} database(s) left by killed bench runs: ${stale.join(', ')}`);
    const kinds: DatabaseKind[] = [defaultDatabase()];
    if (defaultDatabase() === 'machine' && selected.includes('embedded') && (!quick || named)) kinds.push('embedded');
    const machine = await describeMachine(kinds);
    console.log(
      `Herald benchmark${quick ? ' (--quick)' : ''} — ${machine.cpuCount} × ${machine.cpuModel}, ${(machine.memoryBytes / 1024 ** 3).toFixed(1)} GiB, Node ${machine.node}, ` +
        `PostgreSQL ${Object.entries(machine.postgres).map(([k, v]) => `${v} (${k})`).join(', ')}`,
    );
    // Other work on the machine moves every figure: the load average says how quiet it was.
    console.log(`scenarios: ${selected.join(', ')}; load average ${load0.toFixed(2)} at start`);
    const receiver = await startReceiver();
    const ctx: BenchContext = { ...receiver.ctx, bare: NaN, quick, report };
    await bareLimit(ctx.url, quick ? 2_000 : 5_000); // warm-up
    const bareRequests = size(ctx, 'BENCH_BARE_REQUESTS', 80_000, 10_000);
    ctx.bare = report.bare = await bareLimit(ctx.url, bareRequests);
    report.add({ key: 'bare', section: 'limit', label: 'bare undici loop, same signed requests, same receiver', database: null, value: ctx.bare, unit: 'requests/s', details: { requests: bareRequests } });
    for (const name of selected) {
      const scenario = SCENARIOS[name]!;
      const na = scenario.notApplicable?.();
      if (na) {
        console.log(`[${name}] not run: ${na}`);
        continue;
      }
      if (quick && scenario.quickSkip && !named) {
        report.skip(name, `${name}.skipped`, name, null, `--quick: ${scenario.quickSkip}`);
        continue;
      }
      const t0 = Date.now();
      try {
        await scenario.run(ctx);
        console.log(`[${name}] done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      } catch (e) {
        failed++;
        console.error(`[${name}] failed:`, e);
        report.add({ key: `${name}.error`, section: name, label: `${name} scenario`, database: null, value: null, unit: '', text: 'error', note: String(e instanceof Error ? e.message : e).split('\n')[0]! });
      }
    }
    await receiver.stop();
    const finishedAt = new Date();
    const seconds = Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000);
    const run: RunDescription = {
      command: reproduceCommand(argv),
      args: argv,
      quick,
      scenarios: selected,
      // "-dirty": tracked files differ from the commit, not counting the two files the bench itself writes.
      commit: `${git(['rev-parse', '--short', 'HEAD']) || 'unknown'}${git(['status', '--porcelain', '--untracked-files=no', '--', '.', ':!BENCHMARKS.md', ':!bench/results.json']) ? '-dirty' : ''}`,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      seconds,
      loadAverage: { start: load0, end: loadavg()[0]! },
    };
    console.log(`\nResults (bare undici limit of this run: ${Math.round(report.bare).toLocaleString('en-US')} requests/s)\n`);
    console.log(report.table());
    console.log(`\nfinished in ${Math.floor(seconds / 60)} min ${seconds % 60} s; load average ${run.loadAverage.end.toFixed(2)} at the end`);
    if (write) {
      writeFileSync(`${repoRoot}/bench/results.json`, report.json(run, machine));
      rewriteSection(`${repoRoot}/BENCHMARKS.md`, report.section(run, machine));
      console.log('wrote bench/results.json and the generated section of BENCHMARKS.md');
    }
  } finally {
    await runAllCleanups();
  }
  if (failed > 0) process.exitCode = 1;
}

await main();
