/**
 * The tenant's delivery log never names a non-public address a host name resolved to (issue 13): not
 * when the delivery is blocked, and not in connect, TLS or timeout failures to a network the operator
 * allowed. The operator's log (warn) names the blocked address, with the endpoint and the fix.
 * Real sockets on 127.0.0.1; a fake resolver decides what the names resolve to.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NON_PUBLIC, visibleAddress } from './failure-message.js';
import { client, cleanups, lookupTo, post, rawServer, receiver, serve } from './http-client-fixtures.js';

/** A logger that keeps what was logged at warn. */
function operatorLog() {
  const warnings: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  return { warnings, log: { warn: (fields: Record<string, unknown>, msg: string) => void warnings.push({ fields, msg }) } as never };
}

const lane = { key: 'ep_blocked', connections: 1 };

describe('a host name that resolves to a refused address', () => {
  it.each([
    ['a private address beside a public one', ['93.184.215.14', '10.0.0.8'], '10.0.0.8', 'a private network address (RFC 1918, 10.0.0.0/8)'],
    ['the metadata service', ['169.254.169.254'], '169.254.169.254', 'the cloud instance metadata service'],
    ['loopback', ['127.0.0.1'], '127.0.0.1', 'a loopback address'],
    ['an IPv4-mapped private address', ['::ffff:192.168.1.20'], '::ffff:192.168.1.20', 'which is a private network address'],
    ['a unique local IPv6 address', ['fd12:3456::1'], 'fd12:3456::1', 'a unique local (private) address'],
  ])('to %s: the tenant reads "non-public" and how to allow it, the operator log has the address', async (_what, records, address, kind) => {
    const { warnings, log } = operatorLog();
    const http = client({ allowedNetworks: [], lookup: lookupTo(...records), log });
    const res = await http.send({ ...post('http://hooks.customer.test:8443/in'), lane });

    expect(res).toMatchObject({ ok: false, stage: 'blocked' });
    const message = res.ok ? '' : res.message;
    expect(message).toBe(
      'hooks.customer.test resolves to a non-public address (private, loopback, link-local, metadata or reserved), which ' +
        'Herald does not deliver to; if the endpoint is meant to reach a private network, the operator of this Herald can ' +
        "allow that network with HERALD_ALLOWED_NETWORKS (Herald's log names the address)",
    );
    for (const r of records) expect(message).not.toContain(r);

    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.fields).toEqual({ endpointId: 'ep_blocked', host: 'hooks.customer.test', port: '8443', address, reason: expect.stringContaining(kind) });
    expect(warnings[0]!.msg).toContain(`delivery blocked: ${address} is `);
    expect(warnings[0]!.msg).toContain(`add a CIDR that covers ${address} to HERALD_ALLOWED_NETWORKS`);
  });

  it('after DNS rebinding to the metadata service: the second connection is refused without naming it', async () => {
    const rx = await receiver({ respondWith: { status: 200, headers: { connection: 'close' } } });
    const answers = ['127.0.0.1', '169.254.169.254'];
    let lookups = 0;
    const { warnings, log } = operatorLog();
    const http = client({ lookup: async (name) => lookupTo(answers[Math.min(lookups++, 1)]!)(name), log });
    expect(await http.send(post(`http://rebind.customer.test:${rx.port}/`))).toMatchObject({ ok: true });
    const second = await http.send(post(`http://rebind.customer.test:${rx.port}/`));
    expect(second).toMatchObject({ ok: false, stage: 'blocked', message: expect.stringContaining('rebind.customer.test resolves to a non-public address') });
    expect(!second.ok && second.message).not.toContain('169.254');
    expect(warnings.map((w) => w.fields.address)).toEqual(['169.254.169.254']);
  });

  it('an IP literal the tenant typed is still named: it is their own input, and nothing is logged', async () => {
    const { warnings, log } = operatorLog();
    const res = await client({ allowedNetworks: [], log }).send(post('http://10.1.2.3/hook'));
    expect(res).toMatchObject({ ok: false, stage: 'blocked', message: expect.stringContaining('10.1.2.3 is a private network address') });
    expect(warnings).toEqual([]);
  });
});

describe('failures reaching an allowed non-public network through a host name', () => {
  it('a refused connection names the host, not the address', async () => {
    const port = await rawServer(() => undefined);
    await cleanups.pop()!(); // closed again: the port is now (almost certainly) free
    const res = await client({ lookup: lookupTo('127.0.0.1') }).send(post(`http://internal.customer.test:${port}/`));
    expect(res).toMatchObject({ ok: false, stage: 'connect', message: `connection refused by internal.customer.test:${port} (a non-public address) (ECONNREFUSED)` });
    expect(!res.ok && res.message).not.toContain('127.0.0.1');
  });

  it('an address is shown when it is public or is the URL host itself, and hidden otherwise', () => {
    expect(visibleAddress('hooks.customer.test', '93.184.215.14')).toBe('93.184.215.14');
    expect(visibleAddress('hooks.customer.test', '2606:2800:21f:cb07:6820:80da:af6b:8b2c')).toBe('2606:2800:21f:cb07:6820:80da:af6b:8b2c');
    expect(visibleAddress('hooks.customer.test', '10.0.0.8')).toBe(NON_PUBLIC);
    expect(visibleAddress('hooks.customer.test', '::ffff:127.0.0.1')).toBe(NON_PUBLIC);
    expect(visibleAddress('10.0.0.8', '10.0.0.8')).toBe('10.0.0.8');
    expect(visibleAddress('hooks.customer.test', undefined)).toBe('hooks.customer.test');
  });

  describe('TLS', () => {
    let dir: string;
    let key: string;
    let cert: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'herald-tls-'));
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=other.test', '-addext', 'subjectAltName=DNS:other.test',
      ], { stdio: 'ignore' });
      key = readFileSync(join(dir, 'key.pem'), 'utf8');
      cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a bad certificate names the host and "a non-public address" with the port', async () => {
      const port = await serve(tls.createServer({ key, cert }));
      const res = await client({ lookup: lookupTo('127.0.0.1') }).send(post(`https://internal.customer.test:${port}/`));
      expect(res).toMatchObject({ ok: false, stage: 'tls', message: expect.stringContaining(`the TLS handshake with internal.customer.test (a non-public address, port ${port}) failed`) });
      expect(!res.ok && res.message).not.toContain('127.0.0.1');
    });

    it('a handshake that never finishes says so without the address', async () => {
      const port = await rawServer(() => undefined); // accepts, never speaks TLS
      const res = await client({ lookup: lookupTo('127.0.0.1') }).send(post(`https://hang.customer.test:${port}/`, 400));
      expect(res).toMatchObject({ ok: false, stage: 'timeout', message: expect.stringContaining(`TLS handshake with hang.customer.test (a non-public address, port ${port})`) });
      expect(!res.ok && res.message).not.toContain('127.0.0.1');
    });
  });
});
