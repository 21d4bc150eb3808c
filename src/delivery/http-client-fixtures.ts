/**
 * Fixtures for the HTTP client tests (http-client, lane-pools and response-bytes): clients and servers
 * on 127.0.0.1 that are closed after each test, a fake resolver and a default request. Importing this
 * module registers the `afterEach` that runs the cleanups.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach } from 'vitest';
import { startReceiver, type Receiver } from '../../test/support/receiver.js';
import { parseCidrList } from './address-policy.js';
import { createHttpClient, type HttpClient, type HttpClientOptions, type LookupFn } from './http-client.js';

export const LOOPBACK = parseCidrList(['127.0.0.0/8']);
/** Run in reverse after each test; a test may also run the last one early (`cleanups.pop()!()`). */
export const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

export function client(overrides: Partial<HttpClientOptions> = {}): HttpClient {
  const c = createHttpClient({ allowHttp: true, allowedNetworks: LOOPBACK, ...overrides });
  cleanups.push(() => c.close());
  return c;
}
export async function receiver(options?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(options);
  cleanups.push(() => r.close());
  return r;
}
/** Listens on 127.0.0.1:0 and registers cleanup that destroys every socket; returns the port. */
export async function serve(server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return (server.address() as net.AddressInfo).port;
}
/** A raw TCP server for receivers that do not speak HTTP properly. */
export const rawServer = (onSocket: (s: net.Socket) => void) => serve(net.createServer(onSocket));
export const lookupTo = (...addresses: string[]): LookupFn => async () => addresses.map((address) => ({ address, family: net.isIP(address) as 4 | 6 }));
export const post = (url: string, timeoutMs = 1_500) => ({ url, headers: { 'content-type': 'application/json' }, body: '{"a":1}', timeoutMs });
/**
 * One event-loop turn. undici waits one turn before reusing a socket (client-h1.js, for servers that
 * close despite keep-alive); back-to-back sends inside that turn would open a second connection.
 */
export const turn = () => new Promise((r) => setImmediate(r));
