import { describe, expect, it } from 'vitest';
import { parseCidrList } from './address-policy.js';
import { MAX_ENDPOINT_URL_LENGTH, hostOf, validateEndpointUrl } from './endpoint-url.js';

const strict = { allowHttp: false, allowedNetworks: parseCidrList([]) };
const reasonFor = (raw: string, opts = strict) => {
  const v = validateEndpointUrl(raw, opts);
  return v.ok ? null : v.reason;
};

describe('validateEndpointUrl accepts', () => {
  it.each([
    'https://example.com/webhooks',
    'https://hooks.example.com:8443/a/b?c=d',
    'https://93.184.216.34/hook',
    'https://[2606:4700:4700::1111]/hook',
    'HTTPS://Example.COM/x',
  ])('%s', (raw) => {
    expect(reasonFor(raw)).toBeNull();
  });

  it('returns the normalised URL', () => {
    const v = validateEndpointUrl('HTTPS://Example.COM:443/x', strict);
    expect(v.ok && v.url.toString()).toBe('https://example.com/x');
  });

  it('accepts http: only when allowed', () => {
    expect(reasonFor('http://example.com/')).toContain('use https://');
    expect(reasonFor('http://example.com/', { ...strict, allowHttp: true })).toBeNull();
  });
});

describe('validateEndpointUrl refuses loopback in every spelling', () => {
  it.each([
    'https://127.0.0.1/',
    'https://0/',
    'https://0.0.0.0/',
    'https://2130706433/',
    'https://0x7f.1/',
    'https://0x7f000001/',
    'https://0177.0.0.1/',
    'https://017700000001/',
    'https://127.1/',
    'https://%31%32%37.0.0.1/',
    'https://１２７．０．０．１/',
    'https://[::1]/',
    'https://[0:0:0:0:0:0:0:1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:7f00:1]/',
    'https://[2002:7f00:1::]/',
    'https://[::]/',
  ])('%s', (raw) => {
    expect(reasonFor(raw)).toMatch(/loopback|unspecified|this network/);
    expect(reasonFor(raw)).toContain('HERALD_ALLOWED_NETWORKS');
  });

  it.each(['https://localhost/', 'https://localhost./', 'https://LOCALHOST/', 'https://api.localhost/', 'http://ｌｏｃａｌｈｏｓｔ/'])(
    '%s by name',
    (raw) => {
      expect(reasonFor(raw, { ...strict, allowHttp: true })).toContain('loopback');
    },
  );
});

describe('validateEndpointUrl refuses special and private addresses', () => {
  it.each([
    ['https://169.254.169.254/latest/meta-data/', 'metadata'],
    ['https://metadata.google.internal/computeMetadata/v1/', 'metadata'],
    ['https://metadata.google.internal./', 'metadata'],
    ['https://168.63.129.16/', 'Azure'],
    ['https://[64:ff9b::a9fe:a9fe]/', 'NAT64 form of 169.254.169.254'],
    ['https://[fe80::1]/', 'link-local'],
    ['https://[fd00::1]/', 'unique local'],
    ['https://[fc00::1]/', 'unique local'],
    ['https://100.64.0.1/', 'carrier-grade NAT'],
    ['https://198.18.0.1/', 'benchmarking'],
    ['https://240.0.0.1/', 'reserved'],
    ['https://255.255.255.255/', 'broadcast'],
    ['https://224.0.0.1/', 'multicast'],
    ['https://10.0.0.1/', 'private'],
    ['https://172.16.5.4/', 'private'],
    ['https://192.168.0.1/', 'private'],
  ])('%s', (raw, fragment) => {
    expect(reasonFor(raw)).toContain(fragment);
  });
});

describe('validateEndpointUrl refuses malformed and dangerous URLs', () => {
  it.each([
    ['https://user:pass@example.com/', 'credentials'],
    ['https://user@example.com/', 'credentials'],
    ['https://:secret@example.com/', 'credentials'],
    ['file:///etc/passwd', 'file: scheme'],
    ['gopher://example.com:25/', 'gopher: scheme'],
    ['data:text/plain,hello', 'data: scheme'],
    ['ftp://example.com/', 'ftp: scheme'],
    ['javascript:alert(1)', 'javascript: scheme'],
    ['ws://example.com/', 'ws: scheme'],
    ['/relative/path', 'not a valid absolute URL'],
    ['example.com/hook', 'not a valid absolute URL'],
    ['https://', 'not a valid absolute URL'],
    ['https://example.com:99999/', 'not a valid absolute URL'],
    ['', 'empty'],
    ['https://exa\tmple.com/', 'control characters'],
    ['https://example.com/\r\nHost: evil', 'control characters'],
    [' https://example.com/', 'spaces'],
    ['https://example.com/a b', 'spaces'],
  ])('%j', (raw, fragment) => {
    expect(reasonFor(raw)).toContain(fragment);
  });

  it('refuses URLs longer than the limit', () => {
    const long = `https://example.com/${'a'.repeat(MAX_ENDPOINT_URL_LENGTH)}`;
    expect(reasonFor(long)).toContain(`longer than ${MAX_ENDPOINT_URL_LENGTH}`);
  });
});

describe('operator-allowed networks', () => {
  it('let chosen private addresses through, and nothing else', () => {
    const opts = { allowHttp: true, allowedNetworks: parseCidrList(['10.0.0.0/8']) };
    expect(reasonFor('http://10.1.2.3:8080/hook', opts)).toBeNull();
    expect(reasonFor('http://192.168.1.1/hook', opts)).toContain('private');
    expect(reasonFor('http://localhost/hook', opts)).toContain('loopback');
  });

  it('allowing loopback also allows the localhost name', () => {
    const opts = { allowHttp: true, allowedNetworks: parseCidrList(['127.0.0.0/8']) };
    expect(reasonFor('http://localhost:3000/hook', opts)).toBeNull();
    expect(reasonFor('http://127.0.0.1:3000/hook', opts)).toBeNull();
    expect(reasonFor('http://metadata.google.internal/', opts)).toContain('metadata');
  });
});

describe('hostOf', () => {
  it('classifies literals and names', () => {
    expect(hostOf(new URL('https://[::1]:8/'))).toEqual({ kind: 'ip', address: '::1' });
    expect(hostOf(new URL('https://0x7f.1/'))).toEqual({ kind: 'ip', address: '127.0.0.1' });
    expect(hostOf(new URL('https://Example.com../'))).toEqual({ kind: 'name', name: 'example.com' });
  });
});
