/**
 * Endpoint URL validation at API time (and again before each send). Pure: no DNS.
 *
 * Only what the URL itself reveals can be judged here: scheme, credentials, and hosts that are IP literals
 * or names that always mean this machine. Names that *resolve* to private addresses (`127.0.0.1.nip.io`,
 * rebinding services) are caught when the HTTP client resolves and pins them at connect time.
 * Parsing is WHATWG URL's, the same parser that later sends the request, so every alternative spelling of
 * an address (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`, `%31%32%37.0.0.1`, full-width digits) is
 * already normalised to a dotted quad or bracketed IPv6 before the address policy sees it.
 */
import { ALLOW_HINT, isAddressAllowed, type Cidr } from './address-policy.js';

/** What validation needs from the server's configuration. */
export interface EndpointUrlOptions {
  /** Accept plain `http:` URLs (HERALD_ALLOW_HTTP); otherwise only `https:`. */
  allowHttp: boolean;
  /** Operator-allowed private networks (HERALD_ALLOWED_NETWORKS). */
  allowedNetworks: Cidr[];
}

/** The result: the parsed URL, or a sentence telling the customer what to change. */
export type EndpointUrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/** Longest accepted endpoint URL; the de-facto limit browsers and most HTTP servers handle. */
export const MAX_ENDPOINT_URL_LENGTH = 2048;

// Names that mean "this machine" or "the metadata service" without any DNS lookup (RFC 6761 for
// localhost; GCE's metadata name, and AWS's instance-data alias). Value: an address the name stands for,
// so an operator who allowed that network on purpose can still use the name.
const SPECIAL_NAMES: Array<{ test: (host: string) => boolean; address: string; what: string }> = [
  { test: (h) => h === 'localhost' || h.endsWith('.localhost'), address: '127.0.0.1', what: 'this machine (loopback)' },
  {
    test: (h) => ['metadata.google.internal', 'metadata', 'instance-data', 'instance-data.ec2.internal'].includes(h),
    address: '169.254.169.254',
    what: 'the cloud instance metadata service',
  },
];

/**
 * Checks that `raw` is an absolute https: (or, when allowed, http:) URL without credentials whose host is
 * not a refused address or a name for this machine or the metadata service. Returns the parsed URL so the
 * caller stores its normalised form (`url.toString()`).
 */
export function validateEndpointUrl(raw: string, opts: EndpointUrlOptions): EndpointUrlVerdict {
  if (typeof raw !== 'string' || raw.length === 0) return fail('the URL is empty');
  if (raw.length > MAX_ENDPOINT_URL_LENGTH) return fail(`the URL is longer than ${MAX_ENDPOINT_URL_LENGTH} characters`);
  // WHATWG URL silently drops tabs and newlines inside a URL ("exa\tmple.com" -> "example.com"); a URL
  // that reads differently from what is delivered to is refused rather than normalised.
  if (/[\u0000-\u0020\u007f]/.test(raw)) return fail('the URL contains spaces or control characters');

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('not a valid absolute URL (expected e.g. https://example.com/webhooks)');
  }

  if (url.protocol === 'http:') {
    if (!opts.allowHttp) return fail('plain http:// URLs are not allowed on this server; use https://');
  } else if (url.protocol !== 'https:') {
    return fail(`the ${url.protocol} scheme is not supported; use https://`);
  }
  if (url.username !== '' || url.password !== '') {
    return fail('the URL must not contain credentials (user:password@); send them in a custom header instead');
  }
  if (url.hostname === '') return fail('the URL has no host');

  const host = hostOf(url);
  if (host.kind === 'ip') {
    const verdict = isAddressAllowed(host.address, opts.allowedNetworks);
    return verdict.ok ? { ok: true, url } : fail(`${verdict.reason}; ${ALLOW_HINT}`);
  }
  const special = SPECIAL_NAMES.find((s) => s.test(host.name));
  if (special && !isAddressAllowed(special.address, opts.allowedNetworks).ok) {
    return fail(`${url.hostname} names ${special.what}; ${ALLOW_HINT}`);
  }
  return { ok: true, url };
}

/** The host of a parsed http(s) URL: an IP literal (brackets removed), or a DNS name without trailing dots. */
export type UrlHost = { kind: 'ip'; address: string } | { kind: 'name'; name: string };

/**
 * Classifies a WHATWG-parsed URL's host. The parser has already turned every numeric IPv4 spelling into
 * a dotted quad, so a host that is not a dotted quad or bracketed IPv6 is a DNS name.
 */
export function hostOf(url: URL): UrlHost {
  const h = url.hostname;
  if (h.startsWith('[')) return { kind: 'ip', address: h.slice(1, -1) };
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(h)) return { kind: 'ip', address: h };
  // "localhost." is the same name as "localhost" in DNS; compare without the root dot(s).
  return { kind: 'name', name: h.replace(/\.+$/, '') };
}

function fail(reason: string): EndpointUrlVerdict {
  return { ok: false, reason };
}
