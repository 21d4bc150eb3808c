/**
 * Nothing secret in the clear (issue 13): a real `herald serve` is given an operator token, a secret
 * key and a database password, creates an endpoint secret, a credential custom header, an API key and
 * a portal token, delivers with them and answers error paths; then none of those secrets, in any form
 * they could be written in, appears in what it printed (JSON logs at info, stdout and stderr) or in a
 * dump of every table of its database. The sealed and hashed forms are there; that is the point.
 * Start-up failures over a password-carrying DATABASE_URL, and a too-short HERALD_ADMIN_TOKEN, name
 * the setting and the fix without echoing the credential.
 *
 * The database dump is SQL (`row_to_json` of every table in information_schema), not pg_dump: the
 * embedded PostgreSQL ships none, and Debian's pg_dump cannot dump a newer server.
 *
 * Both test servers use trust authentication (the machine's PostgreSQL, and the embedded one, which
 * initdb creates with --auth=trust), so the password in DATABASE_URL is sent but never checked: it is
 * still a password Herald was given, which is what this test watches for.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, startCli, type CliProcess } from '../cli/cli-process.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

let db: TestDatabase;
let rx: Receiver;
const running: CliProcess[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
  rx = await startReceiver();
});
afterAll(async () => {
  await rx?.close();
  await db?.drop();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});


const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** `url` with `password` in its user-info part. */
function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

/** The part of an `hk_<prefix>_<random>` / `hp_…` token that is secret: the lookup prefix is stored and shown. */
const tokenTail = (token: string) => token.split('_').slice(2).join('_');

/** A secret and the forms it could be written in: as given, its secret part, and the hex a bytea column shows. */
interface Watched {
  /** What it is, for the failure message. */
  name: string;
  /** Strings that must appear nowhere. */
  forms: string[];
}

function watch(name: string, value: string, extra: (string | Buffer)[] = []): Watched {
  const texts = [value, ...extra.filter((x): x is string => typeof x === 'string')];
  const bytes = [...texts.map((t) => Buffer.from(t, 'utf8')), ...extra.filter((x): x is Buffer => Buffer.isBuffer(x))];
  return { name, forms: [...texts, ...bytes.map((b) => b.toString('hex'))] };
}

/** Every watched form found in `haystack`, as "name (form) in where". */
function leaks(watched: Watched[], haystack: string, where: string): string[] {
  return watched.flatMap((w) => w.forms.filter((f) => haystack.includes(f)).map((f) => `${w.name} (${f.slice(0, 12)}…) in ${where}`));
}

/** Every row of every table of the database, one JSON text per row, prefixed by its table. */
async function dumpDatabase(): Promise<{ text: string; tables: string[] }> {
  const { rows: tables } = await db.pool.query<{ schema: string; name: string }>(
    `select table_schema as schema, table_name as name from information_schema.tables
      where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
      order by 1, 2`,
  );
  const lines: string[] = [];
  for (const t of tables) {
    const ident = `"${t.schema.replaceAll('"', '""')}"."${t.name.replaceAll('"', '""')}"`;
    const { rows } = await db.pool.query<{ row: string }>(`select row_to_json(t)::text as row from ${ident} t`);
    for (const r of rows) lines.push(`${t.name} ${r.row}`);
  }
  return { text: lines.join('\n'), tables: tables.map((t) => t.name) };
}

describe('no secret Herald was given or created is in its logs or its database', () => {
  it('keeps the operator token, secret key, database password, endpoint secret, header credential, API key and portal token out of logs and the dump', async () => {
    const port = await freePort();
    const adminToken = `op_${hex(24)}`;
    const secretKeyBytes = randomBytes(32);
    const secretKey = secretKeyBytes.toString('base64');
    const dbPassword = `pw${hex(16)}`;
    const signingKey = randomBytes(32);
    const endpointSecret = `whsec_${signingKey.toString('base64')}`;
    const headerCredential = `cred${hex(20)}`;
    const wrongToken = `hk_${hex(6)}_${randomBytes(32).toString('base64url')}`;
    const serve = startCli(['serve', '--port', String(port)], {
      env: {
        DATABASE_URL: withPassword(db.url, dbPassword),
        HERALD_SECRET_KEY: secretKey,
        HERALD_ADMIN_TOKEN: adminToken,
        HERALD_ALLOW_HTTP: 'true',
        HERALD_ALLOWED_NETWORKS: '127.0.0.0/8',
        HERALD_RETRY_SCHEDULE: '0,1s',
        HERALD_RETRY_JITTER: '0',
        HERALD_LOG_LEVEL: 'info',
        HERALD_LOG_FORMAT: 'json',
      },
    });
    running.push(serve);
    await serve.waitFor(/Herald listening/);
    const base = `http://127.0.0.1:${port}/api/v1`;
    const call = async (method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${opts.token ?? adminToken}`, ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };

    // Everything that holds a secret, through the API; Idempotency-Keys make Herald store the answers
    // that carry a secret (the endpoint's, the API key's).
    const app = await call('POST', '/app', { body: { name: 'Leak check' } });
    expect(app.status).toBe(201);
    const appId: string = app.body.id;
    const endpoint = await call('POST', `/app/${appId}/endpoint`, {
      body: { url: `${rx.url}/leak`, secret: endpointSecret, headers: { Authorization: `Bearer ${headerCredential}` } },
      headers: { 'idempotency-key': `ep-${hex(4)}` },
    });
    expect(endpoint.status).toBe(201);
    const apiKey = await call('POST', '/api-key', { body: { name: 'ci', permissions: ['read', 'create'] }, headers: { 'idempotency-key': `key-${hex(4)}` } });
    expect(apiKey.status).toBe(201);
    const key: string = apiKey.body.key;
    const portal = await call('POST', `/auth/app-portal-access/${appId}`, { body: {} });
    expect(portal.status).toBe(200);
    const portalToken: string = portal.body.token;
    // Secrets read back, and each token used.
    expect((await call('GET', `/app/${appId}/endpoint/${endpoint.body.id}/secret`)).body.key).toBe(endpointSecret);
    expect((await call('GET', `/app/${appId}/endpoint`, { token: portalToken })).status).toBe(200);

    // Two messages published with the API key; the first one's first attempt fails, so it is retried.
    rx.respondOnce({ status: 500, body: 'try again' });
    for (const n of [1, 2]) {
      const msg = await call('POST', `/app/${appId}/msg`, { token: key, body: { eventType: 'order.paid', payload: { n, note: 'leak-check-payload' } } });
      expect(msg.status).toBe(202);
    }
    const requests = await rx.waitFor(3, 20_000);

    // Error paths: a wrong token, a missing application (a token in the query string too), a refused
    // endpoint that carries the real secret and header credential.
    expect((await call('GET', '/app', { token: wrongToken })).status).toBe(401);
    expect((await call('GET', `/app/app_missing?token=${portalToken}`)).status).toBe(404);
    const refused = await call('POST', `/app/${appId}/endpoint`, {
      body: { url: 'not a url', secret: endpointSecret, headers: { Authorization: `Bearer ${headerCredential}` } },
    });
    expect(refused.status).toBe(422);

    // Every attempt is stored before Herald stops (the success of the last arrives a moment after it did).
    for (let i = 0; i < 100; i++) {
      const { rows } = await db.pool.query<{ n: number }>('select count(*)::int as n from attempt');
      if (rows[0]!.n >= 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await serve.stop('SIGTERM')).toBe(0);

    // The strings are real: the receiver got the credential, and the deliveries verify with the secret.
    for (const r of requests) {
      expect(r.headers.authorization).toBe(`Bearer ${headerCredential}`);
      const headers = { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) };
      expect(() => new Webhook(endpointSecret).verify(r.body.toString('utf8'), headers)).not.toThrow();
    }

    const output = `${serve.stdout}\n${serve.stderr}`;
    const lines = serve.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { status?: number; principal?: string });
    // The logs were captured and cover what happened: each token used, each error path answered.
    expect(lines.map((l) => l.status)).toEqual(expect.arrayContaining([201, 200, 202, 401, 404, 422]));
    expect(lines.map((l) => l.principal)).toEqual(expect.arrayContaining(['admin', 'api_key', 'portal']));

    const dump = await dumpDatabase();
    // The dump holds what was stored: the secret (sealed), both tokens (hashed), the custom header
    // (sealed), the stored idempotent answers (sealed), the attempts.
    expect(dump.tables).toEqual(expect.arrayContaining(['endpoint_secret', 'auth_token', 'idempotency_key', 'attempt', 'endpoint']));
    expect(dump.text).toContain(endpoint.body.id);
    // Payloads are bytea, which row_to_json shows as hex: why every secret is also looked for in hex.
    expect(dump.text).toContain(Buffer.from('leak-check-payload').toString('hex'));
    expect(dump.text).toContain(`"${key.split('_')[1]}"`); // the API key's lookup prefix, stored in the clear
    const count = (table: string) => dump.text.split('\n').filter((l) => l.startsWith(`${table} `)).length;
    expect(count('attempt')).toBeGreaterThanOrEqual(3);
    expect(count('endpoint_secret')).toBeGreaterThanOrEqual(1);
    expect(count('idempotency_key')).toBe(2);
    expect(count('auth_token')).toBeGreaterThanOrEqual(2);

    const watched = [
      watch('HERALD_ADMIN_TOKEN', adminToken),
      watch('HERALD_SECRET_KEY', secretKey, [secretKeyBytes]),
      watch('database password', dbPassword),
      watch('endpoint secret', endpointSecret, [signingKey.toString('base64'), signingKey]),
      watch('custom header credential', headerCredential),
      watch('API key', key, [tokenTail(key)]),
      watch('portal token', portalToken, [tokenTail(portalToken)]),
      watch('rejected token', wrongToken, [tokenTail(wrongToken)]),
    ];
    expect([...leaks(watched, output, 'the output of herald serve'), ...leaks(watched, dump.text, 'the database')]).toEqual([]);
  }, 120_000);
});

// Each case starts the CLI with the server's module graph: seconds each on a busy machine.
describe('start-up failures do not echo credentials', { timeout: 60_000 }, () => {
  const env = (over: Record<string, string>) => ({ HERALD_SECRET_KEY: randomBytes(32).toString('base64'), HERALD_LOG_FORMAT: 'json', ...over });

  it('a malformed DATABASE_URL with a password: exit 2 naming DATABASE_URL and percent-encoding, password masked', async () => {
    const res = await runCli(['serve'], { env: env({ DATABASE_URL: 'postgres://u:hunter2secret@[bad' }) });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/DATABASE_URL="postgres:\/\/\*\*\*@\[bad": is not a valid URL: percent-encode special characters/);
    expect(res.stdout + res.stderr).not.toContain('hunter2secret');
  });

  it('an unreachable DATABASE_URL with a password, in the user-info part or as a parameter: exit 1 saying what to check, password masked', async () => {
    const cases = [
      ['postgres://u:hunter2secret@127.0.0.1:1/x', 'postgres://u:***@127.0.0.1:1/x'],
      ['postgres://u@127.0.0.1:1/x?password=hunter2secret', 'postgres://u@127.0.0.1:1/x?password=***'],
    ] as const;
    // Every command that opens the database says it the same way, not only serve.
    const commands = [['serve'], ['migrate'], ['secrets', 'rotate-key']];
    const runs = cases.flatMap(([url, shown]) => commands.map((args) => ({ args, url, shown })));
    const results = await Promise.all(runs.map(({ args, url }) => runCli(args, { env: env({ DATABASE_URL: url }) })));
    for (const [i, res] of results.entries()) {
      const { shown } = runs[i]!;
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`Herald could not reach the PostgreSQL server in DATABASE_URL (${shown}): connect ECONNREFUSED 127.0.0.1:1.`);
      expect(res.stderr).toMatch(/Check that PostgreSQL is running and accepts TCP connections at that host and port/);
      expect(res.stdout + res.stderr).not.toContain('hunter2secret');
    }
  });

  it('a DATABASE_URL naming a database that does not exist: exit 1 saying so, password masked', async () => {
    const url = new URL(withPassword(db.url, 'hunter2secret'));
    url.pathname = `/herald_missing_${hex(4)}`;
    const res = await runCli(['serve'], { env: env({ DATABASE_URL: url.toString() }) });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Herald found no such database on the PostgreSQL server in DATABASE_URL \(postgres:\/\/\w+:\*\*\*@127\.0\.0\.1:\d+\/herald_missing_\w+\)/);
    expect(res.stderr).toMatch(/Create the database/);
    expect(res.stdout + res.stderr).not.toContain('hunter2secret');
  });

  it('a too-short HERALD_ADMIN_TOKEN: exit 2 naming it and how to make one, its value not shown', async () => {
    const res = await runCli(['serve'], { env: env({ DATABASE_URL: db.url, HERALD_ADMIN_TOKEN: 'tooShort-9f3k' }) });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/HERALD_ADMIN_TOKEN=\(value not shown\): must be at least 24 characters; generate one with `openssl rand -hex 32`/);
    expect(res.stdout + res.stderr).not.toContain('tooShort-9f3k');
  });
});
