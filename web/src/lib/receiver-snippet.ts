/**
 * The receiver code the webhook pages offer for a signature profile: a Node.js server that verifies
 * each delivery exactly as Herald signs it (src/core/signature-profile.ts) — the raw body, hex or
 * base64, the UTF-8 or hex-decoded key, the `{timestamp}.` prefix, a constant-time comparison and a
 * timestamp tolerance — with `herald/verify` for the Standard Webhooks schemes and node:crypto alone
 * for HMAC-SHA256. It holds the placeholder YOUR_SECRET, never a real secret: the page that shows
 * it may be screenshotted or pasted into a ticket. Pure, unit-tested in Node
 * (test/e2e/signature-profile.test.ts, which also runs the generated code against signed requests).
 */
import type { DeliveryHeaders, HmacProfile, SignatureProfile } from './signature.js';

/** The secret placeholder of every snippet. */
export const SECRET_PLACEHOLDER = 'YOUR_SECRET';
/** The endpoint id placeholder, before the webhook exists. */
export const ENDPOINT_PLACEHOLDER = 'YOUR_ENDPOINT_ID';
/** Largest clock difference a snippet accepts, as Herald's own verifier (and the Standard Webhooks spec) does. */
const TOLERANCE_SECONDS = 300;

/** What a snippet needs besides the profile. */
export interface SnippetOptions {
  /** The delivery headers in force (names the receiver reads). */
  deliveryHeaders?: DeliveryHeaders | null;
  /** Ed25519: where the endpoint's public keys are published. */
  publicKeysUrl?: string;
}

/** A single-quoted JavaScript string literal. */
function q(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `headers['x-name']`: Node gives incoming header names in lower case. */
function h(name: string): string {
  return `headers[${q(name.toLowerCase())}]`;
}

/** The public-keys URL of an endpoint (`YOUR_ENDPOINT_ID` before it exists). */
export function publicKeysUrl(origin: string, endpointId?: string | null): string {
  return `${origin.replace(/\/$/, '')}/api/v1/public/endpoint/${encodeURIComponent(endpointId || ENDPOINT_PLACEHOLDER)}/keys`;
}

/** A Node.js receiver for the profile. */
export function receiverSnippet(p: SignatureProfile, opts: SnippetOptions = {}): string {
  const verifier = p.scheme === 'hmac-sha256' ? hmacVerifier(p) : standardVerifier(p, opts.publicKeysUrl);
  return `${verifier}\n\n${server(p, opts.deliveryHeaders ?? null)}`;
}

const MODULE_LINE = '// Node.js 18 or later, as an ES module: save it as receiver.mjs and run node receiver.mjs.';

const SECRET_LINES = [
  '// The webhook\'s signing secret. Load it from your secret store; never commit it.',
];

function standardVerifier(p: { scheme: 'standard' | 'ed25519' }, keysUrl = publicKeysUrl('https://YOUR_HERALD_HOST')): string {
  const lines = [
    p.scheme === 'ed25519'
      ? '// Receives Herald webhooks and verifies their Ed25519 signature (Standard Webhooks v1a).'
      : '// Receives Herald webhooks and verifies their signature (Standard Webhooks).',
    MODULE_LINE,
    '// Needs the herald package (npm install herald), which also has Express, Fastify and fetch adapters.',
    "import { createServer } from 'node:http';",
    "import { verifyWebhook } from 'herald/verify';",
    '',
  ];
  if (p.scheme === 'ed25519') {
    lines.push(
      "// This webhook's public keys (whpk_…): public, not secret, so no secret is kept here.",
      '// Fetched at start; fetch them again after a key rotation (both keys sign during its grace period).',
      `const KEYS_URL = ${q(keysUrl)};`,
      'const { keys } = await (await fetch(KEYS_URL)).json();',
      'const PUBLIC_KEYS = keys.map((k) => k.key);',
    );
  } else {
    lines.push(...SECRET_LINES, '// During a rotation, list the new and the old one: both sign until the grace period ends.', `const SECRETS = [${q(SECRET_PLACEHOLDER)}];`);
  }
  const profile = p.scheme === 'ed25519' ? "profile: { scheme: 'ed25519' }, publicKeys: PUBLIC_KEYS" : 'secrets: SECRETS';
  lines.push(
    '',
    '/** Null when the delivery is genuine, else why not. */',
    'function verifyDelivery(headers, body) {',
    `  // Checks webhook-signature over webhook-id, webhook-timestamp and the raw body, and refuses a`,
    `  // webhook-timestamp more than ${TOLERANCE_SECONDS / 60} minutes from this machine's clock (replays).`,
    `  const result = verifyWebhook({ ${profile}, headers, body, toleranceSeconds: ${TOLERANCE_SECONDS} });`,
    '  return result.ok ? null : result.detail;',
    '}',
  );
  return lines.join('\n');
}

function hmacVerifier(p: HmacProfile): string {
  const ts = p.timestampHeader ?? null;
  const content = p.content === 'body' ? 'the body' : '{timestamp}.{body}';
  const lines = [
    `// Receives Herald webhooks and verifies them: HMAC-SHA256 ${p.encoding} of ${content} in ${p.header},`,
    `// keyed with ${p.key === 'hex' ? 'the bytes the secret encodes in hex' : "the secret's UTF-8 bytes"}.`,
    MODULE_LINE,
    "import { createHmac, timingSafeEqual } from 'node:crypto';",
    "import { createServer } from 'node:http';",
    '',
    ...SECRET_LINES,
    '// During a rotation, list the new and the old one: Herald signs with the old one until the grace',
    '// period ends, then with the new one.',
    `const SECRETS = [${q(SECRET_PLACEHOLDER)}];`,
  ];
  if (ts) lines.push(`// Largest accepted difference between ${ts} and this machine's clock (replays).`, `const TOLERANCE_SECONDS = ${TOLERANCE_SECONDS};`);
  lines.push('', '/** Null when the delivery is genuine, else why not. */', 'function verifyDelivery(headers, body) {', `  const signature = ${h(p.header)};`);
  if (ts) {
    lines.push(
      `  const timestamp = ${h(ts)};`,
      `  if (typeof signature !== 'string' || typeof timestamp !== 'string') return ${q(`missing ${p.header} or ${ts}`)};`,
      p.content === 'body' ? `  // ${ts} is not signed in this profile; checking it still refuses old deliveries sent again as they are.` : `  // The timestamp is part of what is signed, so it cannot be changed to pass this check.`,
      '  const now = Math.floor(Date.now() / 1000);',
      `  if (!/^\\d{1,15}$/.test(timestamp.trim()) || Math.abs(now - Number(timestamp)) > TOLERANCE_SECONDS) return ${q(`${ts} is not within ${TOLERANCE_SECONDS} s of now`)};`,
    );
  } else {
    lines.push(
      `  if (typeof signature !== 'string') return ${q(`missing ${p.header}`)};`,
      '  // This profile sends no timestamp, so deliveries cannot be refused by age: de-duplicate them instead.',
    );
  }
  const key = p.key === 'hex' ? "Buffer.from(secret, 'hex')" : "Buffer.from(secret, 'utf8')";
  const update = p.content === 'body' ? '.update(body)' : '.update(`${timestamp.trim()}.`).update(body)';
  lines.push(
    '  const given = Buffer.from(signature.trim());',
    '  for (const secret of SECRETS) {',
    p.key === 'hex' ? '    // The key is the bytes the secret encodes in hex, not its text.' : "    // The key is the secret's text itself (UTF-8), not a decoding of it.",
    `    const key = ${key};`,
    `    const expected = Buffer.from(createHmac('sha256', key)${update}.digest(${q(p.encoding)}));`,
    '    // A constant-time comparison, so the signature cannot be guessed byte by byte.',
    '    if (given.length === expected.length && timingSafeEqual(given, expected)) return null;',
    '  }',
    "  return 'the signature does not match: check the secret and that the body is the raw bytes received';",
    '}',
  );
  return lines.join('\n');
}

/** The HTTP server around verifyDelivery: raw body first, JSON parsed only after verification. */
function server(p: SignatureProfile, dh: DeliveryHeaders | null): string {
  const idHeader = dh?.deliveryId ?? (p.scheme === 'hmac-sha256' ? null : 'webhook-id');
  const lines = [
    'createServer((req, res) => {',
    '  const chunks = [];',
    '  req.on(\'data\', (chunk) => chunks.push(chunk));',
    "  req.on('end', () => {",
    '    // Verify the raw bytes received: parsed and re-serialised JSON would not match the signature.',
    '    const body = Buffer.concat(chunks);',
    '    const problem = verifyDelivery(req.headers, body);',
    '    if (problem) {',
    '      // 401: Herald does not retry it (a forged or replayed request stays refused).',
    "      res.writeHead(401, { 'content-type': 'text/plain' }).end(problem);",
    '      return;',
    '    }',
    "    const event = JSON.parse(body.toString('utf8'));",
  ];
  if (dh?.eventType) lines.push(`    const eventType = req.${h(dh.eventType)};`);
  if (idHeader) {
    lines.push(`    // ${idHeader} is the same on every retry: process each one once.`, `    const id = req.${h(idHeader)};`);
  } else {
    lines.push("    // Retries carry the same body; set a delivery id header on the webhook to de-duplicate them.");
  }
  const logged = [...(idHeader ? ['id'] : []), ...(dh?.eventType ? ['eventType'] : []), 'event'];
  lines.push(`    console.log('verified delivery', ${logged.join(', ')});`, '    res.writeHead(204).end();', '  });', '}).listen(3000);', '');
  return lines.join('\n');
}
