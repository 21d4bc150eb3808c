/**
 * Herald's configuration: one schema over environment variables and CLI flags, parsed once at start.
 * Nothing else in `src/` reads `process.env`. A malformed value stops the process with a message that
 * says how to fix it; a value is never silently replaced by its default.
 */
import { z } from 'zod';
import { parseCidrList } from './delivery/address-policy.js';
import { MAX_OPERATOR_ADDRESSES, parseAddressList, parseMailbox } from './alerts/addresses.js';
import { connectionStringProblem, redactConnectionString } from './store/connection-string.js';
import { parseAllowedHost, type AllowedHost } from './core/public-url.js';

/** Parses "15s", "5m", "2h", "1d", "250ms" or a bare number of milliseconds. */
export function parseDuration(raw: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(raw);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'ms').toLowerCase();
  const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit] ?? 1;
  return Math.round(n * factor);
}

/** Parses "1048576", "512KiB", "1MiB", "1MB" into bytes. */
export function parseBytes(raw: string): number | null {
  const m = /^\s*(\d+)\s*(b|kb|kib|mb|mib)?\s*$/i.exec(raw);
  if (!m) return null;
  const unit = (m[2] ?? 'b').toLowerCase();
  const factor = { b: 1, kb: 1_000, kib: 1_024, mb: 1_000_000, mib: 1_048_576 }[unit] ?? 1;
  return Number(m[1]) * factor;
}

const booleanString = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v), {
    message: 'must be one of true, false, 1, 0, yes, no',
  })
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const duration = (hint: string) =>
  z.string().transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `must be a duration such as ${hint} (units: ms, s, m, h, d)` });
      return z.NEVER;
    }
    return ms;
  });

const bytes = z.string().transform((v, ctx) => {
  const n = parseBytes(v);
  if (n === null || n <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a size such as 1048576, 512KiB or 1MiB' });
    return z.NEVER;
  }
  return n;
});

const intInRange = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be between ${min} and ${max}`);

const cidrList = z.string().transform((v, ctx) => {
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  try {
    // The same parser the delivery client uses, so a value that starts is a value that works.
    parseCidrList(items);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
  return items;
});

const scheduleList = z.string().transform((v, ctx) => {
  const out: number[] = [];
  for (const part of v.split(',')) {
    const ms = parseDuration(part);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `"${part.trim()}" is not a duration; write e.g. 0,5s,5m,30m,2h` });
      return z.NEVER;
    }
    out.push(ms);
  }
  if (out.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'needs at least one entry (the first attempt)' });
    return z.NEVER;
  }
  return out;
});

/** An smtp:// or smtps:// URL; its credentials are never echoed (see SECRET_SETTINGS). */
const smtpUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return (u.protocol === 'smtp:' || u.protocol === 'smtps:') && u.hostname !== '';
  } catch {
    return false;
  }
}, 'must be a URL such as smtps://user:password@smtp.example.com:465 or smtp://smtp.example.com:587 (percent-encode special characters in the password)');

const mailbox = z.string().transform((v, ctx) => {
  if (parseMailbox(v) === null) {
    ctx.addIssue({ code: 'custom', message: 'must be an email address, optionally with a name: alerts@example.com or "Herald <alerts@example.com>"' });
    return z.NEVER;
  }
  return v.trim();
});

const addressList = z.string().transform((v, ctx) => {
  const parsed = parseAddressList(v);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: `"${parsed.bad}" is not an email address; write e.g. ops@example.com,oncall@example.com` });
    return z.NEVER;
  }
  if (parsed.addresses.length > MAX_OPERATOR_ADDRESSES) {
    ctx.addIssue({ code: 'custom', message: `at most ${MAX_OPERATOR_ADDRESSES} addresses; use a mailing list for more` });
    return z.NEVER;
  }
  return parsed.addresses;
});

/**
 * Every setting, keyed by its environment variable. Each field has a description (shown in the
 * README's configuration table and in `herald serve --help`) and a default, or is optional.
 */
export const ConfigSchema = z.object({
  DATABASE_URL: z
    .string()
    .superRefine((v, ctx) => {
      // Parsed the way pg will, so a malformed string stops here naming this setting (never its password).
      const problem = connectionStringProblem(v);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .describe('PostgreSQL connection string. When unset, Herald runs an embedded PostgreSQL in HERALD_DATA_DIR.'),
  HERALD_DATA_DIR: z
    .string()
    .min(1)
    .default('./.herald')
    .describe('Directory for the embedded PostgreSQL and the generated secret key.'),
  HERALD_PORT: intInRange(0, 65535).default(8080).describe('HTTP port of the API and dashboard.'),
  HERALD_HOST: z.string().min(1).default('127.0.0.1').describe('Address the HTTP server listens on.'),
  HERALD_SECRET_KEY: z
    .string()
    .optional()
    .describe(
      'Key that encrypts endpoint secrets at rest (32 bytes, base64 or hex; `openssl rand -base64 32`). Comma-separate several to rotate: the first encrypts, all decrypt. Required with DATABASE_URL.',
    ),
  HERALD_ALLOW_HTTP: booleanString.default(false).describe('Allow plain http: endpoint URLs.'),
  HERALD_ALLOWED_NETWORKS: cidrList
    .default([])
    .describe('Comma-separated CIDRs that endpoints may reach although they are private (e.g. 10.0.0.0/8).'),
  HERALD_MAX_PAYLOAD_BYTES: bytes.default(1_048_576).describe('Largest accepted message payload.'),
  HERALD_SCHEMA_ENFORCEMENT: booleanString
    .default(true)
    .describe("Refuse (422) a published payload that does not match its event type's JSON Schema; false accepts every payload."),
  HERALD_REQUEST_TIMEOUT: duration('15s')
    .default(15_000)
    .describe('Hard deadline of one delivery attempt: connect, TLS, headers and body.'),
  HERALD_RETRY_SCHEDULE: scheduleList
    .default([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000])
    .describe('Delay before each attempt, comma-separated; its length is the number of attempts.'),
  HERALD_RETRY_JITTER: z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'must be a fraction between 0 and 1, e.g. 0.2')
    .transform(Number)
    .default(0.2)
    .describe('Random spread applied to each retry delay (0.2 = ±20 %).'),
  HERALD_AUTO_DISABLE_FAILURES: intInRange(1, 1_000_000)
    .default(10)
    .describe('Failed attempts in a row after which an endpoint is disabled…'),
  HERALD_AUTO_DISABLE_AFTER: duration('1h').default(3_600_000).describe('…provided the failures span at least this long.'),
  HERALD_WORKER_CONCURRENCY: intInRange(1, 100_000)
    .default(512)
    .describe('Requests one worker process keeps in flight at most.'),
  HERALD_ENDPOINT_MAX_IN_FLIGHT: intInRange(1, 10_000)
    .default(64)
    .describe('Requests in flight to one endpoint at most, across all workers (applications and endpoints may override it).'),
  HERALD_MAX_IN_FLIGHT_LIMIT: intInRange(1, 10_000)
    .default(256)
    .describe('Largest in-flight cap an application or endpoint may ask for.'),
  HERALD_MAX_REQUEST_TIMEOUT: duration('60s')
    .default(60_000)
    .describe('Longest per-attempt timeout an application or endpoint may ask for.'),
  HERALD_MAX_RETRY_ATTEMPTS: intInRange(1, 100)
    .default(20)
    .describe('Most attempts a retry schedule of an application or endpoint may have.'),
  HERALD_MAX_RETRY_DELAY: duration('3d')
    .default(3 * 86_400_000)
    .describe('Longest single delay a retry schedule of an application or endpoint may have.'),
  HERALD_MAX_ENDPOINTS_PER_APP: intInRange(0, 1_000_000)
    .default(100)
    .describe('Most endpoints one application may have; creating one more is a 422 naming this setting. 0 = no limit.'),
  HERALD_MAX_API_KEYS_PER_APP: intInRange(0, 1_000_000)
    .default(50)
    .describe('Most live (unrevoked) API keys scoped to one application; creating one more is a 422 naming this setting. 0 = no limit.'),
  HERALD_MAX_GLOBAL_API_KEYS: intInRange(0, 1_000_000)
    .default(50)
    .describe('Most live global (unscoped) API keys; creating one more is a 422 naming this setting. 0 = no limit.'),
  HERALD_MAX_PORTAL_TOKENS_PER_APP: intInRange(0, 1_000_000)
    .default(1000)
    .describe('Most live (unexpired, unrevoked) customer-portal tokens of one application; asking for one more portal link is a 422 naming this setting (expire-all frees slots at once). 0 = no limit.'),
  HERALD_MAX_CUSTOM_HEADERS: intInRange(0, 1_000)
    .default(32)
    .describe('Most custom headers one endpoint may have (each is sent with every delivery).'),
  HERALD_MAX_CUSTOM_HEADER_NAME: intInRange(1, 8_192)
    .default(256)
    .describe('Longest custom header name, in characters.'),
  HERALD_MAX_CUSTOM_HEADER_VALUE: intInRange(1, 65_536)
    .default(4096)
    .describe('Longest custom header value, in characters (bytes on the wire).'),
  HERALD_MAX_CUSTOM_HEADER_BYTES: bytes
    .default(8192)
    .describe("Most bytes an endpoint's custom headers take in all (each `name: value` line), so receivers accept the request head (Node's default limit for all headers is 16 KiB)."),
  HERALD_ALERT_FAILING_AFTER: intInRange(0, 1_000)
    .default(4)
    .describe('Failed attempts of one delivery after which message.attempt.failing is raised (alerts, operational webhooks) while retries remain; 0 = never.'),
  HERALD_BREAKER_FAILURES: intInRange(0, 1_000_000)
    .default(5)
    .describe('Failed attempts in a row after which an endpoint\'s circuit breaker opens (one probe at a time until it answers); 0 = never.'),
  HERALD_BREAKER_BACKOFF: duration('5s')
    .default(5_000)
    .describe('How long an open breaker waits before its first probe; doubles with each failed probe…'),
  HERALD_BREAKER_BACKOFF_MAX: duration('5m')
    .default(300_000)
    .describe('…up to this.'),
  HERALD_POLL_INTERVAL: duration('1s')
    .default(1_000)
    .describe('How often workers look for due deliveries when no notification arrives.'),
  HERALD_ADMIN_TOKEN: z
    .string()
    .min(24, 'must be at least 24 characters; generate one with `openssl rand -hex 32`')
    .optional()
    .describe('Operator bearer token. When unset, the first start generates one, prints it once and stores only its hash.'),
  HERALD_ALLOW_SECRET_READ: booleanString
    .default(true)
    .describe('Whether endpoint secrets can be read after creation (needs the update permission). false = shown once, never again.'),
  HERALD_PUBLIC_URL: z
    .string()
    .url('must be an absolute URL such as https://hooks.example.com')
    .optional()
    .describe('Public base URL of this Herald, used in customer portal links. When unset, links use the request\'s Host only if it is loopback or in HERALD_ALLOWED_HOSTS.'),
  HERALD_ALLOWED_HOSTS: z
    .string()
    .transform((v, ctx): AllowedHost[] => {
      const entries = v.split(/[\s,]+/).filter(Boolean);
      const bad = entries.filter((e) => parseAllowedHost(e) === null);
      if (bad.length) {
        ctx.addIssue({ code: 'custom', message: `not a host, host:port or https://host[:port]: ${bad.map((b) => JSON.stringify(b.slice(0, 64))).join(', ')}` });
        return z.NEVER;
      }
      return entries.map((e) => parseAllowedHost(e)!);
    })
    .default([])
    .describe('Without HERALD_PUBLIC_URL: the Host header values (host, host:port, or https://host to make https links) from which portal links may be built; loopback hosts are always allowed. Others get an error saying to set HERALD_PUBLIC_URL.'),
  HERALD_PORTAL_FRAME_ANCESTORS: z
    .string()
    .transform((v) => v.split(/[\s,]+/).filter(Boolean))
    .default(['*'])
    .describe('Origins allowed to embed the customer portal in an iframe (CSP frame-ancestors), e.g. https://shop.example.com. Default: any.'),
  HERALD_API_RATE_LIMIT: intInRange(0, 1_000_000)
    .default(200)
    .describe('Management API requests per second per token scoped to one application (scoped API keys, portal tokens) on each node (bursts of twice that); 0 = no limit.'),
  HERALD_API_RATE_LIMIT_GLOBAL: intInRange(0, 1_000_000)
    .default(0)
    .describe('The same for the operator token and global API keys (the platform itself); 0 = no limit, the default, so publishing is never refused out of the box.'),
  HERALD_METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters; generate one with `openssl rand -hex 32`')
    .optional()
    .describe('Bearer token a Prometheus scraper must send to GET /metrics. When unset, /metrics is open (bind HERALD_HOST to a private address).'),
  HERALD_METRICS_PORT: intInRange(1, 65535)
    .optional()
    .describe('Port a `serve --role worker` process serves GET /metrics on (HERALD_HOST; nothing else is served there). Unset: a worker-only process serves no metrics. API and all-in-one processes serve /metrics on HERALD_PORT.'),
  HERALD_PUBLISH_GROUP_MAX: intInRange(1, 1_000)
    .default(500)
    .describe('Most messages one publish group commit writes in one statement (concurrent single publishes are coalesced).'),
  HERALD_SMTP_URL: smtpUrl
    .optional()
    .describe('SMTP server alert emails go through (smtps://user:password@host:465 or smtp://host:587, which upgrades with STARTTLS when offered). Unset: no email.'),
  HERALD_ALERT_FROM: mailbox
    .optional()
    .describe('Sender of alert emails, e.g. "Herald <alerts@example.com>". Required with HERALD_SMTP_URL.'),
  HERALD_ALERT_EMAILS: addressList
    .default([])
    .describe('Comma-separated operator addresses that hear about every broken endpoint (the alert settings may replace them at run time).'),
  HERALD_ALERT_WINDOW: duration('15m')
    .default(900_000)
    .refine((ms) => ms >= 10_000 && ms <= 7 * 86_400_000, 'must be between 10s and 7d')
    .describe('Batching window of alert emails: one endpoint sends each group of recipients at most one email per window, summarising what happened in it (the alert settings may change it at run time).'),
  HERALD_RETENTION_PERIOD: duration('90d')
    .default(90 * 86_400_000)
    .refine((ms) => ms >= 3_600_000 && ms <= 3_650 * 86_400_000, 'must be between 1h and 3650d')
    .describe('How long the delivery log keeps a message, its deliveries and attempts (applications may override it: retentionPeriod); operational events and finished background tasks are kept as long (docs/retention.md).'),
  HERALD_RETENTION_INTERVAL: duration('1h')
    .default(3_600_000)
    .refine((ms) => ms >= 1_000 && ms <= 86_400_000, 'must be between 1s and 1d')
    .describe('How often the retention purge runs (one Herald process at a time, in bounded batches).'),
  HERALD_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('Log level.'),
  HERALD_LOG_FORMAT: z
    .enum(['json', 'pretty'])
    .optional()
    .describe('How log lines are written: json (one object a line, for collectors) or pretty (readable, for a terminal). Unset: pretty when standard output is a terminal, json otherwise.'),
});

/** The parsed configuration. */
export type Config = z.output<typeof ConfigSchema>;

/** Thrown when the configuration is malformed; its message lists every bad setting and how to fix it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses configuration from the environment, with CLI flags (already mapped to variable names)
 * taking precedence. Empty strings count as unset, as shells often export `VAR=`.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  flags: Partial<Record<keyof Config, string>> = {},
): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = (flags as Record<string, string | undefined>)[key] ?? env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = ConfigSchema.safeParse(input);
  const issues = parsed.success ? crossFieldIssues(parsed.data) : parsed.error.issues.map((i) => ({ name: String(i.path[0] ?? '?'), message: i.message }));
  if (!parsed.success || issues.length > 0) {
    const lines = issues.map(({ name, message }) => {
      const shown = SECRET_SETTINGS.has(name)
        ? '(value not shown)'
        : JSON.stringify(CONNECTION_STRING_SETTINGS.has(name) ? redactConnectionString(input[name] ?? '') : (input[name] ?? ''));
      return `  ${name}=${shown}: ${message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}\nFix these settings (see the README's configuration table) and start again.`);
  }
  return parsed.data;
}

/** Settings whose value may hold a credential: an error names them but never prints the value. */
const SECRET_SETTINGS = new Set(['HERALD_SMTP_URL', 'HERALD_SECRET_KEY', 'HERALD_ADMIN_TOKEN', 'HERALD_METRICS_TOKEN']);

/** Connection strings: an error shows them with the password replaced by *** (src/store/connection-string.ts). */
const CONNECTION_STRING_SETTINGS = new Set(['DATABASE_URL']);

/** Rules between settings: each bad setting and what to do. */
function crossFieldIssues(c: Config): { name: string; message: string }[] {
  const out: { name: string; message: string }[] = [];
  if (c.HERALD_SMTP_URL !== undefined && c.HERALD_ALERT_FROM === undefined) {
    out.push({ name: 'HERALD_ALERT_FROM', message: 'is required with HERALD_SMTP_URL: the address alert emails come from, e.g. "Herald <alerts@example.com>"' });
  }
  return out;
}

/**
 * Settings of the CLI commands that talk to a running Herald over its API (`herald apps`, `keys`, ...).
 * Separate from ConfigSchema: those commands never open the database, so they must not require or
 * validate server settings.
 */
export const CliEnvSchema = z.object({
  HERALD_URL: z
    .string()
    .trim()
    .url('must be an absolute URL such as http://127.0.0.1:8080 or https://hooks.example.com')
    .refine((v) => /^https?:\/\//i.test(v), 'must start with http:// or https://')
    .refine((v) => !/^[a-z]+:\/\/[^/]*@/i.test(v), 'must not contain credentials (user:pass@); pass the token with HERALD_TOKEN')
    .optional()
    .describe('Base URL of the Herald the CLI talks to; defaults to http://127.0.0.1:8080.'),
  HERALD_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]+$/, 'must be a single word of printable ASCII (no spaces or line breaks)')
    .optional()
    .describe('Bearer token (operator token or API key) the CLI sends.'),
});

/** What the API-talking CLI commands need; each field is undefined when neither flag nor variable sets it. */
export interface CliEnv {
  /** Base URL of the Herald to talk to. */
  url?: string;
  /** Bearer token to send. */
  token?: string;
}

/**
 * Reads HERALD_URL and HERALD_TOKEN, with `--url`/`--token` taking precedence. Empty strings count as
 * unset. A malformed value throws ConfigError naming the setting; the token's value is never echoed.
 */
export function loadCliEnv(env: Record<string, string | undefined> = process.env, flags: CliEnv = {}): CliEnv {
  const pick = (flag: string | undefined, name: string) => (flag !== undefined && flag !== '' ? flag : env[name] || undefined);
  const input = { HERALD_URL: pick(flags.url, 'HERALD_URL'), HERALD_TOKEN: pick(flags.token, 'HERALD_TOKEN') };
  const parsed = CliEnvSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      const source = name === 'HERALD_URL' ? (flags.url ? '--url' : name) : flags.token ? '--token' : name;
      const shown = name === 'HERALD_TOKEN' ? '(value not shown)' : JSON.stringify(input.HERALD_URL ?? '');
      return `  ${source} ${shown}: ${i.message}`;
    });
    throw new ConfigError(`Invalid setting:\n${lines.join('\n')}`);
  }
  return { url: parsed.data.HERALD_URL, token: parsed.data.HERALD_TOKEN };
}
