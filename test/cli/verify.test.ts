/** `herald verify`: each way a captured request can fail to verify is named, under each signature profile, with exit codes 0/1/2. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateProfileSecret, signatureHeaders, signingKeyOf } from '../../src/core/signature-profile.js';
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

describe('herald verify with a signature profile', () => {
  const hexProfile = { scheme: 'hmac-sha256', header: 'X-Northwind-Signature', timestampHeader: 'X-Northwind-Timestamp', content: 'timestamp.body', encoding: 'hex', key: 'hex' } as const;
  const hexFlags = ['--signature', 'hmac-sha256', '--signature-header', 'X-Northwind-Signature', '--timestamp-header', 'X-Northwind-Timestamp', '--signed-content', 'timestamp.body'];
  const hexSecret = generateProfileSecret(hexProfile).secret;
  const hexHeaders = JSON.stringify(signatureHeaders(hexProfile, [signingKeyOf(hexProfile, hexSecret)], 'msg_x', SIGNED_AT, Buffer.from(body)));

  const utf8Profile = { scheme: 'hmac-sha256', header: 'X-Comps-Signature', timestampHeader: 'X-Comps-Timestamp', content: 'body', encoding: 'hex', key: 'utf8' } as const;
  const utf8Flags = ['--signature', 'hmac-sha256', '--signature-header', 'X-Comps-Signature', '--timestamp-header', 'X-Comps-Timestamp'];
  const utf8Secret = 'comps_secret_2f9d8c7b6a5e4d3c';
  const utf8Headers = JSON.stringify(signatureHeaders(utf8Profile, [signingKeyOf(utf8Profile, utf8Secret)], 'msg_x', SIGNED_AT, Buffer.from(body)));

  const ed = generateProfileSecret({ scheme: 'ed25519' });
  const edHeaders = JSON.stringify(signatureHeaders({ scheme: 'ed25519' }, [signingKeyOf({ scheme: 'ed25519' }, ed.secret)], 'msg_ed', SIGNED_AT, Buffer.from(body)));

  it('verifies hex HMAC of "{timestamp}.{body}" with a hex-decoded key', async () => {
    const r = await verify(...hexFlags, '--signature-key', 'hex', '--secret', hexSecret, '--headers', hexHeaders, '--body', body, '--now', NOW);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('✓ valid signature (X-Northwind-Signature, signed 10 s ago)');
  });

  it('a hex key used as UTF-8 text: "did you hex-decode the secret?", and the flags that match', async () => {
    const r = await verify(...hexFlags, '--signature-key', 'utf8', '--secret', hexSecret, '--headers', hexHeaders, '--body', body, '--now', NOW);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('the secret is right, but the key is the secret hex-decoded (--signature-key hex)');
    expect(r.stdout).toContain('did you hex-decode the secret?');
    expect(r.stdout).toContain("the endpoint's profile: --signature hmac-sha256 --signature-header X-Northwind-Signature --timestamp-header X-Northwind-Timestamp --signed-content timestamp.body --signature-encoding hex --signature-key hex");
  });

  it('a UTF-8 key given as hex, the wrong content and the wrong encoding are each named', async () => {
    const asHex = await verify(...utf8Flags, '--signature-key', 'hex', '--secret', utf8Secret, '--headers', utf8Headers, '--body', body, '--now', NOW, '--json');
    expect(asHex.code).toBe(1);
    expect(JSON.parse(asHex.stdout)).toMatchObject({ reason: 'profile_mismatch', matchingProfile: { key: 'utf8' }, summary: expect.stringContaining("the secret's own characters as UTF-8") });
    const content = await verify(...utf8Flags, '--signed-content', 'timestamp.body', '--secret', utf8Secret, '--headers', utf8Headers, '--body', body, '--now', NOW);
    expect(content.stdout).toContain('what is signed is the raw body alone (--signed-content body)');
    const encoding = await verify(...utf8Flags, '--signature-encoding', 'base64', '--secret', utf8Secret, '--headers', utf8Headers, '--body', body, '--now', NOW);
    expect(encoding.stdout).toContain('the digest is hex-encoded (--signature-encoding hex)');
  });

  it('hmac-sha256: re-serialised body, stale timestamp, wrong secret', async () => {
    const pretty = await verify(...utf8Flags, '--secret', utf8Secret, '--headers', utf8Headers, '--body', `@${file('body-pretty.json')}`, '--now', NOW);
    expect(pretty.code).toBe(1);
    expect(pretty.stdout).toContain('body altered (the secret is right): the compact JSON form of this body verifies');
    const stale = await verify(...utf8Flags, '--secret', utf8Secret, '--headers', utf8Headers, '--body', body, '--now', String(SIGNED_AT + 4_000));
    expect(stale.stdout).toContain('timestamp outside tolerance: the signature is correct, but the request was signed 4000 s ago');
    const wrong = await verify(...hexFlags, '--signature-key', 'hex', '--secret', generateProfileSecret(hexProfile).secret, '--headers', hexHeaders, '--body', body, '--now', NOW);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('wrong secret');
    expect(wrong.stdout).toContain('tried the secret as UTF-8 and hex-decoded');
    expect(wrong.stdout).toContain('made with the oldest secret still valid');
  });

  it('missing profile headers, and a standard check of a request that carries a platform header', async () => {
    const r = await verify(...utf8Flags, '--secret', utf8Secret, '--headers', JSON.stringify({ 'X-Other-Signature': 'ab' }), '--body', body, '--now', NOW);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('missing header(s) X-Comps-Signature, X-Comps-Timestamp');
    expect(r.stdout).toContain('--signature-header x-other-signature') // captured names are lower-cased;
    const std = await verify('--secret', secret, '--headers', utf8Headers, '--body', body, '--now', NOW);
    expect(std.stdout).toContain('pass --signature hmac-sha256 --signature-header x-comps-signature');
  });

  it('ed25519: verifies with --public-key, names a wrong key, and a standard request', async () => {
    const ok = await verify('--signature', 'ed25519', '--public-key', ed.publicKey!, '--headers', edHeaders, '--body', body, '--now', NOW);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('✓ valid signature (webhook-id msg_ed, signed 10 s ago)');
    const other = generateProfileSecret({ scheme: 'ed25519' }).publicKey!;
    const wrong = await verify('--signature', 'ed25519', '--public-key', other, '--headers', edHeaders, '--body', body, '--now', NOW);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('wrong public key');
    expect(wrong.stdout).toContain('/api/v1/public/endpoint/{endpoint_id}/keys');
    const v1 = await verify('--signature', 'ed25519', '--public-key', ed.publicKey!, '--headers', `@${file('headers.json')}`, '--body', body, '--now', NOW, '--json');
    expect(JSON.parse(v1.stdout)).toMatchObject({ reason: 'no_v1a_signature', scheme: 'ed25519' });
    const std = await verify('--secret', secret, '--headers', edHeaders, '--body', body, '--now', NOW);
    expect(std.stdout).toContain('pass --signature ed25519 --public-key');
  });

  it('exits 2 on profile usage errors, naming the flag', async () => {
    const cases: [string[], string][] = [
      [['--signature', 'hmac-sha256', '--secret', utf8Secret], '--signature-header'],
      [['--signature-header', 'X-Sig', '--secret', secret], 'only for --signature hmac-sha256'],
      [['--signature', 'hmac-sha256', '--signature-header', 'X-Sig', '--signed-content', 'timestamp.body', '--secret', utf8Secret], '--timestamp-header'],
      [['--signature', 'rsa', '--secret', secret], '--signature'],
      [['--signature', 'hmac-sha256', '--signature-header', 'X-Sig', '--signature-encoding', 'b32', '--secret', utf8Secret], '--signature-encoding'],
      [['--public-key', ed.publicKey!], '--public-key is for --signature ed25519'],
      [['--signature', 'ed25519', '--secret', ed.secret], `--public-key ${ed.publicKey}`],
      [['--signature', 'ed25519', '--public-key', 'whpk_nope'], '--public-key #1'],
      [['--signature', 'ed25519'], 'needs --public-key'],
      [['--signature', 'hmac-sha256', '--signature-header', 'X-Sig', '--secret', 'short'], '--secret #1'],
      [['--secret', 'comps_secret_2f9d8c7b6a5e4d3c'], '--signature hmac-sha256 --signature-header'],
    ];
    for (const [flags, message] of cases) {
      const r = await verify(...flags, '--headers', '{}', '--body', body);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr, flags.join(' ')).toContain(message);
    }
  });
});
