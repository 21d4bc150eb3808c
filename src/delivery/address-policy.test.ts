import { describe, expect, it } from 'vitest';
import { isAddressAllowed, parseCidrList, parseIp } from './address-policy.js';

const refused = (ip: string, allowed = parseCidrList([])) => {
  const v = isAddressAllowed(ip, allowed);
  return v.ok ? null : v.reason;
};

describe('isAddressAllowed: refused by default', () => {
  // Every spelling of a private address that survives URL parsing or DNS as an address literal: an
  // endpoint URL is chosen by Herald's users' customers, so each must be refused like the plain form.
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'this network'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['168.63.129.16', 'Azure'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['192.0.2.10', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.5', 'documentation'],
    ['192.0.0.170', 'IETF'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'IPv4-mapped form of 127.0.0.1, which is a loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped form of 127.0.0.1'],
    ['0:0:0:0:0:ffff:7f00:0001', 'IPv4-mapped form of 127.0.0.1'],
    ['::FFFF:A9FE:A9FE', 'IPv4-mapped form of 169.254.169.254, which is the cloud instance metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 form of 169.254.169.254'],
    ['64:ff9b::127.0.0.1', 'NAT64 form of 127.0.0.1'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['2002:7f00:1::', '6to4 form of 127.0.0.1'],
    ['2002:a9fe:a9fe::1', '6to4 form of 169.254.169.254'],
    ['2001::1', 'Teredo'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fc00::1', 'unique local'],
    ['fd00:ec2::254', 'unique local'],
    ['ff02::1', 'multicast'],
    ['::127.0.0.1', 'not a global unicast'],
    ['100::1', 'discard-only'],
    ['4000::1', 'not a global unicast'],
  ])('%s (%s)', (ip, fragment) => {
    expect(refused(ip)).toContain(fragment);
  });

  it('names the address in the reason', () => {
    expect(refused('10.1.2.3')).toBe('10.1.2.3 is a private network address (RFC 1918, 10.0.0.0/8)');
  });

  it('refuses text that is not an address', () => {
    expect(refused('localhost')).toContain('not an IP address');
    expect(refused('127.1')).toContain('not an IP address');
    expect(refused('')).toContain('not an IP address');
  });
});

describe('isAddressAllowed: public addresses', () => {
  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.32.0.1',
    '100.128.0.1',
    '169.253.255.255',
    '198.20.0.1',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('%s', (ip) => {
    expect(refused(ip)).toBeNull();
  });
});

describe('isAddressAllowed with operator-allowed networks', () => {
  it('allows exactly what the operator listed', () => {
    const allowed = parseCidrList(['10.0.0.0/8', 'fd00::/8']);
    expect(refused('10.20.30.40', allowed)).toBeNull();
    expect(refused('::ffff:10.20.30.40', allowed)).toBeNull();
    expect(refused('fd12::1', allowed)).toBeNull();
    expect(refused('192.168.0.1', allowed)).toContain('private');
    expect(refused('fc00::1', allowed)).toContain('unique local');
  });

  it('allowing IPv4 loopback covers its mapped spellings but not ::1', () => {
    const allowed = parseCidrList(['127.0.0.0/8']);
    expect(refused('127.0.0.1', allowed)).toBeNull();
    expect(refused('::ffff:7f00:1', allowed)).toBeNull();
    expect(refused('::1', allowed)).toContain('loopback');
    expect(refused('169.254.169.254', allowed)).toContain('metadata');
  });

  it('allows a single host', () => {
    const allowed = parseCidrList(['169.254.169.254']);
    expect(refused('169.254.169.254', allowed)).toBeNull();
    expect(refused('169.254.169.253', allowed)).toContain('link-local');
  });
});

describe('parseCidrList', () => {
  it('parses IPv4 and IPv6 networks and bare hosts', () => {
    const [a, b, c] = parseCidrList([' 10.0.0.0/8 ', 'FD00::/8', '192.168.1.5']);
    expect(a).toMatchObject({ family: 4, prefix: 8, text: '10.0.0.0/8' });
    expect(b).toMatchObject({ family: 6, prefix: 8, text: 'fd00::/8' });
    expect(c).toMatchObject({ family: 4, prefix: 32, text: '192.168.1.5/32' });
  });

  it('skips blank entries', () => {
    expect(parseCidrList(['', '  '])).toEqual([]);
  });

  it.each([
    ['banana', 'not an IPv4 or IPv6 address'],
    ['10.0.0/8', 'not an IPv4 or IPv6 address'],
    ['10.0.0.0/33', 'from 0 to 32'],
    ['fd00::/129', 'from 0 to 128'],
    ['10.0.0.0/-1', 'prefix length'],
    ['10.0.0.0/8/9', 'prefix length'],
    ['10.0.0.0/', 'prefix length'],
    ['10.0.0.1/8', 'e.g. 10.0.0.0/8'],
    ['fe80::1%eth0/64', 'not an IPv4 or IPv6 address'],
  ])('rejects %s', (text, fragment) => {
    expect(() => parseCidrList([text])).toThrow(fragment);
  });
});

describe('parseIp', () => {
  it('expands IPv6 forms to the same bytes', () => {
    const forms = ['::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:7f00:1', '0000:0000:0000:0000:0000:FFFF:7F00:0001'];
    const expected = Array.from(parseIp(forms[0]!)!);
    for (const f of forms) expect(Array.from(parseIp(f)!)).toEqual(expected);
    expect(expected.slice(10)).toEqual([0xff, 0xff, 127, 0, 0, 1]);
  });

  it('rejects non-addresses', () => {
    expect(parseIp('127.1')).toBeNull();
    expect(parseIp('1.2.3.4.5')).toBeNull();
    expect(parseIp('::g')).toBeNull();
  });
});
