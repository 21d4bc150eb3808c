/** `herald listen`: prints each signed delivery, verifies it under the given profile, answers with the chosen status. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateProfileSecret, signatureHeaders, signingKeyOf, type SignatureProfile } from '../../src/core/signature-profile.js';
import { generateSecret, parseSecret, webhookHeaders } from '../../src/core/signing.js';
import { runCli, startCli, type CliProcess } from './cli-process.js';

// Each test starts Node processes (about a second each on a busy machine).
vi.setConfig({ testTimeout: 60_000 });

const secret = generateSecret();
const payload = { type: 'order.paid', data: { id: 'o_1', amount: 4200 } };
const body = JSON.stringify(payload);

let running: CliProcess[] = [];
afterEach(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  running = [];
});

async function listen(...args: string[]): Promise<{ proc: CliProcess; url: string }> {
  const proc = startCli(['listen', '--port', '0', ...args]);
  running.push(proc);
  const stream = args.includes('--json') ? 'stderr' : 'stdout';
  const m = await proc.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, stream);
  return { proc, url: m[1]! };
}

/** Posts `body` signed with `key` now (the listener checks against its own clock). */
function post(url: string, key: string, opts: { msgId?: string; body?: string } = {}) {
  const text = opts.body ?? body;
  const signed = webhookHeaders([parseSecret(key)], opts.msgId ?? 'msg_cli_listen', Math.floor(Date.now() / 1000), body);
  return fetch(`${url}/hooks/orders?x=1`, { method: 'POST', headers: { ...signed, 'content-type': 'application/json' }, body: text });
}

describe('herald listen', () => {
  it('prints a signed delivery with headers and pretty body, verifies it and answers the chosen status', async () => {
    const { proc, url } = await listen('--secret', secret, '--status', '202');
    const res = await post(url, secret);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ receiver: 'herald listen', signature: 'valid' });
    await proc.waitFor(/→ answered 202/);
    expect(proc.stdout).toContain('POST /hooks/orders?x=1');
    expect(proc.stdout).toContain('webhook-id: msg_cli_listen');
    expect(proc.stdout).toContain('content-type: application/json');
    expect(proc.stdout).toContain('  "amount": 4200'); // indented, not the compact wire form
    expect(proc.stdout).toContain('✓ valid signature (webhook-id msg_cli_listen');
    expect(await proc.stop('SIGINT')).toBe(0);
  });

  it('marks a wrong signature with ✗ and the reason, and still answers the chosen status', async () => {
    const { proc, url } = await listen('--secret', secret);
    const res = await post(url, generateSecret(), { msgId: 'msg_wrong' });
    expect(res.status).toBe(200);
    await proc.waitFor(/→ answered 200/);
    expect(proc.stdout).toContain('✗ invalid signature: wrong secret');
  });

  it('says when the body was altered after signing', async () => {
    const { proc, url } = await listen('--secret', secret);
    await post(url, secret, { body: JSON.stringify(payload, null, 2) });
    await proc.waitFor(/→ answered/);
    expect(proc.stdout).toContain('body altered');
  });

  it('answers 401 to invalid signatures with --reject-invalid', async () => {
    const { proc, url } = await listen('--secret', secret, '--reject-invalid', '--status', '204');
    expect((await post(url, generateSecret())).status).toBe(401);
    expect((await post(url, secret)).status).toBe(204);
    await proc.waitFor(/→ answered 204/);
  });

  it('without --secret, prints the delivery and says the signature was not checked', async () => {
    const { proc, url } = await listen('--status', '503');
    expect((await post(url, secret)).status).toBe(503);
    await proc.waitFor(/→ answered 503/);
    expect(proc.stdout).toContain('signature not checked');
  });

  it('prints one JSON object per request with --json', async () => {
    const { proc, url } = await listen('--secret', secret, '--json');
    await post(url, secret, { msgId: 'msg_json' });
    await proc.waitFor(/\n/);
    const record = JSON.parse(proc.stdout.trim().split('\n')[0]!);
    expect(record).toMatchObject({
      method: 'POST',
      path: '/hooks/orders?x=1',
      body,
      status: 200,
      signature: { valid: true, reason: 'valid', msgId: 'msg_json' },
    });
    expect(record.headers['webhook-id']).toBe('msg_json');
  });

  it('a captured --json line can be checked again with herald verify', async () => {
    const { proc, url } = await listen('--json');
    await post(url, secret, { msgId: 'msg_roundtrip' });
    await proc.waitFor(/\n/);
    const line = proc.stdout.trim().split('\n')[0]!;
    const record = JSON.parse(line) as { body: string };
    const r = await runCli(['verify', '--secret', secret, '--headers', line, '--body', record.body]);
    expect(r.code).toBe(0);
  });

  it('exits 2 on bad flags', async () => {
    expect((await runCli(['listen', '--status', '99'])).code).toBe(2);
    expect((await runCli(['listen', '--port', 'http'])).code).toBe(2);
    const bad = await runCli(['listen', '--secret', 'not-a-secret']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--secret #1');
    expect((await runCli(['listen', '--reject-invalid'])).code).toBe(2);
  });
});

/** Posts `body` signed now under `profile` with `key` (a secret, or a whsk_ key for ed25519). */
function postSigned(url: string, profile: SignatureProfile, key: string, text = body) {
  const signed = signatureHeaders(profile, [signingKeyOf(profile, key)], 'msg_cli_profile', Math.floor(Date.now() / 1000), Buffer.from(text));
  return fetch(`${url}/hooks`, { method: 'POST', headers: { ...signed, 'content-type': 'application/json' }, body: text });
}

describe('herald listen with a signature profile', () => {
  const hex = { scheme: 'hmac-sha256', header: 'X-Northwind-Signature', timestampHeader: 'X-Northwind-Timestamp', content: 'timestamp.body', encoding: 'hex', key: 'hex' } as const;
  const hexFlags = ['--signature', 'hmac-sha256', '--signature-header', 'X-Northwind-Signature', '--timestamp-header', 'X-Northwind-Timestamp', '--signed-content', 'timestamp.body'];

  it('verifies hex HMAC of "{timestamp}.{body}", and says so in the banner', async () => {
    const s = generateProfileSecret(hex).secret;
    const { proc, url } = await listen(...hexFlags, '--signature-key', 'hex', '--secret', s);
    expect(proc.stdout).toContain('checking hmac-sha256 in X-Northwind-Signature signatures with 1 secret(s)');
    const res = await postSigned(url, hex, s);
    expect(await res.json()).toEqual({ receiver: 'herald listen', signature: 'valid' });
    await proc.waitFor(/→ answered 200/);
    expect(proc.stdout).toContain('✓ valid signature (X-Northwind-Signature, signed');
  });

  it('asks "did you hex-decode the secret?" when the key is used as text', async () => {
    const s = generateProfileSecret(hex).secret;
    const { proc, url } = await listen(...hexFlags, '--secret', s, '--reject-invalid');
    const res = await postSigned(url, hex, s);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ receiver: 'herald listen', signature: 'profile_mismatch' });
    await proc.waitFor(/→ answered 401/);
    expect(proc.stdout).toContain('did you hex-decode the secret?');
  });

  it('says when an hmac-sha256 body was re-serialised', async () => {
    const utf8 = { ...hex, key: 'utf8' } as const;
    const s = 'comps_secret_2f9d8c7b6a5e4d3c';
    const { proc, url } = await listen(...hexFlags, '--secret', s);
    const signed = signatureHeaders(utf8, [signingKeyOf(utf8, s)], 'msg_x', Math.floor(Date.now() / 1000), Buffer.from(body));
    await fetch(`${url}/hooks`, { method: 'POST', headers: signed, body: JSON.stringify(payload, null, 2) });
    await proc.waitFor(/→ answered/);
    expect(proc.stdout).toContain('body altered (the secret is right)');
  });

  it('ed25519 with --public-key: valid and invalid, with --json and --reject-invalid', async () => {
    const ed = generateProfileSecret({ scheme: 'ed25519' });
    const { proc, url } = await listen('--signature', 'ed25519', '--public-key', ed.publicKey!, '--reject-invalid', '--status', '204', '--json');
    expect(proc.stderr).toContain('checking ed25519 signatures with 1 public key(s)');
    expect((await postSigned(url, { scheme: 'ed25519' }, ed.secret)).status).toBe(204);
    expect((await postSigned(url, { scheme: 'ed25519' }, generateProfileSecret({ scheme: 'ed25519' }).secret)).status).toBe(401);
    await proc.waitFor(/\n.*\n/);
    const [first, second] = proc.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(first.signature).toMatchObject({ valid: true, scheme: 'ed25519', msgId: 'msg_cli_profile' });
    expect(second.signature).toMatchObject({ valid: false, reason: 'wrong_secret', summary: expect.stringContaining('wrong public key') });
  });

  it('exits 2 on profile flag errors', async () => {
    const ed = generateProfileSecret({ scheme: 'ed25519' });
    const cases: [string[], string][] = [
      [['--public-key', ed.publicKey!], '--public-key is for --signature ed25519'],
      [['--signature', 'ed25519', '--reject-invalid'], '--reject-invalid needs --public-key'],
      [['--signature', 'ed25519', '--secret', ed.secret], '--public-key whpk_'],
      [['--signature', 'hmac-sha256', '--secret', 'comps_secret_2f9d8c7b6a5e4d3c'], '--signature-header'],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli(['listen', '--port', '0', ...flags]);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });
});
