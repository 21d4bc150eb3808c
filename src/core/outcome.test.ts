import { describe, it, expect } from 'vitest';
import { HeraldError } from './errors.js';
import { classify, decideOutcome, describeFailure, headerValue, type ErrorStage, type Outcome, type SendResult } from './outcome.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';

const NOW = new Date('2024-05-01T12:00:00.000Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);

/** A complete response; override any field. */
function response(status: number, overrides: Partial<Extract<SendResult, { ok: true }>> = {}): SendResult {
  return { ok: true, status, headers: {}, body: '', bodyTruncated: false, bodyLossy: false, durationMs: 12, ...overrides };
}

/** A failed send at `stage`. */
function failure(stage: ErrorStage, message = 'boom', extra: Partial<Extract<SendResult, { ok: false }>> = {}): SendResult {
  return { ok: false, stage, message, durationMs: 30, ...extra };
}

function decide(result: SendResult, attemptsMade = 1, opts: { policy?: RetryPolicy; random?: () => number } = {}): Outcome {
  return decideOutcome(result, {
    attemptsMade,
    policy: opts.policy ?? DEFAULT_RETRY_POLICY,
    now: NOW,
    random: opts.random ?? (() => 0.5),
  });
}

describe('decideOutcome: delivered', () => {
  it.each([200, 201, 202, 204, 299])('treats %i as delivered', (status) => {
    expect(decide(response(status))).toEqual({ kind: 'delivered', status });
  });

  it('delivers even on the last attempt and with a truncated body', () => {
    expect(decide(response(200, { bodyTruncated: true }), 8)).toEqual({ kind: 'delivered', status: 200 });
  });

  it('counts a 2xx status line as delivered even if reading the body then failed', () => {
    expect(decide(failure('response', 'socket reset', { status: 200 }))).toEqual({ kind: 'delivered', status: 200 });
    expect(decide(failure('timeout', 'body timeout', { status: 204 }))).toEqual({ kind: 'delivered', status: 204 });
  });
});

describe('decideOutcome: retried', () => {
  it.each([408, 425, 429, 500, 502, 503, 504, 599])('retries %i on the schedule', (status) => {
    const outcome = decide(response(status), 1);
    expect(outcome).toMatchObject({ kind: 'retry', at: at(5_000) });
  });

  it.each(['dns', 'connect', 'tls', 'timeout', 'response'] as const)('retries a %s failure', (stage) => {
    expect(decide(failure(stage), 2)).toMatchObject({ kind: 'retry', at: at(300_000) });
  });

  it.each([301, 302, 303, 307, 308, 300, 399])('retries redirect %i without following it', (status) => {
    const outcome = decide(response(status, { headers: { location: 'https://new.example.com/hook' } }));
    expect(outcome.kind).toBe('retry');
    if (outcome.kind === 'retry') {
      expect(outcome.reason).toBe(
        `the receiver answered ${status}: redirect to https://new.example.com/hook not followed; point the endpoint at the final URL`,
      );
    }
  });

  it('walks the whole schedule with a fake clock, then gives up', () => {
    const expected = [5, 300, 1800, 7200, 18000, 36000, 36000].map((s) => s * 1000);
    for (let made = 1; made <= 7; made++) {
      const outcome = decide(response(503), made);
      expect(outcome).toEqual({ kind: 'retry', at: at(expected[made - 1]!), reason: "the receiver failed with 503; check the receiver's logs for the error" });
    }
    expect(decide(response(503), 8)).toEqual({
      kind: 'failed',
      reason: "gave up after 8 attempts: the receiver failed with 503; check the receiver's logs for the error",
    });
    expect(decide(response(503), 9).kind).toBe('failed');
  });

  it('gives up with the last network error in the reason', () => {
    const outcome = decide(failure('dns', 'hooks.example.invalid could not be resolved: no such host (ENOTFOUND)'), 8);
    expect(outcome).toEqual({
      kind: 'failed',
      reason: 'gave up after 8 attempts: hooks.example.invalid could not be resolved: no such host (ENOTFOUND); check the host name in the endpoint URL',
    });
  });

  it('applies jitter from the injected random source', () => {
    expect(decide(response(500), 1, { random: () => 0 })).toMatchObject({ at: at(4_000) });
    expect(decide(response(500), 1, { random: () => 0.999999 })).toMatchObject({ at: at(6_000) });
  });

  it('retries immediately when the schedule says 0', () => {
    const policy: RetryPolicy = { schedule: [0, 0, 1_000], jitter: 0.5, retryAfterMaxMs: 60_000 };
    expect(decide(response(500), 1, { policy })).toMatchObject({ kind: 'retry', at: NOW });
    expect(decide(response(500), 2, { policy })).toMatchObject({ kind: 'retry', at: at(1_000) });
    expect(decide(response(500), 3, { policy }).kind).toBe('failed');
  });

  it('fails at once with a one-attempt policy', () => {
    const policy: RetryPolicy = { schedule: [0], jitter: 0, retryAfterMaxMs: 0 };
    expect(decide(failure('connect', 'connection refused by 1.2.3.4:443 (ECONNREFUSED)'), 1, { policy })).toMatchObject({
      kind: 'failed',
      reason: expect.stringMatching(/^gave up after 1 attempt: connection refused by 1\.2\.3\.4:443 \(ECONNREFUSED\); check that the receiver is running/),
    });
  });
});

describe('decideOutcome: Retry-After', () => {
  it('waits at least as long as Retry-After asks (seconds), case-insensitively', () => {
    expect(decide(response(429, { headers: { 'retry-after': '120' } }))).toMatchObject({ kind: 'retry', at: at(120_000) });
    expect(decide(response(503, { headers: { 'Retry-After': '120' } }))).toMatchObject({ kind: 'retry', at: at(120_000) });
  });

  it('reads an HTTP-date', () => {
    const outcome = decide(response(503, { headers: { 'retry-after': 'Wed, 01 May 2024 12:10:00 GMT' } }));
    expect(outcome).toMatchObject({ kind: 'retry', at: at(600_000) });
  });

  it('never shortens the schedule', () => {
    expect(decide(response(429, { headers: { 'retry-after': '1' } }), 2)).toMatchObject({ at: at(300_000) });
    expect(decide(response(429, { headers: { 'retry-after': '0' } }), 1)).toMatchObject({ at: at(5_000) });
  });

  it('is capped by retryAfterMaxMs', () => {
    const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, retryAfterMaxMs: 60_000 };
    expect(decide(response(429, { headers: { 'retry-after': '999999' } }), 1, { policy })).toMatchObject({ at: at(60_000) });
    expect(decide(response(429, { headers: { 'retry-after': '999999999999' } }))).toMatchObject({ at: at(86_400_000) });
  });

  it('is honoured on any retryable status, including a partial response', () => {
    expect(decide(response(500, { headers: { 'retry-after': '60' } }))).toMatchObject({ at: at(60_000) });
    expect(decide(failure('response', 'reset', { status: 503, headers: { 'retry-after': '90' } }))).toMatchObject({ at: at(90_000) });
  });

  it('ignores garbage', () => {
    expect(decide(response(429, { headers: { 'retry-after': 'later please' } }))).toMatchObject({ at: at(5_000) });
  });

  it('does not resurrect an exhausted schedule', () => {
    expect(decide(response(429, { headers: { 'retry-after': '10' } }), 8).kind).toBe('failed');
  });

  it('does not apply to permanent failures', () => {
    expect(decide(response(400, { headers: { 'retry-after': '10' } })).kind).toBe('failed');
  });
});

describe('decideOutcome: failed permanently', () => {
  it.each([400, 401, 403, 404, 405, 409, 413, 415, 422, 451, 499])('fails %i without retrying', (status) => {
    const outcome = decide(response(status), 1);
    expect(outcome.kind).toBe('failed');
    if (outcome.kind === 'failed') {
      expect(outcome.reason).toMatch(new RegExp(`^the receiver rejected the request with ${status}; fix the receiver, then resend`));
    }
  });

  it.each([100, 101, 102, 199, 0, 600, 999, -1])('fails a weird status %i', (status) => {
    const outcome = decide(response(status));
    expect(outcome.kind).toBe('failed');
    if (outcome.kind === 'failed') expect(outcome.reason).toContain(`unexpected status ${status}`);
  });

  it('fails a blocked (SSRF) address on the first attempt', () => {
    const refusal =
      'hooks.internal.example resolves to a non-public address (private, loopback, link-local, metadata or reserved), which Herald does not deliver to; ' +
      "if the endpoint is meant to reach a private network, the operator of this Herald can allow that network with HERALD_ALLOWED_NETWORKS (Herald's log names the address)";
    const outcome = decide(failure('blocked', refusal), 1);
    expect(outcome).toEqual({ kind: 'failed', reason: `${refusal}; nothing was sent, and it is not retried: resend the message once the endpoint is fixed` });
  });

  it('fails every other refusal on the first attempt too, without calling it a private address', () => {
    const refusals = [
      'Herald refused to send the request: invalid x-price header',
      'plain http:// URLs are not allowed on this server; use https://',
      'not a valid absolute URL (expected e.g. https://example.com/webhooks)',
      'the host header cannot be set; it always matches the endpoint URL',
    ];
    for (const message of refusals) {
      const outcome = decide(failure('blocked', message), 1);
      expect(outcome.kind, message).toBe('failed');
      if (outcome.kind !== 'failed') continue;
      expect(outcome.reason.startsWith(message), message).toBe(true);
      expect(outcome.reason, message).not.toMatch(/private|internal network|non-public/);
    }
  });

  it('classifies by status when the status line arrived before a failure', () => {
    expect(decide(failure('response', 'reset', { status: 400 })).kind).toBe('failed');
    expect(decide(failure('timeout', 'slow body', { status: 410 })).kind).toBe('disable-endpoint');
  });
});

describe('decideOutcome: 410 Gone', () => {
  it('disables the endpoint, whatever the attempt number', () => {
    for (const made of [1, 5, 8, 20]) {
      const outcome = decide(response(410), made);
      expect(outcome.kind).toBe('disable-endpoint');
      if (outcome.kind === 'disable-endpoint') expect(outcome.reason).toContain('410 Gone');
    }
  });
});

describe('decideOutcome: input checks', () => {
  it('requires attemptsMade >= 1 (it includes this attempt)', () => {
    expect(() => decide(response(200), 0)).toThrow(HeraldError);
    expect(() => decide(response(500), -1)).toThrow(/>= 1/);
    expect(() => decide(response(500), 1.5)).toThrow(HeraldError);
  });

  it('does not mutate its inputs', () => {
    const result = response(429, { headers: { 'retry-after': '5' } });
    const copy = structuredClone(result);
    const policy = structuredClone(DEFAULT_RETRY_POLICY);
    decideOutcome(result, { attemptsMade: 1, policy, now: NOW, random: () => 0.3 });
    expect(result).toEqual(copy);
    expect(policy).toEqual(DEFAULT_RETRY_POLICY);
    expect(NOW.toISOString()).toBe('2024-05-01T12:00:00.000Z');
  });
});

describe('describeFailure', () => {
  it('quotes the HTTP client\'s message and gives the advice of its stage', () => {
    expect(describeFailure(failure('dns', 'x.invalid could not be resolved: no such host (ENOTFOUND)'))).toBe(
      'x.invalid could not be resolved: no such host (ENOTFOUND); check the host name in the endpoint URL',
    );
    expect(describeFailure(failure('connect', 'connection refused by 1.2.3.4:443 (ECONNREFUSED)'))).toBe(
      'connection refused by 1.2.3.4:443 (ECONNREFUSED); check that the receiver is running and reachable from Herald at that address and port (firewall, listening port)',
    );
    expect(describeFailure(failure('tls', 'the TLS handshake with h.example (1.2.3.4:443) failed: certificate has expired (CERT_HAS_EXPIRED)'))).toBe(
      "the TLS handshake with h.example (1.2.3.4:443) failed: certificate has expired (CERT_HAS_EXPIRED); the receiver's certificate must be valid for the host name, unexpired, and issued by a CA that Herald trusts",
    );
    expect(describeFailure(failure('timeout', 'no response headers arrived within the 15000 ms deadline'))).toBe(
      'no response headers arrived within the 15000 ms deadline; the receiver must answer within the deadline: acknowledge with 2xx first, then process asynchronously',
    );
    expect(describeFailure(failure('response', 'the receiver reset the connection before a complete response arrived (ECONNRESET)'))).toBe(
      "the receiver reset the connection before a complete response arrived (ECONNRESET); check the receiver's logs (or its proxy's) for why it closed the connection before answering",
    );
  });

  it('gives no advice meant for another failure of the same stage', () => {
    // A temporary DNS failure is not a wrong host name.
    expect(describeFailure(failure('dns', 'h.example could not be resolved: temporary DNS failure (EAI_AGAIN)'))).toMatch(/usually temporary$/);
    expect(describeFailure(failure('dns', 'the DNS lookup of h.example took too long: timed out'))).not.toMatch(/host name in the endpoint URL/);
    // Herald's own shutdown is not the receiver being down.
    expect(describeFailure(failure('connect', 'the HTTP client is shutting down (UND_ERR_CLOSED)'))).toMatch(/Herald was shutting down; nothing is wrong with the receiver$/);
    // A TLS failure that is not about the certificate gets no certificate advice.
    const plain = describeFailure(failure('tls', 'the TLS handshake with h.example (1.2.3.4:443) failed: wrong version number (ERR_SSL_WRONG_VERSION_NUMBER)'));
    expect(plain).toMatch(/serves HTTPS \(TLS\) on that port$/);
    expect(plain).not.toMatch(/certificate/);
    // A request that never reached the receiver is not the receiver being slow to answer.
    for (const message of ['could not connect to 1.2.3.4:443 within the 15000 ms deadline', 'the DNS lookup of h.example did not finish within the 15000 ms deadline']) {
      const text = describeFailure(failure('timeout', message));
      expect(text, message).toMatch(/never reached the receiver/);
      expect(text, message).not.toMatch(/acknowledge/);
    }
    // A broken answer is not a broken connection.
    expect(describeFailure(failure('response', "the response headers exceeded Herald's 64 KiB limit (UND_ERR_HEADERS_OVERFLOW)"))).toMatch(/smaller headers$/);
    expect(describeFailure(failure('response', "the receiver's answer is not valid HTTP/1.1: Invalid header value char (HPE_INVALID_HEADER_TOKEN)"))).toMatch(/valid HTTP\/1\.1$/);
    expect(describeFailure(failure('response', 'Herald failed to send: TypeError: x is not a function'))).toMatch(/fault in Herald, not in the receiver/);
  });

  it('promises no retry in the reason a delivery gave up with', () => {
    for (const status of [425, 429]) {
      const outcome = decide(response(status), DEFAULT_RETRY_POLICY.schedule.length + 1);
      expect(outcome.kind).toBe('failed');
      if (outcome.kind === 'failed') expect(outcome.reason).not.toMatch(/will retry|retries later/);
    }
  });

  it('keeps the whole of a long refusal, with its fix at the end', () => {
    const refusal = `${'h'.repeat(250)}.example resolves to a non-public address, which Herald does not deliver to; ${'x'.repeat(200)} HERALD_ALLOWED_NETWORKS`;
    expect(describeFailure(failure('blocked', refusal))).toContain('HERALD_ALLOWED_NETWORKS; nothing was sent');
  });

  it('gives status-specific advice', () => {
    expect(describeFailure(response(401))).toContain("endpoint's current secret");
    expect(describeFailure(response(403))).toContain("endpoint's current secret");
    expect(describeFailure(response(404))).toContain("endpoint URL's path");
    expect(describeFailure(response(413))).toContain('size limit');
    expect(describeFailure(response(408))).toContain('408 Request Timeout');
    expect(describeFailure(response(425))).toContain('425 Too Early');
    expect(describeFailure(response(429))).toContain('Retry-After');
    expect(describeFailure(response(500))).toBe("the receiver failed with 500; check the receiver's logs for the error");
    expect(describeFailure(response(400))).toBe('the receiver rejected the request with 400; fix the receiver, then resend');
    expect(describeFailure(response(200))).toBe('the receiver accepted the message with 200');
  });

  it('reports a redirect without Location', () => {
    expect(describeFailure(response(302))).toBe(
      'the receiver answered 302: redirect to a URL it did not give (no Location header) not followed; point the endpoint at the final URL',
    );
    expect(describeFailure(response(301, { headers: { LOCATION: '/new' } }))).toContain('redirect to /new not followed');
  });

  it('clips very long messages and locations', () => {
    const long = 'x'.repeat(5_000);
    expect(describeFailure(failure('connect', long)).length).toBeLessThan(500);
    expect(describeFailure(response(301, { headers: { location: long } })).length).toBeLessThan(500);
  });
});

describe('classify and headerValue', () => {
  it('classifies the boundaries', () => {
    expect(classify(response(199))).toBe('permanent');
    expect(classify(response(200))).toBe('delivered');
    expect(classify(response(299))).toBe('delivered');
    expect(classify(response(300))).toBe('retryable');
    expect(classify(response(399))).toBe('retryable');
    expect(classify(response(400))).toBe('permanent');
    expect(classify(response(410))).toBe('gone');
    expect(classify(response(499))).toBe('permanent');
    expect(classify(response(500))).toBe('retryable');
    expect(classify(response(599))).toBe('retryable');
    expect(classify(response(600))).toBe('permanent');
    expect(classify(failure('blocked'))).toBe('permanent');
    expect(classify(failure('tls'))).toBe('retryable');
  });

  it('looks headers up case-insensitively', () => {
    expect(headerValue({ 'Retry-After': '5' }, 'retry-after')).toBe('5');
    expect(headerValue({ 'retry-after': '5' }, 'Retry-After')).toBe('5');
    expect(headerValue({}, 'retry-after')).toBeUndefined();
    expect(headerValue(undefined, 'retry-after')).toBeUndefined();
  });
});
