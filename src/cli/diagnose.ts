/**
 * Explains why a delivery's signature does or does not verify, for `herald verify` and `herald listen`.
 * Builds on verifySignature (src/core/signing.ts) and adds what a person debugging a receiver needs:
 * - the signature is checked apart from the clock, so a stale request whose signature is right says so;
 * - on a mismatch, common transformations of the body are tried (trailing newline from an editor, CRLF,
 *   JSON parsed and re-serialised compactly, pretty-printed, the Python or PHP way), and the one that
 *   verifies is named: then the secret is right and the receiver must verify the raw bytes instead;
 * - otherwise the secret is the suspect, with what to check (current secret, rotation, environment).
 * Pure: the clock is a parameter.
 */
import { verifySignature, type VerifyOptions } from '../core/signing.js';

/** Why a request does or does not verify; stable strings for `--json` output and scripts. */
export type DiagnosisReason =
  | 'valid'
  | 'missing_headers'
  | 'bad_timestamp'
  | 'bad_secret'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_v1_signature'
  | 'body_modified'
  | 'wrong_secret';

/** The verdict on one request. */
export interface Diagnosis {
  /** True when the signature matches and the timestamp is within tolerance. */
  valid: boolean;
  /** The main reason (the first problem a receiver would hit). */
  reason: DiagnosisReason;
  /** One sentence saying what is wrong, or that it is valid. */
  summary: string;
  /** Further problems and what to try, one sentence each. */
  hints: string[];
  /** The `webhook-id` (or `svix-id`) header. */
  msgId?: string;
  /** The `webhook-timestamp` header, Unix seconds. */
  timestamp?: number;
  /** now − timestamp in seconds: positive when signed in the past. */
  ageSeconds?: number;
  /** Whether the signature itself matches the body as given, ignoring the clock; undefined if never checked. */
  signatureMatches?: boolean;
  /** 1-based index of the secret that matched, when several were given. */
  matchedSecret?: number;
  /** How many `v1,` signatures the request carries (more than one during a secret rotation). */
  signatureCount?: number;
  /** The body transformation that would have verified, when the body was modified after sending. */
  bodyVariant?: string;
}

/** One way a body is commonly changed between the wire and the verifier. */
interface BodyVariant {
  /** Short name, e.g. "compact JSON". */
  name: string;
  /** The sentence telling the user what happened. */
  explain: string;
  /** The bytes to try. */
  bytes: Buffer;
}

const REPARSED =
  'it was parsed and re-serialised after it arrived (typically by a framework JSON body parser or a logger); verify against the raw request bytes instead';

/** Escapes every non-ASCII character as \uXXXX (Python's ensure_ascii, PHP's default). */
const asciiEscape = (s: string) => s.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** JSON text in Python's `json.dumps` default style: ", " and ": " separators, ASCII-escaped. */
function pythonDumps(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pythonDumps).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v)
      .map(([k, x]) => `${asciiEscape(JSON.stringify(k))}: ${pythonDumps(x)}`)
      .join(', ')}}`;
  }
  return asciiEscape(JSON.stringify(v));
}

/** Transformations of `body` worth trying, excluding ones identical to it. */
export function bodyVariants(body: Buffer): BodyVariant[] {
  const text = body.toString('utf8');
  const out: BodyVariant[] = [];
  const add = (name: string, explain: string, s: string) => {
    if (s !== text && !out.some((o) => o.bytes.toString('utf8') === s)) out.push({ name, explain, bytes: Buffer.from(s, 'utf8') });
  };
  const trimmed = text.replace(/\s+$/, '');
  add(
    'without trailing whitespace',
    'without its trailing line break (or spaces) this body verifies; editors and `echo` add one when a body is saved to a file',
    trimmed,
  );
  if (text.includes('\r\n')) {
    add('with LF line endings', 'with LF instead of CRLF line endings this body verifies; something rewrote its line endings', text.replace(/\r\n/g, '\n'));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return out;
  }
  const forms: [string, string][] = [
    ['compact JSON', JSON.stringify(parsed)],
    ['2-space indented JSON', JSON.stringify(parsed, null, 2)],
    ['4-space indented JSON', JSON.stringify(parsed, null, 4)],
    ['tab-indented JSON', JSON.stringify(parsed, null, '\t')],
    ['compact JSON with non-ASCII escaped', asciiEscape(JSON.stringify(parsed))],
    ["Python json.dumps' default JSON", pythonDumps(parsed)],
    ["PHP json_encode's default JSON", asciiEscape(JSON.stringify(parsed)).replace(/\//g, '\\/')],
  ];
  for (const [name, s] of forms) {
    add(name, `the ${name} form of this body verifies, the bytes you gave do not: ${REPARSED}`, s);
    add(`${name} with a trailing newline`, `the ${name} form of this body plus a newline verifies, the bytes you gave do not: ${REPARSED}`, `${s}\n`);
  }
  if (typeof parsed === 'string') {
    add('the decoded JSON string', 'the text inside this JSON string verifies: the body was JSON-encoded twice; verify the inner text', parsed);
  }
  return out;
}

/** Inputs of {@link diagnose}: those of verifySignature. */
export type DiagnoseOptions = VerifyOptions;

/** Index (1-based) of the first secret that verifies alone, ignoring the clock; undefined if none. */
function whichSecret(opts: DiagnoseOptions, body: Buffer | string, timestamp: number): number | undefined {
  const i = opts.secrets.findIndex((s) => verifySignature({ ...opts, secrets: [s], body, nowSeconds: timestamp }).ok);
  return i === -1 ? undefined : i + 1;
}

function countSignatures(headers: DiagnoseOptions['headers']): number {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const raw = lower['webhook-signature'] ?? lower['svix-signature'];
  const text = Array.isArray(raw) ? raw.join(' ') : (raw ?? '');
  return text.split(/[\s,]+/).filter((s) => s === 'v1').length;
}

/** Explains a request's signature; never throws. */
export function diagnose(opts: DiagnoseOptions): Diagnosis {
  const tolerance = opts.toleranceSeconds ?? 300;
  const live = verifySignature(opts);
  if (live.ok) {
    const matchedSecret = opts.secrets.length > 1 ? whichSecret(opts, opts.body, live.timestamp) : 1;
    const age = opts.nowSeconds - live.timestamp;
    return {
      valid: true,
      reason: 'valid',
      summary: `valid signature (webhook-id ${live.msgId}, signed ${describeAge(age)}${opts.secrets.length > 1 ? `, secret #${matchedSecret}` : ''})`,
      hints: [],
      msgId: live.msgId,
      timestamp: live.timestamp,
      ageSeconds: age,
      signatureMatches: true,
      matchedSecret,
      signatureCount: countSignatures(opts.headers),
    };
  }
  if (live.reason === 'missing_headers' || live.reason === 'bad_timestamp' || live.reason === 'bad_secret') {
    const hints =
      live.reason === 'missing_headers'
        ? ['capture every request header; Herald always sends webhook-id, webhook-timestamp and webhook-signature (svix-* names are accepted too)']
        : [];
    return { valid: false, reason: live.reason, summary: live.detail, hints };
  }

  // The headers are all there and the timestamp is a number: check the signature apart from the clock.
  const lower = Object.fromEntries(Object.entries(opts.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const first = (v: unknown) => String(Array.isArray(v) ? v[0] : v).trim();
  const timestamp = Number(first(lower['webhook-timestamp'] ?? lower['svix-timestamp']));
  const msgId = first(lower['webhook-id'] ?? lower['svix-id']);
  const age = opts.nowSeconds - timestamp;
  const signatureCount = countSignatures(opts.headers);
  const base = { msgId, timestamp, ageSeconds: age, signatureCount };
  const matched = whichSecret(opts, opts.body, timestamp);
  const stale = live.reason === 'timestamp_too_old' || live.reason === 'timestamp_too_new';
  const staleSentence =
    age > 0
      ? `signed ${age} s ago, ${age - tolerance} s more than the ${tolerance} s allowed`
      : `signed ${-age} s in the future, ${-age - tolerance} s more than the ${tolerance} s allowed`;
  const staleHint = `if this is an old capture, pass --now ${timestamp} (its own timestamp) or a larger --tolerance; if it is live, check the receiver's clock (NTP) or whether the request is a replay`;

  if (matched !== undefined) {
    // Only the clock is wrong.
    return {
      ...base,
      valid: false,
      reason: live.reason as DiagnosisReason,
      summary: `timestamp outside tolerance: the signature is correct, but the request was ${staleSentence}`,
      hints: [staleHint],
      signatureMatches: true,
      matchedSecret: matched,
    };
  }
  if (signatureCount === 0) {
    return {
      ...base,
      valid: false,
      reason: 'no_v1_signature',
      summary: 'webhook-signature holds no "v1,<base64>" signature; Herald signs with v1 (HMAC-SHA256, Standard Webhooks)',
      hints: stale ? [`also, the timestamp is outside tolerance: ${staleSentence}`] : [],
      signatureMatches: false,
    };
  }
  const staleExtra = stale ? [`also, the timestamp is outside tolerance: ${staleSentence}`, staleHint] : [];
  for (const variant of bodyVariants(Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body, 'utf8'))) {
    const n = whichSecret(opts, variant.bytes, timestamp);
    if (n !== undefined) {
      return {
        ...base,
        valid: false,
        reason: 'body_modified',
        summary: `body altered (the secret is right): ${variant.explain}`,
        hints: staleExtra,
        signatureMatches: false,
        matchedSecret: n,
        bodyVariant: variant.name,
      };
    }
  }
  return {
    ...base,
    valid: false,
    reason: 'wrong_secret',
    summary: `wrong secret: none of the request's ${signatureCount} signature(s) matches the secret${opts.secrets.length > 1 ? 's' : ''} given, and no common re-serialisation of the body does either`,
    hints: [
      "is it this endpoint's current secret? `herald endpoints secret <app> <endpoint>` prints it; a secret of another endpoint or environment (test vs live) is a common mix-up",
      signatureCount > 1
        ? `the request carries ${signatureCount} signatures: the endpoint's secret was rotated recently, and the old and new secrets both sign during the grace period; the one you gave is neither`
        : 'was the secret rotated? After a rotation the old secret stops signing when the grace period ends (at once with a grace of 0)',
      'otherwise the body, webhook-id or webhook-timestamp differ from what was sent (all three are signed)',
      ...staleExtra,
    ],
    signatureMatches: false,
  };
}

/** "12 s ago", "3 s in the future". */
export function describeAge(seconds: number): string {
  return seconds >= 0 ? `${seconds} s ago` : `${-seconds} s in the future`;
}
