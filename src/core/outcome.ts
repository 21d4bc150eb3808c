/**
 * Decide, then act (trigger.dev `RetryOutcome`): the worker turns each send result into an Outcome value
 * here, purely, and one place persists it. The reasons are written for the person who owns the receiver:
 * each says what happened and what to change (Outpost `AttemptError` records the failing stage for that).
 */
import { HeraldError } from './errors.js';
import { nextAttemptDelay, parseRetryAfter, type RetryPolicy } from './retry-policy.js';

/** Where a failed send stopped; decides the advice a user gets. */
export type ErrorStage = 'dns' | 'connect' | 'tls' | 'timeout' | 'response' | 'blocked';

/** What the guarded HTTP client reports for one attempt. */
export type SendResult =
  | {
      /** A complete response arrived (any status). */
      ok: true;
      /** HTTP status code. */
      status: number;
      /** Response headers, names lower-cased by the client (looked up case-insensitively here anyway). */
      headers: Record<string, string>;
      /** Response body as text, possibly cut short. */
      body: string;
      /** True when the body exceeded the client's limit and was cut. */
      bodyTruncated: boolean;
      /**
       * True when the body or a header held bytes PostgreSQL text cannot store (NUL, invalid UTF-8, lone
       * surrogates) and they were replaced with U+FFFD, so the stored text differs from what was received.
       */
      bodyLossy: boolean;
      /** Time from starting the request to the end of the response. */
      durationMs: number;
    }
  | {
      /** No complete response: the attempt failed at `stage`. */
      ok: false;
      /** The step that failed. */
      stage: ErrorStage;
      /** The underlying error message (from undici / the OS). */
      message: string;
      /** Time spent before the failure. */
      durationMs: number;
      /** Status, when the status line arrived before the failure. */
      status?: number;
      /** Headers, when they arrived before the failure. */
      headers?: Record<string, string>;
      /** Whatever part of the body arrived. */
      body?: string;
      /** As on a complete response, for whatever part of the body and headers arrived. */
      bodyLossy?: boolean;
    };

/** What should happen to the delivery after this attempt. */
export type Outcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; at: Date; reason: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'disable-endpoint'; reason: string };

/** Everything besides the result that the decision depends on. */
export interface OutcomeContext {
  /** Attempts made so far, including the one that produced this result (so >= 1). */
  attemptsMade: number;
  /** The endpoint's (or application's) retry policy. */
  policy: RetryPolicy;
  /** The decision's clock; the retry time is computed from it. */
  now: Date;
  /** Uniform [0, 1) source for jitter. */
  random: () => number;
}

/** How a result is treated, before looking at the retry budget. */
export type ResultClass = 'delivered' | 'retryable' | 'permanent' | 'gone';

/** Case-insensitive header lookup: the client should lower-case names, but the decision must not depend on it. */
export function headerValue(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

/**
 * Status-based classification. 408, 425 and 429 say "try again later" (RFC 9110, RFC 8470, RFC 6585);
 * 5xx are the receiver's own failures; 3xx are retried because a redirect is often a transient
 * misconfiguration (HTTP->HTTPS during a deploy) and following it would bypass the SSRF check on the
 * original URL. Every other status (4xx, 1xx, or nonsense) is a deliberate refusal: retrying repeats it.
 */
function classifyStatus(status: number): ResultClass {
  if (status >= 200 && status <= 299) return 'delivered';
  if (status === 410) return 'gone';
  if (status >= 300 && status <= 399) return 'retryable';
  if (status === 408 || status === 425 || status === 429) return 'retryable';
  if (status >= 500 && status <= 599) return 'retryable';
  return 'permanent';
}

/**
 * Classifies one attempt. When a status line arrived, the status decides even if reading the rest failed:
 * the receiver's verdict is in the status, and Herald only logs the body. Network failures are retried,
 * except `blocked`: Herald refused to send the request at all (the SSRF guard refused the address, the
 * URL is not allowed on this server, a custom header cannot be sent), and retrying on a schedule would
 * only refuse again (DNS rarely changes within hours), so the delivery fails now and the user fixes the
 * endpoint and resends. It still counts towards the endpoint's auto-disable streak.
 */
export function classify(result: SendResult): ResultClass {
  if (result.status !== undefined) return classifyStatus(result.status);
  if (result.ok) return classifyStatus(result.status); // unreachable: ok results always carry a status
  return result.stage === 'blocked' ? 'permanent' : 'retryable';
}

const MAX_DETAIL_CHARS = 300;
/** A refusal is Herald's own sentence with its fix at the end (the address refusal runs to ~550 characters). */
const MAX_REFUSAL_CHARS = 1_000;
const clip = (s: string, max = MAX_DETAIL_CHARS) => (s.length > max ? `${s.slice(0, max)}…` : s);

/**
 * The error code that ends the HTTP client's failure messages ("connection refused by 1.2.3.4:443
 * (ECONNREFUSED)", src/delivery/failure-message.ts). Advice that holds only for some failures of a stage
 * is chosen by it, so no failure gets advice meant for another (issue 13: a refused header was told it
 * hit a private address).
 */
const codeOf = (message: string): string | undefined => /\(([A-Z][A-Z0-9_]*)\)$/.exec(message)?.[1];
/** Resolver answers meaning the name does not exist (rather than "could not ask"). */
const NO_SUCH_NAME = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA']);
/** Node/OpenSSL codes about the certificate itself (expired, self-signed, wrong name, unknown issuer). */
const CERTIFICATE_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|LEAF_SIGNATURE/;
/** Deadline messages of an attempt that never had a connection: the receiver did not see the request. */
const NEVER_CONNECTED = /^(the DNS lookup|could not connect|connecting to|the TLS handshake)/;

/** Advice for a status the receiver answered with. */
function describeStatus(status: number, headers: Record<string, string> | undefined): string {
  if (status >= 200 && status <= 299) return `the receiver accepted the message with ${status}`;
  if (status >= 300 && status <= 399) {
    const location = headerValue(headers, 'location');
    const target = location === undefined ? 'a URL it did not give (no Location header)' : clip(location);
    return `the receiver answered ${status}: redirect to ${target} not followed; point the endpoint at the final URL`;
  }
  if (status === 410) {
    return 'the receiver answered 410 Gone: it says this endpoint no longer exists, so Herald disabled it; re-enable it once the URL accepts deliveries again';
  }
  if (status === 408) return 'the receiver answered 408 Request Timeout; it must read the whole request body and answer faster';
  // No promise of a retry in these sentences: after the last attempt they are the reason it gave up.
  if (status === 425) return 'the receiver answered 425 Too Early: it asks for the request to be sent again later';
  if (status === 429) {
    return 'the receiver answered 429 Too Many Requests: raise the receiver\'s rate limit or lower the endpoint\'s (a retry waits at least its Retry-After)';
  }
  if (status >= 500 && status <= 599) return `the receiver failed with ${status}; check the receiver's logs for the error`;
  if (status >= 400 && status <= 499) {
    const base = `the receiver rejected the request with ${status}; fix the receiver, then resend`;
    if (status === 401 || status === 403) return `${base} (check that it verifies signatures with the endpoint's current secret)`;
    if (status === 404) return `${base} (check the endpoint URL's path)`;
    if (status === 413) return `${base} (its request size limit is smaller than the payload)`;
    return base;
  }
  return `the receiver answered with unexpected status ${status}; a webhook receiver must answer 2xx to accept a message`;
}

/**
 * One sentence saying what went wrong with this attempt and what to change: the HTTP client's message
 * (which names the host, address and error code), then the advice that fits it.
 */
export function describeFailure(result: SendResult): string {
  if (result.status !== undefined) return describeStatus(result.status, result.headers);
  if (result.ok) return describeStatus(result.status, result.headers); // unreachable, see classify
  if (result.stage === 'blocked') {
    return `${clip(result.message, MAX_REFUSAL_CHARS)}; nothing was sent, and it is not retried: resend the message once the endpoint is fixed`;
  }
  const msg = clip(result.message);
  return `${msg}; ${networkAdvice(result.stage, result.message, codeOf(result.message))}`;
}

/** What to check after a failure at `stage` that produced `message`. */
function networkAdvice(stage: Exclude<ErrorStage, 'blocked'>, message: string, code: string | undefined): string {
  switch (stage) {
    case 'dns':
      return code !== undefined && NO_SUCH_NAME.has(code)
        ? "check the host name in the endpoint URL"
        : "the domain's name servers or Herald's resolver did not answer; this is usually temporary";
    case 'connect':
      if (code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED') return 'Herald was shutting down; nothing is wrong with the receiver';
      return 'check that the receiver is running and reachable from Herald at that address and port (firewall, listening port)';
    case 'tls':
      return code !== undefined && CERTIFICATE_CODE.test(code)
        ? "the receiver's certificate must be valid for the host name, unexpired, and issued by a CA that Herald trusts"
        : 'check that the receiver serves HTTPS (TLS) on that port';
    case 'timeout':
      return NEVER_CONNECTED.test(message)
        ? 'the request never reached the receiver: check that it is reachable from Herald'
        : 'the receiver must answer within the deadline: acknowledge with 2xx first, then process asynchronously';
    case 'response':
      if (code === 'UND_ERR_HEADERS_OVERFLOW') return 'the receiver must answer with smaller headers';
      if (code?.startsWith('HPE_')) return 'the receiver (or a proxy in front of it) must answer with valid HTTP/1.1';
      if (message.startsWith('Herald failed to send')) return "this is a fault in Herald, not in the receiver; the operator's log has the details";
      return "check the receiver's logs (or its proxy's) for why it closed the connection before answering";
    default: {
      const never: never = stage;
      return `delivery failed at an unknown stage ${String(never)}`;
    }
  }
}

/** Decides what happens after one attempt: delivered, retried at a time, failed for good, or endpoint disabled. */
export function decideOutcome(result: SendResult, ctx: OutcomeContext): Outcome {
  if (!Number.isInteger(ctx.attemptsMade) || ctx.attemptsMade < 1) {
    throw new HeraldError('internal', `attemptsMade counts this attempt, so must be an integer >= 1; got ${ctx.attemptsMade}`);
  }
  const cls = classify(result);
  if (cls === 'delivered') return { kind: 'delivered', status: result.status! };
  const reason = describeFailure(result);
  if (cls === 'gone') return { kind: 'disable-endpoint', reason };
  if (cls === 'permanent') return { kind: 'failed', reason };

  const scheduled = nextAttemptDelay(ctx.policy, ctx.attemptsMade, ctx.random);
  if (scheduled === null) {
    return { kind: 'failed', reason: `gave up after ${ctx.attemptsMade} attempt${ctx.attemptsMade === 1 ? '' : 's'}: ${reason}` };
  }
  // A receiver asking for a pause (RFC 9110 §10.2.3) gets at least that pause, capped so it cannot stall us.
  const retryAfter = result.status === undefined ? null : parseRetryAfter(headerValue(result.headers, 'retry-after'), ctx.now);
  const delay = retryAfter === null ? scheduled : Math.max(scheduled, Math.min(retryAfter, ctx.policy.retryAfterMaxMs));
  return { kind: 'retry', at: new Date(ctx.now.getTime() + delay), reason };
}
