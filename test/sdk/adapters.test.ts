/**
 * The receiver adapters, each in its real framework (Express, Fastify, Hono through the fetch adapter,
 * node:http), against real deliveries from Herald's worker under every signature profile, and against
 * hand-signed requests for what a delivery never does (stale, altered, oversized, unsigned).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateProfileSecret, signatureHeaders, signingKeyOf, type SignatureProfile } from '../../src/core/signature-profile.js';
import { generateSecret } from '../../src/core/signing.js';
import { rotateEndpointSecret } from '../../src/engine/endpoints.js';
import { publish } from '../../src/engine/publish.js';
import { webhookMiddleware } from '../../src/sdk/adapters/express.js';
import { withVerifiedWebhook } from '../../src/sdk/adapters/fetch.js';
import type { AdapterOptions } from '../../src/sdk/delivery.js';
import { WebhookVerificationError } from '../../src/sdk/verify.js';
import { startTestHerald, type TestHerald } from '../support/herald.js';
import { HARNESSES, type Received, type Route, type Server } from './servers.js';

/** A profile with Herald's secret for it and what its receiver verifies with. */
interface Contract {
  profile: SignatureProfile;
  secret: string;
  receiver: AdapterOptions;
}

function contract(profile: SignatureProfile): Contract {
  const { secret, publicKey } = generateProfileSecret(profile);
  const receiver: AdapterOptions = profile.scheme === 'ed25519' ? { profile, publicKeys: publicKey! } : profile.scheme === 'standard' ? { secrets: secret } : { profile, secrets: [secret] };
  return { profile, secret, receiver };
}

const CONTRACTS: Record<string, Contract> = {
  '/standard': contract({ scheme: 'standard' }),
  '/hmac-body': contract({ scheme: 'hmac-sha256', header: 'X-Comps-Signature', timestampHeader: 'X-Comps-Timestamp', content: 'body', encoding: 'hex', key: 'utf8' }),
  '/hmac-hex': contract({ scheme: 'hmac-sha256', header: 'X-Northwind-Signature', timestampHeader: 'X-Northwind-Timestamp', content: 'timestamp.body', encoding: 'hex', key: 'hex' }),
  '/hmac-base64': contract({ scheme: 'hmac-sha256', header: 'X-Body-Signature', content: 'body', encoding: 'base64', key: 'utf8' }),
  '/ed25519': contract({ scheme: 'ed25519' }),
};
const STANDARD = CONTRACTS['/standard']!;

const ROUTES: Route[] = [
  ...Object.entries(CONTRACTS).map(([path, c]) => ({ path, options: c.receiver })),
  { path: '/wrong', options: { secrets: generateSecret() } },
  { path: '/small', options: { secrets: STANDARD.secret, maxBodyBytes: 64 } },
];

let t: TestHerald;
beforeAll(async () => {
  t = await startTestHerald();
});
afterAll(async () => {
  await t?.close();
});

/** What Herald recorded for the one attempt of a message. */
interface Attempt {
  status: number | null;
  body: string | null;
  headers: Record<string, string>;
}

/**
 * Publishes `payload` to a new endpoint at `url` signing under `c`, drains the worker, and returns the
 * attempt. The profile and secret are written to the endpoint as the API stores them.
 */
async function deliver(url: string, c: Contract, payload: Record<string, unknown>): Promise<{ msgId: string; attempt: Attempt }> {
  const app = await t.makeApp();
  const ep = await t.makeEndpoint(app.id, { url });
  const publicKey = c.profile.scheme === 'ed25519' ? (c.receiver.publicKeys as string) : null;
  await t.herald.pool.query('update endpoint set signature = $2 where id = $1', [ep.id, JSON.stringify(c.profile)]);
  await t.herald.pool.query('update endpoint_secret set sealed = $2, hint = $3, public_key = $4 where endpoint_id = $1', [
    ep.id,
    t.herald.secretBox.seal(c.secret, ep.id),
    c.secret.slice(-4),
    publicKey,
  ]);
  t.clock.set(new Date()); // Herald signs with its clock; the receivers check against the real one
  const msg = await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload }, { now: t.clock.now() });
  await t.herald.createWorker().drain();
  const { rows } = await t.herald.pool.query<Attempt>(
    'select response_status as status, response_body as body, request_headers as headers from attempt where msg_id = $1 order by attempt_number',
    [msg.id],
  );
  expect(rows).toHaveLength(1);
  return { msgId: msg.id, attempt: rows[0]! };
}

/** A request signed by hand under `c` (the core's signatureHeaders), optionally with another body sent. */
function signedPost(url: string, c: Contract, opts: { signedBody: string; sentBody?: string; timestamp?: number }) {
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const headers = signatureHeaders(c.profile, [signingKeyOf(c.profile, c.secret)], 'msg_hand_signed', ts, Buffer.from(opts.signedBody));
  return fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: opts.sentBody ?? opts.signedBody });
}

const payload = (n: number) => ({ order: { id: `ord_${n}`, total_pence: 4900 }, customer: 'Zoë Ng', note: 'a/b "quoted"' });

describe.each(HARNESSES.map((h) => [h.name, h] as const))('%s adapter', (_name, harness) => {
  let server: Server;
  const sink: Received[] = [];
  beforeAll(async () => {
    server = await harness.start(ROUTES, sink);
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    sink.length = 0;
  });

  it.each(Object.keys(CONTRACTS))('verifies a real delivery under %s and hands over the payload and raw bytes', async (path) => {
    const c = CONTRACTS[path]!;
    const sent = payload(1);
    const { msgId, attempt } = await deliver(`${server.url}${path}`, c, sent);
    expect(attempt.status, attempt.body ?? '').toBe(204);
    // The delivery carried this profile's headers, and only those signature headers.
    if (c.profile.scheme === 'hmac-sha256') {
      expect(attempt.headers[c.profile.header]).toBeTruthy();
      expect(attempt.headers['webhook-signature']).toBeUndefined();
    } else {
      expect(attempt.headers['webhook-signature']).toMatch(c.profile.scheme === 'ed25519' ? /^v1a,/ : /^v1,/);
    }
    expect(sink).toHaveLength(1);
    const got = sink[0]!;
    expect(got.path).toBe(path);
    expect(got.delivery.payload).toEqual(sent);
    expect(got.delivery.rawBody.equals(Buffer.from(JSON.stringify(sent)))).toBe(true);
    expect(got.delivery.msgId).toBe(c.profile.scheme === 'hmac-sha256' ? null : msgId);
    const hasTimestamp = c.profile.scheme !== 'hmac-sha256' || Boolean(c.profile.timestampHeader);
    expect(typeof got.delivery.timestamp).toBe(hasTimestamp ? 'number' : 'object');
    if ('frameworkBody' in got) expect(got.frameworkBody).toEqual(sent); // req.body / request.body is the parsed payload
  });

  it('answers 401 no_matching_signature to a delivery signed with another secret, and Herald logs why', async () => {
    const { attempt } = await deliver(`${server.url}/wrong`, STANDARD, payload(2));
    expect(attempt.status).toBe(401);
    expect(JSON.parse(attempt.body!)).toMatchObject({ error: 'no_matching_signature', detail: expect.stringContaining("endpoint's current one") });
    expect(sink).toHaveLength(0);
  });

  it.each(['/standard', '/hmac-hex', '/ed25519'])('rejects a re-serialised body under %s, naming it as altered', async (path) => {
    const compact = JSON.stringify(payload(3));
    const res = await signedPost(`${server.url}${path}`, CONTRACTS[path]!, { signedBody: compact, sentBody: JSON.stringify(JSON.parse(compact), null, 2) });
    expect(res.status).toBe(401);
    const answer = (await res.json()) as { error: string; detail: string };
    expect(answer.error).toBe('no_matching_signature');
    expect(answer.detail).toContain('the body was changed after it arrived');
    expect(sink).toHaveLength(0);
  });

  it('rejects a stale request and one signed in the future', async () => {
    const now = Math.floor(Date.now() / 1000);
    const body = JSON.stringify(payload(4));
    const stale = await signedPost(`${server.url}/hmac-body`, CONTRACTS['/hmac-body']!, { signedBody: body, timestamp: now - 600 });
    expect(stale.status).toBe(401);
    expect(await stale.json()).toMatchObject({ error: 'timestamp_too_old' });
    const future = await signedPost(`${server.url}/standard`, STANDARD, { signedBody: body, timestamp: now + 600 });
    expect(future.status).toBe(401);
    expect(await future.json()).toMatchObject({ error: 'timestamp_too_new' });
  });

  it('rejects an unsigned request, naming the missing headers', async () => {
    const res = await fetch(`${server.url}/hmac-hex`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'missing_headers', detail: expect.stringContaining('X-Northwind-Signature') });
  });

  it('answers 413 to a body over maxBodyBytes without verifying it', async () => {
    const res = await signedPost(`${server.url}/small`, STANDARD, { signedBody: JSON.stringify({ pad: 'x'.repeat(1_000) }) });
    expect(res.status).toBe(413);
    expect(sink).toHaveLength(0);
  });

  it('answers 413 to a chunked body (no Content-Length) once it passes maxBodyBytes', async () => {
    const chunks = ['{"pad":"', 'x'.repeat(50), 'y'.repeat(50), '"}'];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const res = await fetch(`${server.url}/small`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(sink).toHaveLength(0);
  });

  it('a rotation: the receiver holding only the old secret keeps verifying during the grace period', async () => {
    const old = STANDARD.secret;
    const app = await t.makeApp();
    const ep = await t.makeEndpoint(app.id, { url: `${server.url}/standard`, secret: old });
    t.clock.set(new Date());
    await rotateEndpointSecret(t.herald.pool, t.herald.secretBox, app.id, ep.id, { graceMs: 3_600_000, now: t.clock.now() });
    await publish(t.herald.pool, app.id, { eventType: 'order.paid', payload: payload(5) }, { now: t.clock.now() });
    await t.herald.createWorker().drain();
    const { rows } = await t.herald.pool.query<Attempt>('select response_status as status, request_headers as headers from attempt where endpoint_id = $1', [ep.id]);
    expect(rows[0]!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(rows[0]!.status).toBe(204);
  });
});

describe('adapter specifics', () => {
  const servers: Record<string, Server> = {};
  const sink: Received[] = [];
  beforeAll(async () => {
    for (const h of HARNESSES) servers[h.name] = await h.start(ROUTES, sink);
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.close()));
  });
  beforeEach(() => {
    sink.length = 0;
  });

  it('express: after express.json() the raw bytes are gone: 500 raw_body_unavailable (Herald retries), saying where to mount', async () => {
    const { attempt } = await deliver(`${servers.express!.url}/json-first`, STANDARD, payload(6));
    expect(attempt.status).toBe(500);
    expect(JSON.parse(attempt.body!)).toMatchObject({ error: 'raw_body_unavailable', detail: expect.stringContaining('before express.json()') });
  });

  it('express: after express.raw() its Buffer is the raw body, and verifies', async () => {
    const { attempt } = await deliver(`${servers.express!.url}/raw-first`, STANDARD, payload(7));
    expect(attempt.status).toBe(204);
    expect(sink[0]!.frameworkBody).toEqual(payload(7));
  });

  it('express and fastify: routes outside the webhook route keep their JSON parser', async () => {
    for (const name of ['express', 'fastify']) {
      const res = await fetch(`${servers[name]!.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a": 1}' });
      expect(await res.json()).toEqual({ a: 1 });
    }
  });

  it('fastify: a body schema validates the verified, parsed payload', async () => {
    const url = `${servers.fastify!.url}/standard`;
    const res = await signedPost(url, STANDARD, { signedBody: JSON.stringify({ no: 'order' }) });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('order');
  });

  it('fetch: a Next.js-style POST = withVerifiedWebhook(...) handler verifies a real delivery', async () => {
    const { attempt } = await deliver(`${servers['fetch (hono)']!.url}/next`, STANDARD, payload(8));
    expect(attempt.status).toBe(204);
    expect(sink.map((s) => s.path)).toEqual(['/next']);
  });

  it('fetch: keepBody verifies a clone and leaves the request readable', async () => {
    const { attempt } = await deliver(`${servers['fetch (hono)']!.url}/keep-body`, STANDARD, payload(9));
    expect(attempt.status).toBe(204);
    expect(sink[0]!.extra).toBe(JSON.stringify(payload(9)));
  });

  it.each(['fetch (hono)', 'node:http'])('%s: a body already read answers 500 raw_body_unavailable', async (name) => {
    const res = await signedPost(`${servers[name]!.url}/read-first`, STANDARD, { signedBody: '{"a":1}' });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: 'raw_body_unavailable' });
  });

  it('an unusable secret or profile stops the app when the adapter is created, not at the first delivery', () => {
    expect(() => webhookMiddleware({ secrets: 'whsec_nope' })).toThrow(WebhookVerificationError);
    expect(() => withVerifiedWebhook({ profile: { scheme: 'ed25519' }, secrets: generateProfileSecret({ scheme: 'ed25519' }).secret }, async () => new Response())).toThrow(/public key/);
    expect(() => webhookMiddleware({ profile: { scheme: 'nope' } as unknown as SignatureProfile, secrets: 'x' })).toThrow(TypeError);
    expect(() => webhookMiddleware({ secrets: STANDARD.secret, maxBodyBytes: 0 })).toThrow(/maxBodyBytes/);
  });
});
