/**
 * The API commands (apps, event-types, endpoints, keys, publish, recover) run as child processes
 * against a running Herald, as a user's shell or script would run them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret } from '../../src/core/signing.js';
import { runCli, startCli, type CliProcess } from './cli-process.js';

// Every step starts a Node process (about a second each on a busy 2-core machine), so tests take a while.
vi.setConfig({ testTimeout: 120_000 });

let server: TestServer;
let env: Record<string, string>;
let receivers: Receiver[] = [];
let processes: CliProcess[] = [];

beforeAll(async () => {
  // One attempt per delivery, so a failed delivery is final at once and `recover` has work to do.
  server = await startTestServer({ HERALD_RETRY_SCHEDULE: '0' });
  env = { HERALD_URL: server.url, HERALD_TOKEN: server.adminToken };
});
afterEach(async () => {
  await Promise.all(processes.map((p) => p.stop('SIGKILL')));
  await Promise.all(receivers.map((r) => r.close()));
  processes = [];
  receivers = [];
});
afterAll(async () => {
  await server?.close();
});

const herald = (...args: string[]) => runCli(args, { env });

/** Runs a command that must succeed and returns its trimmed stdout. */
async function ok(...args: string[]): Promise<string> {
  const r = await herald(...args);
  expect(r.stderr.startsWith('error:') ? r.stderr : '').toBe('');
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

async function receiver(): Promise<Receiver> {
  const rx = await startReceiver();
  receivers.push(rx);
  return rx;
}

describe('herald apps', () => {
  it('creates, lists (table and JSON, paged) and deletes applications', async () => {
    const id = await ok('apps', 'create', 'Acme Inc', '--uid', 'acme-apps', '--metadata', '{"plan":"pro"}');
    expect(id).toMatch(/^app_/);
    await Promise.all([ok('apps', 'create', 'Beta'), ok('apps', 'create', 'Gamma')]);

    const table = await herald('apps', 'list');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+UID\s+NAME\s+CREATED$/);
    expect(table.stdout).toMatch(new RegExp(`${id}\\s+acme-apps\\s+Acme Inc`));

    const page = await herald('apps', 'list', '--limit', '2');
    expect(page.stdout.trim().split('\n')).toHaveLength(3); // header + 2 rows
    expect(page.stderr).toMatch(/more applications: add --iterator \S+, or --all/);

    const all = JSON.parse(await ok('apps', 'list', '--limit', '2', '--all', '--json'));
    expect(all.done).toBe(true);
    expect(all.data.map((a: { id: string }) => a.id)).toContain(id);
    expect(all.data.find((a: { id: string }) => a.id === id)).toMatchObject({ name: 'Acme Inc', uid: 'acme-apps', metadata: { plan: 'pro' } });

    const dup = await herald('apps', 'create', 'Again', '--uid', 'acme-apps');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('already exists (HTTP 409, conflict)');

    await ok('apps', 'delete', 'acme-apps');
    const gone = await herald('apps', 'delete', 'acme-apps');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('HTTP 404');
  });

  it('prints the created application as JSON with --json', async () => {
    const app = JSON.parse(await ok('apps', 'create', 'Json Co', '--json'));
    expect(app).toMatchObject({ name: 'Json Co', id: expect.stringMatching(/^app_/) });
  });
});

describe('herald event-types', () => {
  it('creates, lists and archives event types', async () => {
    expect(await ok('event-types', 'create', 'invoice.paid', '--description', 'An invoice was paid')).toBe('invoice.paid');
    const list = await ok('event-types', 'list');
    expect(list).toMatch(/invoice\.paid\s+no\s+An invoice was paid/);
    await ok('event-types', 'delete', 'invoice.paid');
    const visible = JSON.parse(await ok('event-types', 'list', '--json'));
    expect(visible.data.map((t: { name: string }) => t.name)).not.toContain('invoice.paid');
    const archived = JSON.parse(await ok('event-types', 'list', '--include-archived', '--json'));
    expect(archived.data.find((t: { name: string }) => t.name === 'invoice.paid')).toMatchObject({ archived: true });
  });

  it('prints the API validation detail for a bad name', async () => {
    const r = await herald('event-types', 'create', 'bad name!');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('HTTP 422');
    expect(r.stderr).toContain('name');
  });
});

describe('herald endpoints and publish', () => {
  it('creates an endpoint, publishes to it, and the delivery arrives', async () => {
    const rx = await receiver();
    const app = await ok('apps', 'create', 'Shop', '--uid', 'shop');
    expect(app).toMatch(/^app_/);
    // An endpoint may only subscribe to event types that exist.
    await Promise.all(['order.paid', 'order.refunded'].map((t) => ok('event-types', 'create', t)));
    const ep = await ok('endpoints', 'create', 'shop', `${rx.url}/hooks`, '--event-types', 'order.paid,order.refunded', '--description', 'orders', '--header', 'X-Tenant: shop');
    expect(ep).toMatch(/^ep_/);

    const list = await ok('endpoints', 'list', 'shop');
    expect(list).toContain(`${rx.url}/hooks`);
    expect(list).toContain('order.paid,order.refunded');
    const json = JSON.parse(await ok('endpoints', 'list', 'shop', '--json'));
    expect(json.data[0]).toMatchObject({ id: ep, filterTypes: ['order.paid', 'order.refunded'] });

    const msg = await ok('publish', 'shop', 'order.paid', '{"orderId":"o_1","amount":4200}', '--event-id', 'o_1-paid');
    expect(msg).toMatch(/^msg_/);
    const [req] = await rx.waitFor(1);
    expect(req!.headers['webhook-id']).toBe(msg);
    expect(req!.headers['x-tenant']).toBe('shop');
    expect(JSON.parse(req!.body.toString('utf8'))).toEqual({ orderId: 'o_1', amount: 4200 });

    // Publishing the same event id again returns the same message.
    expect(await ok('publish', 'shop', 'order.paid', '{"orderId":"o_1","amount":4200}', '--event-id', 'o_1-paid')).toBe(msg);

    await ok('endpoints', 'delete', 'shop', ep);
    expect((await herald('endpoints', 'delete', 'shop', ep)).code).toBe(1);
  });

  it('end to end with listen: a real delivery verifies against the secret `endpoints secret` prints', async () => {
    const secret = generateSecret();
    const proc = startCli(['listen', '--port', '0', '--secret', secret, '--status', '202'], { env });
    processes.push(proc);
    const [, url] = (await proc.waitFor(/listening on (http:\/\/\S+)/)) as RegExpMatchArray & [string, string];
    await ok('apps', 'create', 'Dev', '--uid', 'dev');
    const ep = await ok('endpoints', 'create', 'dev', `${url}/webhook`, '--secret', secret);
    expect(await ok('endpoints', 'secret', 'dev', ep)).toBe(secret);
    await ok('publish', 'dev', 'user.created', '{"userId":"u_1"}');
    await proc.waitFor(/→ answered 202/);
    expect(proc.stdout).toContain('POST /webhook');
    expect(proc.stdout).toContain('"userId": "u_1"');
    expect(proc.stdout).toContain('✓ valid signature');
  });

  it('reports the API validation error for a bad URL, and a usage error for a bad payload', async () => {
    await ok('apps', 'create', 'Val', '--uid', 'val');
    const bad = await herald('endpoints', 'create', 'val', 'ftp://example.com/x');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('HTTP 422');
    expect(bad.stderr).toContain('url');
    const notObject = await herald('publish', 'val', 'order.paid', '[1,2]');
    expect(notObject.code).toBe(2);
    expect(notObject.stderr).toContain('payload must be a JSON object');
    const notJson = await herald('publish', 'val', 'order.paid', '{oops');
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('payload is not valid JSON');
  });
});

describe('delivery policy flags', () => {
  it('sets, shows and resets application and endpoint policies; paused endpoints show their held deliveries', async () => {
    const app = await ok('apps', 'create', 'Policy', '--uid', 'policy', '--max-in-flight', '8', '--timeout', '20s', '--retry-schedule', '1m,5m', '--throttle-rate', '3');
    const shown = JSON.parse(await ok('apps', 'get', 'policy', '--json'));
    expect(shown).toMatchObject({ id: app, maxInFlight: 8, timeoutMs: 20_000, retrySchedule: [60, 300], throttleRate: 3 });
    await ok('apps', 'update', 'policy', '--timeout', 'inherit', '--retry-schedule', '2h');
    const appText = await ok('apps', 'get', 'policy');
    expect(appText).toMatch(/max in flight\s+8\n/);
    expect(appText).toMatch(/timeout\s+5s \(inherited\)/); // the test server's HERALD_REQUEST_TIMEOUT
    expect(appText).toMatch(/retry schedule\s+2h \(2 attempts\)\n/);

    const ep = await ok('endpoints', 'create', 'policy', 'https://example.com/in', '--disabled', '--ordering', 'strict', '--retry-schedule', '1m,5m,30m,2h,24h', '--timeout', '10s');
    await ok('publish', 'policy', 'order.paid', '{"n":1}');
    const text = await ok('endpoints', 'get', 'policy', ep);
    expect(text).toMatch(/status\s+paused: 1 delivery held \(resuming sends them in publish order\)/);
    expect(text).toMatch(/breaker\s+closed/);
    expect(text).toMatch(/ordering\s+strict/);
    expect(text).toMatch(/max in flight\s+8 \(inherited\)/);
    expect(text).toMatch(/timeout\s+10s\n/);
    expect(text).toMatch(/retry schedule\s+1m,5m,30m,2h,1d \(6 attempts\)\n/);
    expect(text).toMatch(/throttle rate\s+3\/s \(inherited\)/);

    await ok('endpoints', 'update', 'policy', ep, '--max-in-flight', '3', '--ordering', 'parallel', '--timeout', 'inherit', '--throttle-rate', '9');
    const json = JSON.parse(await ok('endpoints', 'get', 'policy', ep, '--json'));
    expect(json).toMatchObject({ maxInFlight: 3, ordering: 'parallel', timeoutMs: null, throttleRate: 9, retrySchedule: [60, 300, 1800, 7200, 86400], paused: true, held: 1 });
  });

  it('refuses malformed policy flags before calling the API, and prints the API bound errors', async () => {
    await ok('apps', 'create', 'Bounds', '--uid', 'bounds');
    const usage = await Promise.all([
      herald('endpoints', 'create', 'bounds', 'https://example.com/x', '--retry-schedule', '1m,5'),
      herald('endpoints', 'create', 'bounds', 'https://example.com/x', '--timeout', '10'),
      herald('endpoints', 'create', 'bounds', 'https://example.com/x', '--ordering', 'random'),
      herald('endpoints', 'create', 'bounds', 'https://example.com/x', '--retry-schedule', '1500ms'),
      herald('endpoints', 'update', 'bounds', 'ep_x'),
      herald('apps', 'update', 'bounds'),
    ]);
    expect(usage.map((r) => r.code)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(usage[0]!.stderr).toContain('--retry-schedule takes durations with a unit');
    expect(usage[2]!.stderr).toContain('--ordering must be "parallel" or "strict"');
    expect(usage[4]!.stderr).toContain('nothing to change');

    const bound = await herald('endpoints', 'create', 'bounds', 'https://example.com/x', '--max-in-flight', '100000');
    expect(bound.code).toBe(1);
    expect(bound.stderr).toContain('HTTP 422');
    expect(bound.stderr).toContain('body.maxInFlight');
  });
});

describe('signature profile, delivery header and envelope flags', () => {
  it('sets an application profile its endpoints inherit, an endpoint override, and shows what is in force', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-cli-'));
    const envelope = join(dir, 'envelope.json');
    await writeFile(envelope, JSON.stringify({ id: '{{message.id}}', type: '{{message.eventType}}', data: '{{payload}}' }));
    await ok(
      'apps', 'create', 'Northwind', '--uid', 'northwind', '--signature', 'hmac-sha256', '--signature-header', 'X-Northwind-Signature',
      '--timestamp-header', 'X-Northwind-Timestamp', '--signed-content', 'timestamp.body', '--signature-key', 'hex',
      '--event-type-header', 'X-Northwind-Event', '--user-agent', 'Northwind-Webhooks/1.0', '--envelope-file', envelope,
    );
    const app = JSON.parse(await ok('apps', 'get', 'northwind', '--json'));
    expect(app).toMatchObject({
      signature: { scheme: 'hmac-sha256', header: 'X-Northwind-Signature', timestampHeader: 'X-Northwind-Timestamp', content: 'timestamp.body', encoding: 'hex', key: 'hex' },
      deliveryHeaders: { eventType: 'X-Northwind-Event', deliveryId: null, userAgent: 'Northwind-Webhooks/1.0' },
      envelope: { data: '{{payload}}' },
    });
    expect(await ok('apps', 'get', 'northwind')).toMatch(/signature\s+hmac-sha256: hex HMAC of \{timestamp\}\.\{body\} keyed with the hex-decoded secret, in X-Northwind-Signature; timestamp in X-Northwind-Timestamp/);

    const created = JSON.parse(await ok('endpoints', 'create', 'northwind', 'https://example.com/in', '--json'));
    expect(created.secret).toMatch(/^[0-9a-f]{64}$/);
    const text = await ok('endpoints', 'get', 'northwind', created.id);
    expect(text).toMatch(/signature\s+hmac-sha256: .* in X-Northwind-Signature; timestamp in X-Northwind-Timestamp \(inherited\)/);
    expect(text).toMatch(/delivery headers\s+event type in X-Northwind-Event, User-Agent Northwind-Webhooks\/1\.0 \(inherited\)/);

    // Changing one part keeps the rest of what is in force.
    await ok('endpoints', 'update', 'northwind', created.id, '--signature-encoding', 'base64', '--delivery-id-header', 'X-Northwind-Delivery');
    const json = JSON.parse(await ok('endpoints', 'get', 'northwind', created.id, '--json'));
    expect(json.signature).toMatchObject({ header: 'X-Northwind-Signature', content: 'timestamp.body', encoding: 'base64', key: 'hex' });
    expect(json.deliveryHeaders).toEqual({ eventType: 'X-Northwind-Event', deliveryId: 'X-Northwind-Delivery', userAgent: 'Northwind-Webhooks/1.0' });
    await ok('endpoints', 'update', 'northwind', created.id, '--signature', 'inherit', '--user-agent', 'inherit');
    expect(JSON.parse(await ok('endpoints', 'get', 'northwind', created.id, '--json'))).toMatchObject({ signature: null, deliveryHeaders: null });

    const imported = await ok('endpoints', 'create', 'northwind', 'https://example.com/own', '--signature', 'hmac-sha256', '--signature-header', 'X-Own-Sig', '--secret', 'customer_secret_0123456789');
    expect(await ok('endpoints', 'secret', 'northwind', imported)).toBe('customer_secret_0123456789');

    await ok('event-types', 'create', 'northwind.changed', '--envelope-file', envelope);
    await ok('event-types', 'update', 'northwind.changed', '--no-envelope');
    const types = JSON.parse(await ok('event-types', 'list', '--json'));
    expect(types.data.find((t: { name: string }) => t.name === 'northwind.changed')).toMatchObject({ envelope: null });
    await rm(dir, { recursive: true, force: true });
  });

  it('switches an endpoint to ed25519 with a generated key and shows where receivers get the public key', async () => {
    await ok('apps', 'create', 'Signed', '--uid', 'signed');
    const ep = await ok('endpoints', 'create', 'signed', 'https://example.com/in');
    const refused = await herald('endpoints', 'update', 'signed', ep, '--signature', 'ed25519');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('body.signature');
    expect(refused.stderr).toContain('rotate');
    const switched = await herald('endpoints', 'update', 'signed', ep, '--signature', 'ed25519', '--secret', 'generate');
    expect(switched.code).toBe(0);
    expect(switched.stdout.trim()).toMatch(/^whsk_/);
    const text = await ok('endpoints', 'get', 'signed', ep);
    expect(text).toMatch(/signature\s+ed25519/);
    expect(text).toMatch(new RegExp(`public keys\\s+${server.url}/api/v1/public/endpoint/${ep}/keys`));
    const keys = (await (await fetch(`${server.url}/api/v1/public/endpoint/${ep}/keys`)).json()) as { keys: { key: string }[] };
    expect(keys.keys).toHaveLength(1);
    expect(keys.keys[0]!.key).toMatch(/^whpk_/);
  });

  it('refuses malformed signature flags before calling the API', async () => {
    const usage = await Promise.all([
      herald('endpoints', 'create', 'nowhere', 'https://example.com/x', '--signature', 'rsa'),
      herald('endpoints', 'create', 'nowhere', 'https://example.com/x', '--signature', 'hmac-sha256'),
      herald('endpoints', 'create', 'nowhere', 'https://example.com/x', '--signature', 'standard', '--signature-header', 'X-Sig'),
      herald('apps', 'create', 'X', '--signature', 'hmac-sha256', '--signature-header', 'X-Sig', '--signature-encoding', 'base32'),
      herald('apps', 'create', 'X', '--envelope-file', '/nonexistent/envelope.json'),
      herald('endpoints', 'update', 'nowhere', 'ep_x', '--user-agent', 'inherit', '--event-type-header', 'X-Ev'),
    ]);
    expect(usage.map((r) => r.code)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(usage[0]!.stderr).toContain('--signature must be');
    expect(usage[1]!.stderr).toContain('--signature-header');
    expect(usage[3]!.stderr).toContain('--signature-encoding must be hex, base64');
    expect(usage[4]!.stderr).toContain('--envelope-file');
  });
});

describe('herald keys', () => {
  it('creates a scoped key shown once, which then works within its permissions, and revokes it', async () => {
    const appId = await ok('apps', 'create', 'Keyed', '--uid', 'keyed');
    const created = await herald('keys', 'create', '--name', 'ci', '--permissions', 'read', '--app', appId);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key.length).toBeGreaterThan(20);
    expect(created.stderr).toContain('not shown again');

    const listed = await ok('keys', 'list', '--json');
    expect(listed).not.toContain(key);
    const row = JSON.parse(listed).data.find((k: { name: string }) => k.name === 'ci');
    expect(row).toMatchObject({ permissions: ['read'], appId });
    const table = await ok('keys', 'list');
    expect(table).toMatch(/ci\s+\S+\s+read\s+app_/);

    const asKey = (...args: string[]) => runCli(args, { env: { ...env, HERALD_TOKEN: key } });
    expect((await asKey('endpoints', 'list', 'keyed')).code).toBe(0);
    const forbidden = await asKey('endpoints', 'create', 'keyed', 'https://example.com/hook');
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain('HTTP 403');
    expect(forbidden.stderr).not.toContain(key);

    await ok('keys', 'revoke', row.id);
    const revoked = await asKey('endpoints', 'list', 'keyed');
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toContain('HTTP 401');
    expect(revoked.stderr).not.toContain(key);
  });

  it('refuses unknown permissions before calling the API', async () => {
    const r = await herald('keys', 'create', '--name', 'x', '--permissions', 'read,admin');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown: admin');
  });
});

describe('herald recover', () => {
  /** Waits until the endpoint's deliveries have all been attempted and `n` of them failed. */
  async function failedCount(app: string, ep: string, n: number) {
    await expect
      .poll(async () => {
        const res = await fetch(`${server.url}/api/v1/app/${app}/endpoint/${ep}/stats`, { headers: { authorization: `Bearer ${server.adminToken}` } });
        const s = (await res.json()) as { fail: number; pending: number; sending: number };
        return s.pending + s.sending === 0 ? s.fail : -1;
      }, { timeout: 10_000 })
      .toBe(n);
  }

  it('re-sends failed deliveries and, with --wait, reports them delivered', async () => {
    const rx = await receiver();
    rx.respondWith({ status: 500 });
    await ok('apps', 'create', 'Rec', '--uid', 'rec');
    const ep = await ok('endpoints', 'create', 'rec', `${rx.url}/r`);
    await ok('publish', 'rec', 'order.paid', '{"n":1}');
    await ok('publish', 'rec', 'order.paid', '{"n":2}');
    await failedCount('rec', ep, 2);

    rx.respondWith({ status: 200 });
    const r = await herald('recover', 'rec', ep, '--since', '1h', '--wait', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ queued: 2, attempted: 2, delivered: 2, failedAgain: 0, finished: true });
    expect(rx.requests).toHaveLength(4);
  });

  it('exits 1 when recovered deliveries fail again; without --wait it only reports the queued count', async () => {
    const rx = await receiver();
    rx.respondWith({ status: 500 });
    await ok('apps', 'create', 'Rec3', '--uid', 'rec3');
    const ep = await ok('endpoints', 'create', 'rec3', `${rx.url}/r`);
    await ok('publish', 'rec3', 'order.paid', '{"n":1}');
    await failedCount('rec3', ep, 1);

    const again = await herald('recover', 'rec3', ep, '--since', '1h', '--wait');
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('1 delivery queued; 1 attempted: 0 delivered, 1 failed again');
    expect(again.stderr).toContain('some deliveries failed again');

    await failedCount('rec3', ep, 1);
    const queued = await herald('recover', 'rec3', ep, '--since', '1h');
    expect(queued.code).toBe(0);
    expect(queued.stdout).toContain('1 delivery queued');
  });

  it('says when there is nothing to recover, and refuses a bad --since', async () => {
    await ok('apps', 'create', 'Rec2', '--uid', 'rec2');
    const ep = await ok('endpoints', 'create', 'rec2', 'https://example.com/x');
    expect(await ok('recover', 'rec2', ep, '--since', '2h ago')).toContain('nothing to recover');
    const bad = await herald('recover', 'rec2', ep, '--since', 'yesterday');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since must be');
  });
});

describe('connection errors', () => {
  it('exits 2 without a token, 1 with a wrong one or an unreachable server, and never prints the token', async () => {
    const [none, wrong, down, badUrl, badToken] = await Promise.all([
      runCli(['apps', 'list'], { env: { HERALD_URL: server.url } }),
      runCli(['apps', 'list', '--token', 'hk_wrong_token_value_1234567890'], { env: { HERALD_URL: server.url } }),
      runCli(['apps', 'list', '--url', 'http://127.0.0.1:1'], { env }),
      runCli(['apps', 'list', '--url', 'ftp://x'], { env }),
      runCli(['apps', 'list'], { env: { HERALD_URL: server.url, HERALD_TOKEN: 'two words' } }),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no API token: set HERALD_TOKEN');

    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('HTTP 401');
    expect(wrong.stderr).not.toContain('hk_wrong_token_value_1234567890');

    expect(down.code).toBe(1);
    expect(down.stderr).toContain('could not reach Herald at http://127.0.0.1:1');

    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('--url');

    expect(badToken.code).toBe(2);
    expect(badToken.stderr).toContain('(value not shown)');
    expect(badToken.stderr).not.toContain('two words');

    for (const r of [none, wrong, down, badUrl, badToken]) expect(r.stderr).not.toContain(server.adminToken);
  });

  it('exits 2 on unknown commands, flags and missing arguments', async () => {
    const usage = await Promise.all([
      herald('apps', 'frobnicate'),
      herald('apps', 'list', '--nope'),
      herald('endpoints', 'create', 'only-app'),
      herald('apps', 'list', '--limit', '0'),
      herald('nonsense'),
    ]);
    expect(usage.map((r) => r.code)).toEqual([2, 2, 2, 2, 2]);
    expect((await herald('apps', '--help')).code).toBe(0);
  });
});

describe('herald apps --retention', () => {
  it('sets, shows and resets an application retention period; the list gains a RETENTION column once one is set', async () => {
    const plain = await ok('apps', 'create', 'Plain keeper');
    const id = await ok('apps', 'create', 'Keeper', '--uid', 'keeper', '--retention', '30d');
    expect(JSON.parse(await ok('apps', 'get', 'keeper', '--json'))).toMatchObject({ id, retentionPeriod: 30 });
    expect(await ok('apps', 'get', 'keeper')).toMatch(/\nretention\s+30d\n/);

    const table = await ok('apps', 'list', '--all');
    expect(table.split('\n')[0]).toMatch(/^ID\s+UID\s+NAME\s+RETENTION\s+CREATED$/);
    expect(table).toMatch(new RegExp(`${id}\\s+keeper\\s+Keeper\\s+30d\\s`));
    expect(table).toMatch(new RegExp(`${plain}\\s+-\\s+Plain keeper\\s+-\\s+\\d{4}-`)); // on the server default: "-"

    await ok('apps', 'update', 'keeper', '--retention', '2160h'); // 90 days, in hours
    expect(JSON.parse(await ok('apps', 'get', 'keeper', '--json')).retentionPeriod).toBe(90);
    await ok('apps', 'update', 'keeper', '--retention', 'inherit');
    expect(JSON.parse(await ok('apps', 'get', 'keeper', '--json')).retentionPeriod).toBeNull();
    expect(await ok('apps', 'get', 'keeper')).toMatch(/\nretention\s+server default \(HERALD_RETENTION_PERIOD; inherited\)\n/);
    const listed = JSON.parse(await ok('apps', 'list', '--all', '--json'));
    expect(listed.data.find((a: { id: string }) => a.id === id)).toMatchObject({ retentionPeriod: null });
  });

  it('refuses a retention that is not whole days from 1d to 3650d before calling the API', async () => {
    const refused = await Promise.all([
      herald('apps', 'create', 'Bad retention', '--retention', '30'),
      herald('apps', 'create', 'Bad retention', '--retention', '36h'),
      herald('apps', 'create', 'Bad retention', '--retention', '3651d'),
      herald('apps', 'update', 'keeper', '--retention', 'forever'),
    ]);
    expect(refused.map((r) => r.code)).toEqual([2, 2, 2, 2]);
    expect(refused[0]!.stderr).toContain('--retention takes durations with a unit');
    expect(refused[1]!.stderr).toContain('--retention is whole days from 1d to 3650d');
    expect(refused[2]!.stderr).toContain('--retention is whole days from 1d to 3650d');
    expect(refused[3]!.stderr).toContain('--retention takes durations with a unit');
    expect(JSON.parse(await ok('apps', 'list', '--all', '--json')).data.some((a: { name: string }) => a.name === 'Bad retention')).toBe(false);
  });
});
