import { describe, expect, it } from 'vitest';
import { describeConnectionFailure } from './connection-failure.js';

/** An error shaped like the ones node-postgres throws: a message and Node's or PostgreSQL's code. */
const err = (message: string, code?: string) => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('describeConnectionFailure', () => {
  const url = 'postgres://herald:hunter2secret@db.example.com:5432/herald';

  it('names DATABASE_URL with its password masked, what failed, and the fix for each kind of failure', () => {
    const cases: [Error, RegExp, RegExp][] = [
      [err('connect ECONNREFUSED 10.0.0.5:5432', 'ECONNREFUSED'), /could not reach the PostgreSQL server/, /PostgreSQL is running and accepts TCP connections/],
      [err('timeout exceeded when trying to connect'), /could not reach/, /listen_addresses, firewall/],
      [err('getaddrinfo ENOTFOUND db.example.com', 'ENOTFOUND'), /could not resolve the host name/, /Check the host name/],
      [err('password authentication failed for user "herald"', '28P01'), /refused by PostgreSQL when logging in/, /user name and password .*pg_hba\.conf/],
      [err('no pg_hba.conf entry for host "10.0.0.9", user "herald"', '28000'), /logging in/, /pg_hba\.conf/],
      [err('database "herald" does not exist', '3D000'), /no such database/, /createdb herald/],
      [err('The server does not support SSL connections'), /could not set up TLS/, /sslmode/],
      [err('sorry, too many clients already', '53300'), /turned away/, /max_connections/],
    ];
    for (const [e, what, fix] of cases) {
      const text = describeConnectionFailure(e, url);
      expect(text).toContain('DATABASE_URL (postgres://herald:***@db.example.com:5432/herald)');
      expect(text).toContain(e.message);
      expect(text).toMatch(what);
      expect(text).toMatch(fix);
      expect(text).not.toContain('hunter2secret');
    }
  });

  it('reads the code of an AggregateError (every address of a host refused) from its first error', () => {
    const e = new AggregateError([err('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED'), err('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')], '');
    expect(describeConnectionFailure(e, 'postgres://localhost/herald')).toMatch(/could not reach .*: connect ECONNREFUSED ::1:5432\./);
  });

  it('cuts the password out of the driver message too, encoded or not, and out of a password= parameter', () => {
    const e = err('could not connect as herald:p@ss:w0rd! to db', 'ECONNREFUSED');
    const text = describeConnectionFailure(e, 'postgres://herald:p%40ss%3Aw0rd!@db/herald')!;
    expect(text).not.toContain('p@ss:w0rd!');
    expect(text).not.toContain('p%40ss');
    const param = describeConnectionFailure(err('refused for sekret-value-123', 'ECONNREFUSED'), 'postgres://db/herald?password=sekret-value-123')!;
    expect(param).toContain('postgres://db/herald?password=***');
    expect(param).not.toContain('sekret-value-123');
  });

  it('leaves other failures (a migration that fails, a bug) to the generic report', () => {
    expect(describeConnectionFailure(err('relation "x" does not exist', '42P01'), url)).toBeNull();
    expect(describeConnectionFailure(new TypeError('x is not a function'), url)).toBeNull();
    expect(describeConnectionFailure('thrown string', url)).toBeNull();
  });
});
