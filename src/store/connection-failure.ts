/**
 * Why Herald could not use the database at DATABASE_URL when it started, in words an operator can act
 * on: what went wrong, the connection string with its password masked, and what to change. Without
 * this, `herald serve` against a stopped server said only "connect ECONNREFUSED 127.0.0.1:5432" inside
 * a stack trace, naming neither the setting nor the fix. Pure: classifies the error pg threw.
 */
import { redactConnectionString } from './connection-string.js';

/** What kind of failure it was, each with its own fix. */
type FailureKind = 'unreachable' | 'unknown-host' | 'login' | 'no-database' | 'tls' | 'busy';

/**
 * Node socket error codes meaning the server could not be reached at that host and port, or the
 * connection to it broke. The API's 503 mapping (src/api/errors.ts) reads the same list.
 */
export const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
]);
/** Node resolver error codes: the host name does not resolve. */
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);
/**
 * SQLSTATEs a server answers a connection with (PostgreSQL docs, appendix A): 28P01 invalid_password,
 * 28000 invalid_authorization_specification (no pg_hba.conf entry), 3D000 invalid_catalog_name,
 * 57P03 cannot_connect_now (starting up, shutting down), 53300 too_many_connections.
 */
const SQLSTATE_KINDS: Record<string, FailureKind> = { '28P01': 'login', '28000': 'login', '3D000': 'no-database', '57P03': 'busy', '53300': 'busy' };
/** Messages of pg and pg-pool with no code: the connection timed out or the server hung up. */
const UNREACHABLE_MESSAGES = /timeout exceeded when trying to connect|connection terminated|connection timeout/i;
/** pg's TLS failures ("The server does not support SSL connections") and Node's certificate errors. */
const TLS_MESSAGES = /\bSSL\b|\bTLS\b|certificate/i;

const WHAT: Record<FailureKind, string> = {
  unreachable: 'could not reach the PostgreSQL server in DATABASE_URL',
  'unknown-host': 'could not resolve the host name in DATABASE_URL',
  login: 'was refused by PostgreSQL when logging in with DATABASE_URL',
  'no-database': 'found no such database on the PostgreSQL server in DATABASE_URL',
  tls: 'could not set up TLS with the PostgreSQL server in DATABASE_URL',
  busy: 'was turned away by the PostgreSQL server in DATABASE_URL',
};

const FIX: Record<FailureKind, string> = {
  unreachable:
    'Check that PostgreSQL is running and accepts TCP connections at that host and port (listen_addresses, firewall), and that DATABASE_URL names them; or unset DATABASE_URL to use the embedded PostgreSQL.',
  'unknown-host': 'Check the host name in DATABASE_URL, or use the server\'s IP address.',
  login:
    'Check the user name and password in DATABASE_URL (percent-encode special characters, e.g. p@ss as p%40ss) and that the server\'s pg_hba.conf lets this user connect from this machine.',
  'no-database': 'Create the database (e.g. `createdb herald`) or correct its name, the path at the end of DATABASE_URL.',
  tls: 'Make sslmode in DATABASE_URL match the server: remove ssl parameters for a server without TLS, or give the CA (sslrootcert) for one with a private certificate.',
  busy: 'The server is starting, stopping or out of connections: start Herald again once it accepts connections, or raise max_connections.',
};

/** The error's code: Node's (ECONNREFUSED) or PostgreSQL's SQLSTATE; an AggregateError's first inner one's. */
function codeOf(e: unknown): string | undefined {
  const x = e as { code?: unknown; errors?: unknown };
  if (typeof x?.code === 'string') return x.code;
  return Array.isArray(x?.errors) ? codeOf(x.errors[0]) : undefined;
}

/** The error's message; for an AggregateError (every address of a host refused), its first inner one's. */
function messageOf(e: unknown): string {
  const x = e as { message?: unknown; errors?: unknown };
  if (typeof x?.message === 'string' && x.message !== '') return x.message;
  if (Array.isArray(x?.errors) && x.errors.length > 0) return messageOf(x.errors[0]);
  return String(e);
}

function kindOf(e: unknown): FailureKind | null {
  const code = codeOf(e);
  if (code !== undefined) {
    if (UNREACHABLE_CODES.has(code)) return 'unreachable';
    if (DNS_CODES.has(code)) return 'unknown-host';
    if (code in SQLSTATE_KINDS) return SQLSTATE_KINDS[code]!;
    if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /CERT|SELF_SIGNED/.test(code)) return 'tls';
  }
  const message = messageOf(e);
  if (UNREACHABLE_MESSAGES.test(message)) return 'unreachable';
  if (TLS_MESSAGES.test(message)) return 'tls';
  return null;
}

/** The password in a connection string (user-info or `password=` parameter), decoded; null when none. */
function passwordsIn(raw: string): string[] {
  const out: string[] = [];
  const userInfo = /^[a-z][a-z0-9+.-]*:\/\/[^/@]*:([^@/]*)@/i.exec(raw)?.[1];
  const param = /[?&](?:ssl)?password=([^&#]*)/i.exec(raw)?.[1];
  for (const p of [userInfo, param]) {
    if (!p) continue;
    out.push(p);
    try {
      out.push(decodeURIComponent(p));
    } catch {
      // Not valid percent-encoding: the raw form is all there is.
    }
  }
  return out;
}

/**
 * An operator-facing explanation of a failure to connect to `databaseUrl` at start, or null when `e`
 * is not a connection failure (a failing migration, say). The password never appears in it: the
 * connection string is masked and the password is cut out of the driver's message too.
 */
export function describeConnectionFailure(e: unknown, databaseUrl: string): string | null {
  const kind = kindOf(e);
  if (kind === null) return null;
  const code = codeOf(e);
  let detail = messageOf(e);
  if (code !== undefined && !detail.includes(code)) detail += ` (${code})`;
  for (const p of passwordsIn(databaseUrl)) detail = detail.split(p).join('***');
  return `Herald ${WHAT[kind]} (${redactConnectionString(databaseUrl)}): ${detail}.\n${FIX[kind]}`;
}
