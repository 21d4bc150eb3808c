import { describe, expect, it } from 'vitest';
import { HeraldError, httpStatusOf } from './errors.js';
import { parseAllowedHost, publicBaseUrl, type AllowedHost } from './public-url.js';

const hosts = (...entries: string[]): AllowedHost[] => entries.map((e) => parseAllowedHost(e)!);
const base = (host: string | undefined, allowed: AllowedHost[] = [], publicUrl?: string) =>
  publicBaseUrl({ publicUrl, allowedHosts: allowed, protocol: 'http', host });

describe('public base URL', () => {
  it('uses HERALD_PUBLIC_URL whatever the Host says', () => {
    expect(base('evil.example', [], 'https://hooks.example.com/')).toBe('https://hooks.example.com');
    expect(base(undefined, [], 'https://example.com/herald')).toBe('https://example.com/herald');
  });

  it('accepts loopback hosts, so the quick start works without settings', () => {
    expect(base('127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(base('localhost:8080')).toBe('http://localhost:8080');
    expect(base('LOCALHOST')).toBe('http://localhost');
    expect(base('[::1]:8080')).toBe('http://[::1]:8080');
  });

  it('accepts listed hosts, with the scheme of an origin entry', () => {
    expect(base('hooks.example.com', hosts('hooks.example.com'))).toBe('http://hooks.example.com');
    expect(base('hooks.example.com:8443', hosts('https://hooks.example.com'))).toBe('https://hooks.example.com:8443');
    expect(base('hooks.example.com:8080', hosts('hooks.example.com:8080'))).toBe('http://hooks.example.com:8080');
    expect(() => base('hooks.example.com:9999', hosts('hooks.example.com:8080'))).toThrow(HeraldError);
  });

  it('refuses any other Host with 421 Misdirected Request, saying to set HERALD_PUBLIC_URL or HERALD_ALLOWED_HOSTS', () => {
    for (const host of ['evil.example', 'hooks.example.com.evil.example', 'localhost.evil.example', '127.0.0.1.nip.io', '', undefined, 'a b']) {
      let err: unknown;
      try {
        base(host, hosts('hooks.example.com'));
      } catch (e) {
        err = e;
      }
      expect(err, String(host)).toBeInstanceOf(HeraldError);
      expect((err as HeraldError).code).toBe('misdirected_request');
      expect(httpStatusOf[(err as HeraldError).code]).toBe(421);
      expect((err as HeraldError).detail).toMatch(/HERALD_PUBLIC_URL.*HERALD_ALLOWED_HOSTS/);
    }
  });

  it('parses allow-list entries and refuses what is not a host', () => {
    expect(parseAllowedHost('Hooks.Example.com')).toEqual({ scheme: null, hostname: 'hooks.example.com', port: null });
    expect(parseAllowedHost('https://h.example:8443/')).toEqual({ scheme: 'https', hostname: 'h.example', port: '8443' });
    for (const bad of ['', 'ftp://h.example', 'h.example/path', 'user@h.example', '*.example.com', 'h .example']) expect(parseAllowedHost(bad), bad).toBeNull();
  });
});
