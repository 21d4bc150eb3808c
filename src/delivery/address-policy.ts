/**
 * Which IP addresses Herald may deliver to (the SSRF guard's core). Pure: no DNS, no sockets.
 *
 * Customers choose endpoint URLs, so without this a customer could make Herald POST to the cloud metadata
 * service, the database, or anything else on the operator's private network. Everything that is not a
 * globally routable unicast address is refused unless the operator allowed it on purpose with
 * HERALD_ALLOWED_NETWORKS. Ranges come from the IANA IPv4/IPv6 special-purpose address registries
 * (RFC 6890 and successors). Addresses are compared as bytes, so every textual spelling of one address
 * (`::ffff:127.0.0.1`, `::ffff:7f00:1`, `0:0:0:0:0:ffff:7f00:0001`) gets the same answer.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** One network block, e.g. `10.0.0.0/8` or `fd00::/8`, as parsed by {@link parseCidrList}. */
export interface Cidr {
  /** Address family of the block. */
  readonly family: 4 | 6;
  /** Network address as bytes (4 for IPv4, 16 for IPv6); host bits are zero. */
  readonly bytes: Uint8Array;
  /** Prefix length in bits (0-32 or 0-128). */
  readonly prefix: number;
  /** The block as written, normalised to lower case; used in messages. */
  readonly text: string;
}

/** The answer for one address: allowed, or refused with a sentence saying why. */
export type AddressVerdict = { ok: true } | { ok: false; reason: string };

/** Appended to refusals so the reader knows the one setting that changes the answer. */
export const ALLOW_HINT = 'to deliver there on purpose, add a CIDR that covers it to HERALD_ALLOWED_NETWORKS';

/**
 * What a tenant is told when its endpoint's host name resolves to a refused address. Not which address
 * or what kind (issue 13): that would let any tenant map the operator's internal DNS by registering
 * names and reading the delivery log. The operator's log (warn) names both.
 */
export function hiddenAddressRefusal(host: string): string {
  return (
    `${host} resolves to a non-public address (private, loopback, link-local, metadata or reserved), which Herald ` +
    `does not deliver to; if the endpoint is meant to reach a private network, the operator of this Herald can ` +
    `allow that network with HERALD_ALLOWED_NETWORKS (Herald's log names the address)`
  );
}

/** Whether `ip` is a public address: one Herald would deliver to with no network allowed. */
export function isPublicAddress(ip: string): boolean {
  return isAddressAllowed(ip, []).ok;
}

/** Parses an IPv4 or IPv6 address (zone id allowed and ignored) into 4 or 16 bytes; null if it is not one. */
export function parseIp(ip: string): Uint8Array | null {
  if (isIPv4(ip)) return Uint8Array.from(ip.split('.').map(Number));
  const zone = ip.indexOf('%');
  const text = zone >= 0 ? ip.slice(0, zone) : ip;
  return isIPv6(text) ? parseIPv6(text) : null;
}

// node:net has validated the text already; this only expands `::` and a trailing dotted quad.
function parseIPv6(text: string): Uint8Array {
  let s = text.toLowerCase();
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    s = `${s.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [headText = '', restText] = s.split('::');
  const head = headText ? headText.split(':') : [];
  const rest = restText ? restText.split(':') : [];
  const groups = [...head, ...Array<string>(8 - head.length - rest.length).fill('0'), ...rest];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 0xff;
  });
  return bytes;
}

function cidrContains(cidr: Cidr, bytes: Uint8Array): boolean {
  if (cidr.bytes.length !== bytes.length) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== (cidr.bytes[i] ?? 0)) return false;
  }
  return true;
}

function parseCidr(raw: string): Cidr {
  const text = raw.trim().toLowerCase();
  const slash = text.indexOf('/');
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const bytes = addrText.includes('%') ? null : parseIp(addrText);
  if (!bytes) throw new Error(`"${raw}" is not a network: "${addrText}" is not an IPv4 or IPv6 address (write e.g. 10.0.0.0/8 or fd00::/8)`);
  const max = bytes.length * 8;
  const prefixText = slash >= 0 ? text.slice(slash + 1) : String(max);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) throw new Error(`"${raw}" is not a network: the prefix length must be a whole number from 0 to ${max}`);
  const network = Uint8Array.from(bytes, (b, i) => {
    const bitsLeft = prefix - i * 8;
    return bitsLeft >= 8 ? b : bitsLeft <= 0 ? 0 : b & (0xff << (8 - bitsLeft));
  });
  // A set host bit is usually a typo (10.0.0.1/8 for 10.0.0.0/8); in a security setting, say so instead of guessing.
  if (!network.every((b, i) => b === bytes[i])) {
    throw new Error(`"${raw}" has bits set after the /${prefix} prefix; write the network address, e.g. ${formatIp(network)}/${prefix}`);
  }
  return { family: bytes.length === 4 ? 4 : 6, bytes: network, prefix, text: `${addrText}/${prefix}` };
}

/**
 * Parses operator-allowed networks. Blank entries are skipped; a bare address means just that host (/32 or
 * /128). Throws an Error naming the bad entry, so a typo stops Herald at start instead of allowing too much.
 */
export function parseCidrList(list: string[]): Cidr[] {
  return list.filter((s) => s.trim() !== '').map(parseCidr);
}

/** Formats 4 or 16 address bytes as text (IPv6 uncompressed, which is fine for messages). */
function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

interface DeniedRange {
  cidr: Cidr;
  /** What the range is, as a noun phrase: "a loopback address". */
  what: string;
}

// [cidr, what, reference]: the reference is printed next to the block, "(RFC 1918, 10.0.0.0/8)".
const ranges = (list: Array<[string, string, string?]>): DeniedRange[] =>
  list.map(([c, what, ref]) => ({ cidr: parseCidr(c), what: `${what} (${ref ? `${ref}, ` : ''}${c})` }));

// Order matters only for the message: the most specific description comes first.
const DENIED_V4 = ranges([
  ['0.0.0.0/8', 'the unspecified / "this network" range'],
  ['10.0.0.0/8', 'a private network address', 'RFC 1918'],
  ['100.64.0.0/10', 'a carrier-grade NAT address', 'RFC 6598'],
  ['127.0.0.0/8', 'a loopback address'],
  ['169.254.169.254/32', 'the cloud instance metadata service'],
  ['169.254.0.0/16', 'a link-local address (where cloud metadata services live)'],
  ['172.16.0.0/12', 'a private network address', 'RFC 1918'],
  ['192.0.0.0/24', 'an IETF protocol assignment address', 'RFC 6890'],
  ['192.0.2.0/24', 'a documentation address', 'TEST-NET-1'],
  ['192.88.99.0/24', 'a deprecated 6to4 relay anycast address'],
  ['192.168.0.0/16', 'a private network address', 'RFC 1918'],
  ['198.18.0.0/15', 'a network benchmarking address', 'RFC 2544'],
  ['198.51.100.0/24', 'a documentation address', 'TEST-NET-2'],
  ['203.0.113.0/24', 'a documentation address', 'TEST-NET-3'],
  // Azure's WireServer: a host-local service reachable from every Azure VM, like the metadata service.
  ['168.63.129.16/32', 'the Azure platform (WireServer) address'],
  ['224.0.0.0/4', 'a multicast address'],
  ['255.255.255.255/32', 'the broadcast address'],
  ['240.0.0.0/4', 'a reserved address'],
]);

const DENIED_V6 = ranges([
  ['::/128', 'the unspecified address'],
  ['::1/128', 'the loopback address'],
  ['64:ff9b:1::/48', 'a local-use NAT64 address', 'RFC 8215'],
  ['100::/64', 'a discard-only address', 'RFC 6666'],
  ['2001::/32', 'a Teredo tunnel address'],
  ['2001::/23', 'an IETF protocol assignment address'],
  ['2001:db8::/32', 'a documentation address'],
  ['3fff::/20', 'a documentation address', 'RFC 9637'],
  ['fc00::/7', 'a unique local (private) address'],
  ['fe80::/10', 'a link-local address'],
  ['fec0::/10', 'a deprecated site-local address'],
  ['ff00::/8', 'a multicast address'],
]);

// Anything outside 2000::/3 is not global unicast today, so unknown future special ranges fail closed.
const GLOBAL_UNICAST = parseCidr('2000::/3');

// IPv6 forms that carry an IPv4 address the packet really goes to; judge that embedded address.
const EMBEDDING: Array<{ cidr: Cidr; what: string; at: number }> = [
  { cidr: parseCidr('::ffff:0:0/96'), what: 'IPv4-mapped', at: 12 },
  { cidr: parseCidr('64:ff9b::/96'), what: 'NAT64', at: 12 },
  { cidr: parseCidr('2002::/16'), what: '6to4', at: 2 },
];

// Returns what the address is ("a loopback address (127.0.0.0/8)") when refused, or null when allowed.
function refusal(bytes: Uint8Array, allowed: Cidr[]): string | null {
  if (allowed.some((c) => cidrContains(c, bytes))) return null;
  if (bytes.length === 4) {
    const hit = DENIED_V4.find((r) => cidrContains(r.cidr, bytes));
    return hit ? hit.what : null;
  }
  const embedding = EMBEDDING.find((e) => cidrContains(e.cidr, bytes));
  if (embedding) {
    const v4 = bytes.slice(embedding.at, embedding.at + 4);
    const inner = refusal(v4, allowed);
    return inner && `an ${embedding.what} form of ${formatIp(v4)}, which is ${inner}`;
  }
  const hit = DENIED_V6.find((r) => cidrContains(r.cidr, bytes));
  if (hit) return hit.what;
  return cidrContains(GLOBAL_UNICAST, bytes) ? null : 'not a global unicast IPv6 address (outside 2000::/3)';
}

/**
 * Decides whether Herald may connect to `ip` (IPv4 dotted quad or IPv6 text, no brackets). Addresses inside
 * an operator-allowed network are always allowed; otherwise loopback, private, link-local, metadata,
 * CGNAT, documentation, multicast, broadcast and reserved addresses are refused, including when they are
 * wrapped in IPv4-mapped, NAT64 or 6to4 IPv6 addresses.
 */
export function isAddressAllowed(ip: string, allowed: Cidr[]): AddressVerdict {
  const bytes = parseIp(ip);
  if (!bytes) return { ok: false, reason: `"${ip}" is not an IP address` };
  const what = refusal(bytes, allowed);
  return what === null ? { ok: true } : { ok: false, reason: `${ip} is ${what}` };
}
