/**
 * Why an attempt failed, in words a user can act on: the stage that failed (DNS, connect, TLS,
 * timeout, response, blocked) and a sentence naming the host or address and the error code.
 * These sentences are the tenant's delivery log, so an address a host name resolved to is named only
 * when it is public: a non-public one (refused, or in a network the operator allowed) would tell a
 * tenant about the operator's internal network (issue 13).
 */
import type { ErrorStage } from '../core/outcome.js';
import { isPublicAddress } from './address-policy.js';
import { ATTEMPT, type TaggedError } from './pinned-connector.js';

/** Largest response head accepted (status line + headers); Node's own default is 16 KiB. */
export const MAX_RESPONSE_HEADER_BYTES = 64 * 1024;

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL', 'ETIMEOUT']);

/** Said instead of an address a tenant may not see. */
export const NON_PUBLIC = 'a non-public address';

/**
 * `address` as a tenant may see it: as is when it is public or is the URL's own host (an IP literal the
 * tenant typed), the host when there is no address yet, otherwise {@link NON_PUBLIC}.
 */
export function visibleAddress(host: string, address: string | undefined): string {
  if (address === undefined || address === host) return address ?? host;
  return isPublicAddress(address) ? address : NON_PUBLIC;
}

/** Turns an error into the failing stage and a sentence that names the host/address and the error code. */
export function describeFailure(err: TaggedError): { stage: ErrorStage; message: string } {
  const inner = (err.errors?.[0] ?? err) as TaggedError; // net's happy-eyeballs AggregateError
  const code = String(err.code ?? inner.code ?? err.name);
  if (code === 'HERALD_BLOCKED') return { stage: 'blocked', message: err.message };
  const a = err[ATTEMPT];
  let detail = err.message || inner.message;
  if (a) {
    const address = inner.address ?? a.address;
    const port = inner.port ?? a.port;
    const shown = visibleAddress(a.host, address);
    const hidden = shown === NON_PUBLIC;
    // Node's own messages quote the address too ("connect ECONNREFUSED 10.0.0.5:443").
    if (hidden && address) detail = detail.split(address).join(NON_PUBLIC);
    const where = hidden ? `${a.host}:${port} (${NON_PUBLIC})` : `${shown}:${port}`;
    const tlsPeer = hidden ? `${NON_PUBLIC}, port ${port}` : where;
    if (code === 'HERALD_CONNECT_TIMEOUT') {
      if (a.phase === 'tls') return { stage: 'tls', message: `the TLS handshake with ${a.host} (${tlsPeer}) did not finish: ${detail}` };
      return { stage: a.phase, message: `${a.phase === 'dns' ? `the DNS lookup of ${a.host}` : `connecting to ${where}`} took too long: ${detail}` };
    }
    if (a.phase === 'dns' || DNS_CODES.has(code)) {
      if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EAI_NONAME') return { stage: 'dns', message: `${a.host} could not be resolved: no such host (${code})` };
      if (code === 'EAI_AGAIN') return { stage: 'dns', message: `${a.host} could not be resolved: temporary DNS failure (EAI_AGAIN)` };
      return { stage: 'dns', message: `the DNS lookup of ${a.host} failed: ${detail} (${code})` };
    }
    if (a.phase === 'tls') return { stage: 'tls', message: `the TLS handshake with ${a.host} (${tlsPeer}) failed: ${detail} (${code})` };
    const what: Record<string, string> = {
      ECONNREFUSED: `connection refused by ${where}`,
      EHOSTUNREACH: `no route to host ${where}`,
      ENETUNREACH: `network unreachable for ${where}`,
      ETIMEDOUT: `connecting to ${where} timed out`,
      ECONNRESET: `the connection to ${where} was reset while connecting`,
    };
    return { stage: 'connect', message: `${what[code] ?? `could not connect to ${where}: ${detail}`} (${code})` };
  }
  switch (code) {
    case 'UND_ERR_HEADERS_OVERFLOW':
      return { stage: 'response', message: `the response headers exceeded Herald's ${MAX_RESPONSE_HEADER_BYTES / 1024} KiB limit (${code})` };
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return { stage: 'timeout', message: `${detail} (${code})` };
    case 'UND_ERR_SOCKET':
      return { stage: 'response', message: `the connection closed before a complete response arrived: ${detail} (${code})` };
    case 'ECONNRESET':
    case 'EPIPE':
      return { stage: 'response', message: `the receiver reset the connection before a complete response arrived (${code})` };
    case 'UND_ERR_INVALID_ARG': // e.g. CR/LF in a header value, a forbidden header such as transfer-encoding
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return { stage: 'blocked', message: `Herald refused to send the request: ${detail}` };
    case 'UND_ERR_DESTROYED':
    case 'UND_ERR_CLOSED':
      return { stage: 'connect', message: `the HTTP client is shutting down (${code})` };
  }
  if (code.startsWith('HPE_') || err.name === 'HTTPParserError') return { stage: 'response', message: `the receiver's answer is not valid HTTP/1.1: ${detail} (${code})` };
  return { stage: 'response', message: `the response failed: ${detail} (${code})` };
}
