/**
 * `npm run chaos`: the chaos run (chaos.ts) with a summary table. Exits 1 when anything acknowledged
 * was lost, missing or stuck, a Herald process crashed, or a killed worker's in-flight delivery waited
 * 60 s or more to be attempted again.
 *
 *   npm run chaos                      # about 2.5 minutes of publishing, then the drain
 *   npm run chaos -- --quick           # about 40 s of publishing
 *   npm run chaos -- --duration 5m --rate 80 --kill-every 3s --workers 4 --fail-share 0.5 --seed 7
 */
import { parseDuration } from '../../src/config.js';
import { installCleanupHandlers } from '../cleanup.js';
import { DEFAULT_OPTIONS, runChaos, type ChaosOptions } from './chaos.js';
import { seconds, summary } from './summary.js';

const QUICK: Partial<ChaosOptions> = { durationMs: 40_000, rate: 30, killEveryMs: 4_000 };

const USAGE = `usage: npm run chaos -- [--quick] [--duration 150s] [--rate 40] [--kill-every 5s] [--workers 3]
                        [--apps 2] [--endpoints 3] [--fail-share 0.35] [--drain 150s] [--seed 1]`;

function parseArgs(argv: string[]): ChaosOptions {
  const opts: ChaosOptions = { ...DEFAULT_OPTIONS, progress: (line) => console.log(line) };
  if (argv.includes('--quick')) Object.assign(opts, QUICK);
  const num = (flag: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min || n > max) fail(`${flag} must be a number from ${min} to ${max} (got "${v ?? ''}")`);
    return n;
  };
  const ms = (flag: string, v: string | undefined): number => {
    const d = v === undefined ? null : parseDuration(v);
    if (d === null || d <= 0) fail(`${flag} must be a duration like 90s or 3m (got "${v ?? ''}")`);
    return d;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, v] = [argv[i]!, argv[i + 1]];
    switch (flag) {
      case '--quick': continue;
      case '--duration': opts.durationMs = ms(flag, v); break;
      case '--rate': opts.rate = num(flag, v, 1, 5_000); break;
      case '--kill-every': opts.killEveryMs = ms(flag, v); break;
      case '--workers': opts.workers = num(flag, v, 1, 32); break;
      case '--apps': opts.apps = num(flag, v, 1, 100); break;
      case '--endpoints': opts.endpointsPerApp = num(flag, v, 1, 100); break;
      case '--fail-share': opts.failShare = num(flag, v, 0, 0.9); break;
      case '--drain': opts.drainTimeoutMs = ms(flag, v); break;
      case '--seed': opts.seed = num(flag, v, 0, 2 ** 31); break;
      case '--help': case '-h': console.log(USAGE); process.exit(0);
      default: fail(`unknown option ${flag}`);
    }
    i++;
  }
  return opts;
}

function fail(msg: string): never {
  console.error(`${msg}\n${USAGE}`);
  process.exit(2);
}

installCleanupHandlers();
const opts = parseArgs(process.argv.slice(2));
console.log(
  `chaos: ${seconds(opts.durationMs)} at ${opts.rate} messages/s, ${opts.workers} workers killed in turn every ${seconds(opts.killEveryMs)}, ` +
    `receivers failing ${Math.round(opts.failShare * 100)} % of requests, PostgreSQL restarted once, a migration applied mid-run`,
);
const result = await runChaos(opts);
console.log(summary(result));
process.exit(result.ok ? 0 : 1);
