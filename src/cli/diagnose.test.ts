import { describe, expect, it } from 'vitest';
import { generateSecret, parseSecret, webhookHeaders } from '../core/signing.js';
import { bodyVariants, diagnose } from './diagnose.js';

const secret = generateSecret(24, (n) => new Uint8Array(n).fill(7));
const T = 1_700_000_000;
const sign = (body: string) => webhookHeaders([parseSecret(secret)], 'msg_1', T, body);

describe('diagnose', () => {
  it('finds the Python json.dumps form of a body', () => {
    const signed = '{"a": 1, "name": "Zo\\u00eb"}';
    const captured = JSON.stringify({ a: 1, name: 'Zoë' });
    const d = diagnose({ secrets: [secret], headers: sign(signed), body: captured, nowSeconds: T });
    expect(d).toMatchObject({ valid: false, reason: 'body_modified', bodyVariant: "Python json.dumps' default JSON" });
  });

  it("finds the PHP json_encode form (escaped slashes)", () => {
    const signed = '{"url":"https:\\/\\/example.com\\/x"}';
    const d = diagnose({ secrets: [secret], headers: sign(signed), body: '{"url":"https://example.com/x"}', nowSeconds: T });
    expect(d.bodyVariant).toBe("PHP json_encode's default JSON");
  });

  it('finds CRLF line endings', () => {
    const signed = '{\n  "a": 1\n}';
    const d = diagnose({ secrets: [secret], headers: sign(signed), body: signed.replace(/\n/g, '\r\n'), nowSeconds: T });
    expect(d.reason).toBe('body_modified');
    expect(d.summary).toContain('CRLF');
  });

  it('reports a stale request whose signature is right, with the overshoot', () => {
    const d = diagnose({ secrets: [secret], headers: sign('{}'), body: '{}', nowSeconds: T + 301, toleranceSeconds: 300 });
    expect(d).toMatchObject({ valid: false, reason: 'timestamp_too_old', signatureMatches: true, ageSeconds: 301 });
    expect(d.summary).toContain('signed 301 s ago, 1 s more than the 300 s allowed');
  });

  it('says which of several secrets matched', () => {
    const d = diagnose({ secrets: [generateSecret(), secret], headers: sign('{}'), body: '{}', nowSeconds: T });
    expect(d).toMatchObject({ valid: true, matchedSecret: 2 });
  });

  it('offers no variant identical to the body itself', () => {
    const body = Buffer.from('{"a":1}');
    expect(bodyVariants(body).map((v) => v.bytes.toString())).not.toContain('{"a":1}');
  });
});
