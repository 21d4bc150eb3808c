/**
 * Structured logs (pino), one JSON object a line, or readable lines in a terminal
 * (`HERALD_LOG_FORMAT=pretty`, through pino-pretty). Secrets never reach a line:
 *  - code logs ids, never payloads, endpoint objects or configuration;
 *  - as a second line of defence, values under the names in {@link REDACTED_PATHS} are replaced
 *    (tokens, keys, secrets, passwords, Authorization and Cookie, every value of a `headers`
 *    object) and connection strings lose their password and query string ({@link CONNECTION_PATHS});
 *  - errors are reduced to name, message, code and stack, with credentials in URLs scrubbed, since
 *    pg and undici errors carry their client, socket and options (connection settings included).
 * Redaction happens in pino before a line is formatted, so the pretty format redacts the same.
 */
import { createRequire } from 'node:module';
import { pino, type DestinationStream } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';

/** The subset of pino's logger Herald uses, so tests can pass a silent one. */
export interface Logger {
  /** Debug detail. */
  debug(obj: object, msg?: string): void;
  /** Normal operation. */
  info(obj: object, msg?: string): void;
  /** Something an operator may want to look at. */
  warn(obj: object, msg?: string): void;
  /** Something failed. */
  error(obj: object, msg?: string): void;
}

/** How log lines are written: JSON for collectors, pretty for people at a terminal. */
export type LogFormat = 'json' | 'pretty';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** `json` or `pretty`; unset: pretty when standard output is a terminal, JSON otherwise. */
  format?: LogFormat;
  /** Where lines go (tests capture them); standard output by default. */
  destination?: DestinationStream;
}

/** Field names whose value is a credential wherever they appear (top level or one object down). */
const SECRET_NAMES = [
  'secret',
  'secrets',
  'key',
  'token',
  'password',
  'authorization',
  'cookie',
  'apiKey',
  'adminToken',
  'HERALD_ADMIN_TOKEN',
  'HERALD_SECRET_KEY',
  'HERALD_METRICS_TOKEN',
];

/** Field names that hold URLs or connection strings: kept, minus password and query string. */
const URL_NAMES = ['url', 'databaseUrl', 'connectionString', 'DATABASE_URL', 'HERALD_SMTP_URL', 'smtpUrl'];

/** Every redacted path: each name at the top and one level down, and every header value. */
export const REDACTED_PATHS: readonly string[] = [
  ...SECRET_NAMES.flatMap((n) => [n, `*.${n}`]),
  // Request headers and endpoints' custom headers alike: a header value may be a credential.
  'headers.*',
  '*.headers.*',
  'req.headers.*',
  '*["set-cookie"]',
];

/** The paths whose value is a URL: censored by {@link censorUrl} instead of being replaced whole. */
export const CONNECTION_PATHS: readonly string[] = URL_NAMES.flatMap((n) => [n, `*.${n}`]);

/** What a redacted value becomes. */
export const REDACTED = '[redacted]';

/** `scheme://user:password@` in any text: the password becomes {@link REDACTED}. */
const USERINFO_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):[^@\s/]*@/gi;

/** Removes the password of every `scheme://user:password@` in `text`. */
export function scrubCredentials(text: string): string {
  return text.replace(USERINFO_PASSWORD, `$1:${REDACTED}@`);
}

/**
 * A URL or connection string without its secrets: the password and the query string (webhook URLs
 * often carry a token there) are replaced; scheme, user, host, port and path stay, since they are
 * what an operator needs to see which server was meant.
 */
export function censorUrl(value: unknown): unknown {
  if (typeof value !== 'string') return value === undefined || value === null ? value : REDACTED;
  const q = value.indexOf('?');
  const base = q < 0 ? value : `${value.slice(0, q)}?${REDACTED}`;
  return scrubCredentials(base);
}

/** The parts of an error worth a line, and its causes; nothing else it carries (clients, sockets, options). */
export interface LoggedError {
  /** Error class name (`error.name`). */
  type: string;
  /** Its message, credentials in URLs scrubbed. */
  message: string;
  /** Node or PostgreSQL code (`ECONNREFUSED`, SQLSTATE `23505`), when it has one. */
  code?: string;
  /** PostgreSQL: the constraint, table and column involved (never `detail`, which quotes row values). */
  constraint?: string;
  /** PostgreSQL table. */
  table?: string;
  /** PostgreSQL column. */
  column?: string;
  /** Stack trace, credentials scrubbed. */
  stack?: string;
  /** The error it wraps (`{ cause }`), serialised the same way. */
  cause?: LoggedError;
  /** An AggregateError's first errors (e.g. every address a connect tried). */
  errors?: LoggedError[];
}

/** How many causes deep an error is followed: enough for HeraldError → pg → socket. */
const MAX_CAUSE_DEPTH = 5;

/** Serialises anything thrown into a {@link LoggedError}. */
export function serializeError(e: unknown, depth = 0): LoggedError {
  if (!(e instanceof Error)) return { type: typeof e, message: scrubCredentials(String(e)) };
  const x = e as Error & { code?: unknown; constraint?: unknown; table?: unknown; column?: unknown; errors?: unknown };
  const out: LoggedError = { type: x.name, message: scrubCredentials(x.message) };
  if (typeof x.code === 'string' || typeof x.code === 'number') out.code = String(x.code);
  if (typeof x.constraint === 'string') out.constraint = x.constraint;
  if (typeof x.table === 'string') out.table = x.table;
  if (typeof x.column === 'string') out.column = x.column;
  if (x.stack) out.stack = scrubCredentials(x.stack);
  if (depth < MAX_CAUSE_DEPTH) {
    if (x.cause !== undefined) out.cause = serializeError(x.cause, depth + 1);
    if (Array.isArray(x.errors)) out.errors = x.errors.slice(0, 5).map((inner) => serializeError(inner, depth + 1));
  }
  return out;
}

/** The request fields of Fastify's own lines: method and path, never headers or the query string. */
function serializeRequest(req: { method?: string; url?: string; id?: string }) {
  return { method: req.method, path: req.url?.split('?')[0], id: req.id };
}

const require = createRequire(import.meta.url);

/** pino-pretty's formatter writing synchronously (lines before an exit are not lost), loaded only when asked for. */
function prettyDestination(destination: DestinationStream | undefined): DestinationStream {
  const { prettyFactory } = require('pino-pretty') as typeof import('pino-pretty');
  const colorize = destination === undefined && process.stdout.isTTY === true;
  const format = prettyFactory({ colorize, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  const out = destination ?? pino.destination({ dest: 1, sync: true });
  return { write: (line: string) => out.write(format(line)) };
}

/** The format used when none is set: pretty at a terminal, JSON when standard output is a pipe or file. */
export function defaultLogFormat(): LogFormat {
  return process.stdout.isTTY === true ? 'pretty' : 'json';
}

export function createLogger(level: string, opts: LoggerOptions = {}): pino.Logger {
  const format = opts.format ?? defaultLogFormat();
  const options: pino.LoggerOptions = {
    level,
    serializers: { err: serializeError, req: serializeRequest, res: (r: { statusCode?: number }) => ({ statusCode: r.statusCode }) },
    redact: {
      paths: [...REDACTED_PATHS, ...CONNECTION_PATHS],
      censor: (value: unknown, path: string[]) => (URL_NAMES.includes(path[path.length - 1] ?? '') ? censorUrl(value) : REDACTED),
    },
  };
  if (format === 'pretty') return pino(options, prettyDestination(opts.destination));
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** The logger a command builds from its configuration (HERALD_LOG_LEVEL, HERALD_LOG_FORMAT). */
export function loggerFor(config: Pick<Config, 'HERALD_LOG_LEVEL' | 'HERALD_LOG_FORMAT'>): pino.Logger {
  return createLogger(config.HERALD_LOG_LEVEL, { format: config.HERALD_LOG_FORMAT });
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Whether `log` is a full pino-compatible logger (Fastify's `loggerInstance` needs one). */
function isFastifyLogger(log: Logger): log is Logger & FastifyBaseLogger {
  const l = log as Partial<FastifyBaseLogger>;
  return typeof l.child === 'function' && typeof l.fatal === 'function' && typeof l.trace === 'function' && typeof l.level === 'string';
}

/**
 * `log` as Fastify's logger: itself when it is pino's (what `herald serve` creates), else an adapter
 * over the four methods of {@link Logger} (a library user's own logger, tests' silent one), so an
 * embedder's logger hears the API's lines too. Child bindings (the request id) are merged into
 * every object logged.
 */
export function toFastifyLogger(log: Logger, bindings: object = {}): FastifyBaseLogger {
  if (isFastifyLogger(log) && Object.keys(bindings).length === 0) return log;
  const at =
    (method: keyof Logger) =>
    (objOrMsg?: unknown, msg?: string): void => {
      if (typeof objOrMsg === 'string') log[method]({ ...bindings }, objOrMsg);
      else if (objOrMsg instanceof Error) log[method]({ ...bindings, err: objOrMsg }, msg);
      else log[method]({ ...bindings, ...(objOrMsg as object) }, msg);
    };
  const adapter = {
    level: 'info',
    fatal: at('error'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('debug'),
    silent: () => undefined,
    child: (more: object) => toFastifyLogger(log, { ...bindings, ...more }),
  };
  return adapter as unknown as FastifyBaseLogger;
}
