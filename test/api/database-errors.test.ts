/**
 * Every way node-postgres reports a database that did not answer is a 503 with Retry-After at the HTTP
 * boundary, never a 500 (issue 13). The errors are the driver's own, provoked against loopback
 * sockets that behave like a stopped, hung, dying or starting PostgreSQL; test/api/database-outage.test.ts
 * stops a real one.
 */
import net from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler, isDatabaseUnavailable } from '../../src/api/errors.js';
import { HeraldError } from '../../src/core/errors.js';

/** A loopback server that handles each connection with `onConnection`; closed after the file. */
async function fakeServer(onConnection: (socket: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A PostgreSQL ErrorResponse message (protocol 3.0) with severity FATAL. */
function fatal(sqlstate: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${sqlstate}\0M${message}\0\0`);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

/** The error a pg client gets connecting to 127.0.0.1:`port`. */
async function connectError(port: number, opts: pg.ClientConfig = {}): Promise<Error> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'herald', database: 'herald', ...opts });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    return e as Error;
  } finally {
    await client.end().catch(() => undefined);
  }
  throw new Error('connected to a fake server');
}

let app: FastifyInstance;
let thrown: Error;
const servers: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  app = Fastify();
  app.setErrorHandler(errorHandler);
  app.get('/fail', async () => {
    throw thrown;
  });
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await Promise.all(servers.map((s) => s.close()));
});

async function answerTo(err: Error) {
  thrown = err;
  const res = await app.inject({ method: 'GET', url: '/fail' });
  return { status: res.statusCode, retryAfter: res.headers['retry-after'], code: res.json().code };
}

const UNAVAILABLE = { status: 503, retryAfter: '1', code: 'unavailable' };

describe('database errors at the HTTP boundary', () => {
  it('answers 503 for a server that is down, hangs, hangs up, shuts down or is starting', async () => {
    const closed = await fakeServer(() => undefined);
    const closedPort = closed.port;
    await closed.close(); // nothing listens there now: ECONNREFUSED
    const hangs = await fakeServer(() => undefined);
    const hangsUp = await fakeServer((s) => s.destroy());
    const starting = await fakeServer((s) => s.once('data', () => s.end(fatal('57P03', 'the database system is starting up'))));
    const shutting = await fakeServer((s) => s.once('data', () => s.end(fatal('57P01', 'terminating connection due to administrator command'))));
    servers.push(hangs, hangsUp, starting, shutting);

    // One connection, hanging: the first query's connect times out, the second one's wait for it too.
    const pool = new pg.Pool({ host: '127.0.0.1', port: hangs.port, user: 'herald', max: 1, connectionTimeoutMillis: 200 });
    const [connectTimeout, poolTimeout] = await Promise.all(
      [pool.query('select 1'), pool.query('select 1')].map((q) =>
        q.then(
          () => new Error('answered'),
          (e: Error) => e,
        ),
      ),
    );
    await pool.end();
    const ended = await pool.query('select 1').then(
      () => new Error('answered'),
      (e: Error) => e,
    );

    // A client whose connection was closed (pg's end() on the way out of a failed connect) refuses queries.
    const closedClient = new pg.Client({ host: '127.0.0.1', port: hangsUp.port, user: 'herald' });
    closedClient.on('error', () => undefined);
    await closedClient.connect().catch(() => undefined);
    await closedClient.end().catch(() => undefined);
    const notQueryable = await closedClient.query('select 1').then(
      () => new Error('answered'),
      (e: Error) => e,
    );

    const errors: Record<string, Error> = {
      'client closed': notQueryable,
      refused: await connectError(closedPort),
      'connect timeout': connectTimeout!,
      'pool timeout': poolTimeout!,
      'pool ended': ended,
      'hung up': await connectError(hangsUp.port),
      'cannot connect now': await connectError(starting.port),
      'admin shutdown': await connectError(shutting.port),
    };
    expect(errors.refused).toMatchObject({ code: 'ECONNREFUSED' });
    expect(errors['connect timeout']!.message).toMatch(/^Connection terminated due to connection timeout/);
    expect(errors['pool timeout']!.message).toMatch(/^timeout exceeded when trying to connect/);
    expect(errors['pool ended']!.message).toMatch(/^Cannot use a pool after calling end on the pool/);
    expect(errors['hung up']!.message).toMatch(/^Connection terminated unexpectedly/);
    expect(errors['client closed']!.message).toMatch(/is not queryable/);
    expect(errors['cannot connect now']).toMatchObject({ code: '57P03' });
    expect(errors['admin shutdown']).toMatchObject({ code: '57P01' });
    for (const [what, err] of Object.entries(errors)) {
      expect(isDatabaseUnavailable(err), what).toBe(true);
      expect({ what, ...(await answerTo(err)) }).toEqual({ what, ...UNAVAILABLE });
    }
  });

  it('answers 503 when the lost connection is wrapped: in a HeraldError, a cause, or every address of a host refused', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const refused6 = Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' });
    const wrapped = {
      herald: new HeraldError('internal', 'Error: Connection terminated unexpectedly', { cause: new Error('Connection terminated unexpectedly') }),
      cause: new Error('migration step failed', { cause: refused }),
      aggregate: new AggregateError([refused6, refused], ''),
    };
    for (const [what, err] of Object.entries(wrapped)) expect({ what, ...(await answerTo(err)) }).toEqual({ what, ...UNAVAILABLE });
  });

  it('still answers 500 for errors that are not about the connection', async () => {
    const others = [
      new Error('boom'),
      Object.assign(new Error('division by zero'), { code: '22012' }),
      Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
      new HeraldError('internal', 'API key was not stored'),
      new AggregateError([new Error('a'), new Error('b')], 'two failures'),
    ];
    for (const err of others) expect(await answerTo(err), err.message).toMatchObject({ status: 500, code: 'internal' });
  });
});
