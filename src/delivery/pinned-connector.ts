/**
 * The connector behind Herald's HTTP client: resolve the host name once, refuse the connection if any
 * address is private (unless an operator allowed its network), and connect to exactly the checked
 * addresses, so a DNS answer that changes between check and connect cannot reach an internal host.
 * TLS still verifies the certificate for the host name (SNI = name).
 */
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import type { buildConnector } from 'undici';
import { ALLOW_HINT, hiddenAddressRefusal, isAddressAllowed, type Cidr } from './address-policy.js';

/** Resolves a host name to all of its addresses. */
export type LookupFn = (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;

export type Phase = 'dns' | 'connect' | 'tls';

/** Progress of one connection attempt; attached to its errors and consulted for timeout messages. */
export interface Attempt { phase: Phase; host: string; port: number; address?: string }

export const ATTEMPT = Symbol('herald.attempt');
/** On a HERALD_BLOCKED error for a resolved name: what was refused, for the operator's log only. */
export const REFUSED = Symbol('herald.refused');
/** A name refused because of what it resolved to; never shown to tenants (see hiddenAddressRefusal). */
export interface Refused {
  /** The endpoint URL's host name. */
  host: string;
  /** The refused address it resolved to (the first one, when several were). */
  address: string;
  /** Why that address is refused, e.g. "10.0.0.8 is a private network address (RFC 1918, 10.0.0.0/8)". */
  reason: string;
}
export type TaggedError = Error & { code?: string; address?: string; port?: number; errors?: unknown[]; [ATTEMPT]?: Attempt; [REFUSED]?: Refused };
export const heraldError = (code: 'HERALD_BLOCKED' | 'HERALD_CONNECT_TIMEOUT', message: string): TaggedError => Object.assign(new Error(message), { code });

export const defaultLookup: LookupFn = async (hostname) =>
  (await dns.promises.lookup(hostname, { all: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

export const originKey = (protocol: string, host: string, port: number) => `${protocol}//${host}:${port}`;

/** Builds the Agent's connector: resolve, check every address, connect to the checked ones only. */
export function createPinnedConnector(opts: { allowed: Cidr[]; lookup: LookupFn; timeoutMs: number; ca: string[] | undefined }) {
  const inFlight = new Map<string, Set<Attempt>>();
  const pendingSockets = new Set<net.Socket>();
  const sessions = new Map<string, Buffer>(); // TLS session resumption by server name, oldest first

  const connect: buildConnector.connector = ({ hostname, protocol, port, servername }, callback) => {
    const secure = protocol === 'https:';
    const host = hostname.replace(/^\[(.*)\]$/, '$1');
    const attempt: Attempt = { phase: 'dns', host, port: Number(port) || (secure ? 443 : 80) };
    const key = originKey(protocol, host, attempt.port);
    const tracked = inFlight.get(key) ?? new Set<Attempt>();
    inFlight.set(key, tracked.add(attempt));
    let socket: net.Socket | undefined;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (err: TaggedError | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      tracked.delete(attempt);
      if (tracked.size === 0) inFlight.delete(key);
      if (socket) pendingSockets.delete(socket);
      if (!err && socket) return callback(null, socket);
      const error: TaggedError = err ?? new Error('connection failed');
      error[ATTEMPT] = { ...attempt };
      socket?.destroy();
      callback(error, null);
    };

    const literal = net.isIP(host) !== 0;
    if (literal) {
      const verdict = isAddressAllowed(host, opts.allowed);
      // Deferred: undici expects the callback after connect() has returned.
      if (!verdict.ok) return process.nextTick(finish, heraldError('HERALD_BLOCKED', `${verdict.reason}; ${ALLOW_HINT}`));
      Object.assign(attempt, { phase: 'connect', address: host });
    }
    // Called by net.connect instead of dns.lookup; whatever we answer is what the socket connects to.
    const pinnedLookup: net.LookupFunction = (name, lookupOpts, cb) => {
      opts.lookup(name).then(
        (records) => {
          if (records.length === 0) return cb(Object.assign(new Error(`no addresses for ${name}`), { code: 'ENODATA' }), '', 0);
          for (const r of records) {
            const verdict = isAddressAllowed(r.address, opts.allowed);
            if (verdict.ok) continue;
            const error = heraldError('HERALD_BLOCKED', hiddenAddressRefusal(name));
            error[REFUSED] = { host: name, address: r.address, reason: verdict.reason };
            return cb(error, '', 0);
          }
          Object.assign(attempt, { phase: 'connect', address: records[0]!.address });
          if (lookupOpts.all) cb(null, records);
          else cb(null, records[0]!.address, records[0]!.family);
        },
        (err: Error) => cb(err, '', 0),
      );
    };

    const common = { host, port: attempt.port, lookup: pinnedLookup };
    if (secure) {
      const sni = servername && net.isIP(servername) === 0 ? servername : literal ? undefined : host;
      socket = tls.connect({
        ...common,
        servername: sni,
        ALPNProtocols: ['http/1.1'],
        session: sni ? sessions.get(sni) : undefined,
        ca: opts.ca,
      });
      socket.on('session', (s: Buffer) => {
        if (!sni) return;
        sessions.delete(sni);
        sessions.set(sni, s);
        if (sessions.size > 256) sessions.delete(sessions.keys().next().value!);
      });
    } else {
      socket = net.connect(common);
    }
    pendingSockets.add(socket);
    socket.setNoDelay(true).setKeepAlive(true, 60_000);
    socket.once('connect', () => Object.assign(attempt, { phase: secure ? 'tls' : 'connect', address: socket!.remoteAddress }));
    socket.once(secure ? 'secureConnect' : 'connect', () => finish(null));
    socket.on('error', (err: Error) => finish(err));
    timer = setTimeout(() => finish(heraldError('HERALD_CONNECT_TIMEOUT', `no connection within ${opts.timeoutMs} ms`)), opts.timeoutMs);
  };

  return {
    connect,
    /** The furthest-progressed connection attempt under way for an origin, if any. */
    progressOf(key: string): Attempt | undefined {
      const rank = { dns: 0, connect: 1, tls: 2 };
      return [...(inFlight.get(key) ?? [])].sort((a, b) => rank[b.phase] - rank[a.phase])[0];
    },
    destroyPending() {
      for (const s of pendingSockets) s.destroy(new Error('HTTP client closed'));
    },
  };
}
