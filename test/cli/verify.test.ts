/** `herald verify`: each way a captured request can fail to verify is named, with exit codes 0/1/2. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateSecret, parseSecret, webhookHeaders } from '../../src/core/signing.js';
import { runCli } from './cli-process.js';

// Each test starts Node processes (about a second each on a busy machine).
vi.setConfig({ testTimeout: 60_000 });

const SIGNED_AT = 1_700_000_000;
const NOW = String(SIGNED_AT + 10);
const secret = generateSecret();
const otherSecret = generateSecret();
const body = JSON.stringify({ type: 'order.paid', data: { id: 'o_1', customer: 'Zoë', amount: 4200 } });
const headers = webhookHeaders([parseSecret(secret)], 'msg_cli_verify', SIGNED_AT, body);

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'herald-verify-'));
  await writeFile(file('headers.json'), JSON.stringify({ ...headers, 'content-type': 'application/json' }));
  await writeFile(file('body.json'), body);
  await writeFile(file('body-pretty.json'), JSON.stringify(JSON.parse(body), null, 2));
  await writeFile(file('body-newline.json'), `${body}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const verify = (...args: string[]) => runCli(['verify', ...args]);

describe('herald verify', () => {
  it('accepts a valid request and exits 0', async () => {
    const r = await verify('--secret', secret, '--headers', `@${file('headers.json')}`, '--body', `@${file('body.json')}`, '--now', NOW);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('✓ valid signature (webhook-id msg_cli_verify, signed 10 s ago)');
  });

  it('names a wrong secret and exits 1', async () => {
    const r = await verify('--secret', otherSecret, '--headers', `@${file('headers.json')}`, '--body', `@${file('body.json')}`, '--now', NOW);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ invalid signature: wrong secret');
    expect(r.stdout).toContain("is it this endpoint's current secret?");
    expect(r.stdout).toContain('was the secret rotated?');
  });

  it('says when a compact re-serialisation of a pretty-printed body would verify', async () => {
    const r = await verify('--secret', secret, '--headers', `@${file('headers.json')}`, '--body', `@${file('body-pretty.json')}`, '--now', NOW);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('body altered (the secret is right)');
    expect(r.stdout).toContain('the compact JSON form of this body verifies');
    expect(r.stdout).toContain('verify against the raw request bytes');
  });

  it('says when a pretty-printed form would verify (the signed body was pretty, the captured one compact)', async () => {
    const pretty = JSON.stringify(JSON.parse(body), null, 2);
    const h = webhookHeaders([parseSecret(secret)], 'msg_pretty', SIGNED_AT, pretty);
    const r = await verify('--secret', secret, '--headers', JSON.stringify(h), '--body', body, '--now', NOW, '--json');
    expect(r.code).toBe(1);
    const verdict = JSON.parse(r.stdout);
    expect(verdict).toMatchObject({ valid: false, reason: 'body_modified', bodyVariant: '2-space indented JSON', matchedSecret: 1 });
  });

  it('spots a trailing newline added when the body was saved to a file', async () => {
    const r = await verify('--secret', secret, '--headers', `@${file('headers.json')}`, '--body', `@${file('body-newline.json')}`, '--now', NOW);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('without its trailing line break');
  });

  it('reports a stale timestamp, by how much, and that the signature itself is right', async () => {
    const later = String(SIGNED_AT + 4_000);
    const r = await verify('--secret', secret, '--headers', `@${file('headers.json')}`, '--body', `@${file('body.json')}`, '--now', later);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('timestamp outside tolerance: the signature is correct');
    expect(r.stdout).toContain('signed 4000 s ago, 3700 s more than the 300 s allowed');
    expect(r.stdout).toContain(`--now ${SIGNED_AT}`);
    const wider = await verify('--secret', secret, '--headers', `@${file('headers.json')}`, '--body', `@${file('body.json')}`, '--now', later, '--tolerance', '5000');
    expect(wider.code).toBe(0);
  });

  it('reports a timestamp in the future', async () => {
    const earlier = String(SIGNED_AT - 1_000);
    const r = await verify('--secret', secret, '--headers', `@${file('headers.json')}`, '--body', `@${file('body.json')}`, '--now', earlier, '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ reason: 'timestamp_too_new', signatureMatches: true, ageSeconds: -1000 });
  });

  it('lists the missing headers', async () => {
    const partial = JSON.stringify({ 'webhook-id': headers['webhook-id'], 'content-type': 'application/json' });
    const r = await verify('--secret', secret, '--headers', partial, '--body', `@${file('body.json')}`, '--now', NOW);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('missing header(s) webhook-timestamp, webhook-signature');
  });

  it('reads raw "Name: value" header lines and svix-* names, and tries each of several secrets', async () => {
    const lines = [
      'POST /hooks HTTP/1.1',
      `Svix-Id: ${headers['webhook-id']}`,
      `Svix-Timestamp: ${headers['webhook-timestamp']}`,
      `Svix-Signature: ${headers['webhook-signature']}`,
    ].join('\n');
    const r = await verify('--secret', otherSecret, '--secret', secret, '--headers', lines, '--body', body, '--now', NOW);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('secret #2');
  });

  it('explains a rotation: two signatures, neither from the given secret', async () => {
    const h = webhookHeaders([parseSecret(secret), parseSecret(otherSecret)], 'msg_rot', SIGNED_AT, body);
    const r = await verify('--secret', generateSecret(), '--headers', JSON.stringify(h), '--body', body, '--now', NOW);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('carries 2 signatures');
  });

  it('reads the body from stdin with @-', async () => {
    const r = await runCli(['verify', '--secret', secret, '--headers', JSON.stringify(headers), '--body', '@-', '--now', NOW], { input: body });
    expect(r.code).toBe(0);
  });

  it('exits 2 on usage errors: malformed secret, missing flag, unreadable file, bad number', async () => {
    const bad = await verify('--secret', 'whsec_nope', '--headers', `@${file('headers.json')}`, '--body', body);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--secret #1');
    expect(bad.stderr).not.toContain('at '); // no stack trace
    const missing = await verify('--secret', secret, '--headers', `@${file('headers.json')}`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--body");
    const noFile = await verify('--secret', secret, '--headers', `@${file('nope.json')}`, '--body', body);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('no such file');
    const badNow = await verify('--secret', secret, '--headers', `@${file('headers.json')}`, '--body', body, '--now', 'yesterday');
    expect(badNow.code).toBe(2);
  });

  it('has --help that documents the exit codes', async () => {
    const r = await runCli(['verify', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit codes: 0 valid, 1 invalid');
  });
});
