/**
 * The base of the absolute URLs Herald hands out (customer-portal links). The Host header is chosen
 * by whoever sends the request: building a link from it lets a forged Host make Herald hand out links
 * to the sender's server, with a live portal token in them (issue 13). So the base is
 * HERALD_PUBLIC_URL; without it, the request's Host only when it is a loopback address (the quick start
 * on http://127.0.0.1:8080 keeps working) or listed in HERALD_ALLOWED_HOSTS; otherwise 421 Misdirected
 * Request (RFC 9110 §15.5.20: Herald is not authoritative for that Host), saying what to set. Not a 500:
 * nothing failed on the server, and a forged Host must not page the operator or look like a crash.
 */
import { HeraldError } from './errors.js';

/** One entry of HERALD_ALLOWED_HOSTS: `host`, `host:port`, or an origin `https://host[:port]` (that scheme in links). */
export interface AllowedHost {
  /** The scheme links get, or null for the connection's own. */
  scheme: 'http' | 'https' | null;
  /** Lower-case host name or bracketed IPv6 address. */
  hostname: string;
  /** Port that must match, or null for any. */
  port: string | null;
}

const ENTRY = /^(?:(https?):\/\/)?([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::(\d{1,5}))?\/?$/i;

/** Parses one HERALD_ALLOWED_HOSTS entry, or null when it is not one. */
export function parseAllowedHost(entry: string): AllowedHost | null {
  const m = ENTRY.exec(entry.trim());
  if (!m) return null;
  return { scheme: (m[1]?.toLowerCase() as 'http' | 'https' | undefined) ?? null, hostname: m[2]!.toLowerCase().replace(/\.$/, ''), port: m[3] ?? null };
}

/** Host and port of a Host header value (`example.com:8080`, `[::1]:8080`). */
function splitHost(host: string): { hostname: string; port: string | null } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host.trim().toLowerCase());
  return m ? { hostname: m[1]!.replace(/\.$/, ''), port: m[2] ?? null } : { hostname: '', port: null };
}

/** Loopback names and addresses: a link to them can only lead back to the machine that opens it. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** What {@link publicBaseUrl} reads. */
export interface PublicBaseInput {
  /** HERALD_PUBLIC_URL (or buildApp's publicUrl option). */
  publicUrl: string | undefined;
  /** HERALD_ALLOWED_HOSTS, parsed. */
  allowedHosts: readonly AllowedHost[];
  /** The connection's scheme (`http` unless Herald serves TLS itself). */
  protocol: string;
  /** The request's Host header, if any. */
  host: string | undefined;
}

/** The base URL (no trailing slash) for links in answers to this request, or a HeraldError('misdirected_request') saying what to set. */
export function publicBaseUrl(input: PublicBaseInput): string {
  if (input.publicUrl) return input.publicUrl.replace(/\/+$/, '');
  const host = input.host ?? '';
  const { hostname, port } = splitHost(host);
  if (hostname !== '') {
    if (isLoopback(hostname)) return `${input.protocol}://${host.toLowerCase()}`;
    const entry = input.allowedHosts.find((e) => e.hostname === hostname && (e.port === null || e.port === port));
    if (entry) return `${entry.scheme ?? input.protocol}://${host.toLowerCase()}`;
  }
  throw new HeraldError(
    'misdirected_request',
    `Herald does not know its public address, and builds no link from the request's Host header (${JSON.stringify(host.slice(0, 100))}) ` +
      'unless it is allowed: the operator sets HERALD_PUBLIC_URL (e.g. https://hooks.example.com), or lists this host in HERALD_ALLOWED_HOSTS; ' +
      'or send the request to an address Herald answers for',
  );
}
