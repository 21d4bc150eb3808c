/**
 * Signature profiles and delivery headers in the webhook forms: the presets, the form's draft, the
 * checks the API makes (mirrored from src/core/signature-profile.ts and delivery-headers.ts, so a
 * problem shows before a request), the request body, and the words for a profile. Pure (it imports
 * only the generated API types), so it is unit-tested in Node (test/e2e/signature-profile.test.ts);
 * the API's 422 still shows beside the field when the two disagree.
 */
import type { Schemas } from '../../../src/api-client/index.js';

/** How deliveries are signed (the API's `signature`), as the generated API types say it. */
export type SignatureProfile = Schemas['SignatureProfileIn'];

/** An HMAC-SHA256 profile: a digest of the body, or of `{timestamp}.{body}`, in a header the platform names. */
export type HmacProfile = Extract<SignatureProfile, { scheme: 'hmac-sha256' }>;

/** Platform header names and User-Agent (the API's `deliveryHeaders`); null = not sent / Herald's own. */
export type DeliveryHeaders = Schemas['DeliveryHeadersIn'];

/** What the Signature select offers. */
export type SignatureChoice = 'inherit' | 'standard' | 'ed25519' | 'hmac-hex-body' | 'hmac-hex-timestamp' | 'custom';

/** One preset: its label and the fixed part of its profile (header names are the user's). */
interface Preset {
  label: string;
  fixed?: Pick<HmacProfile, 'content' | 'encoding' | 'key'> & { timestamp: boolean };
}

/** The presets, in the order the select shows them. */
export const SIGNATURE_PRESETS: Record<Exclude<SignatureChoice, 'inherit'>, Preset> = {
  standard: { label: 'Standard Webhooks (recommended)' },
  ed25519: { label: 'Ed25519 (public key)' },
  'hmac-hex-body': { label: 'HMAC-SHA256 hex of the body in a header', fixed: { content: 'body', encoding: 'hex', key: 'utf8', timestamp: false } },
  'hmac-hex-timestamp': {
    label: 'HMAC-SHA256 hex of {timestamp}.{body}, hex-decoded key',
    fixed: { content: 'timestamp.body', encoding: 'hex', key: 'hex', timestamp: true },
  },
  custom: { label: 'Custom' },
};

/** The Signature fields as a form holds them. */
export interface SignatureDraft {
  /** The select's value. */
  choice: SignatureChoice;
  /** HMAC only: the signature header. */
  header: string;
  /** HMAC only: the timestamp header, '' = none. */
  timestampHeader: string;
  /** HMAC only. */
  content: HmacProfile['content'];
  /** HMAC only. */
  encoding: HmacProfile['encoding'];
  /** HMAC only. */
  key: HmacProfile['key'];
}

/** Header names a new HMAC profile starts with; the platform usually has its own. */
const DEFAULT_HEADERS = { header: 'X-Signature', timestampHeader: 'X-Timestamp' };

/** The draft of a stored profile (null = inherited, where `inherit` is offered; standard otherwise). */
export function signatureDraftOf(p: SignatureProfile | null | undefined, canInherit: boolean): SignatureDraft {
  const blank: SignatureDraft = { choice: 'standard', ...DEFAULT_HEADERS, content: 'body', encoding: 'hex', key: 'utf8' };
  if (p == null) return { ...blank, choice: canInherit ? 'inherit' : 'standard' };
  if (p.scheme !== 'hmac-sha256') return { ...blank, choice: p.scheme };
  const draft: SignatureDraft = { choice: 'custom', header: p.header, timestampHeader: p.timestampHeader ?? '', content: p.content, encoding: p.encoding, key: p.key };
  for (const id of ['hmac-hex-body', 'hmac-hex-timestamp'] as const) {
    const f = SIGNATURE_PRESETS[id].fixed!;
    if (p.content === f.content && p.encoding === f.encoding && p.key === f.key && Boolean(p.timestampHeader) === f.timestamp) draft.choice = id;
  }
  return draft;
}

/** The draft after choosing another option: a preset sets its fixed fields; header names and Custom keep what was typed. */
export function chooseSignature(d: SignatureDraft, choice: SignatureChoice): SignatureDraft {
  const fixed = choice === 'inherit' ? undefined : SIGNATURE_PRESETS[choice].fixed;
  if (!fixed) return { ...d, choice };
  const { timestamp, ...rest } = fixed;
  return { ...d, ...rest, choice, timestampHeader: timestamp ? d.timestampHeader || DEFAULT_HEADERS.timestampHeader : '' };
}

/** The profile a draft stands for; null = inherit. */
export function signatureBody(d: SignatureDraft): SignatureProfile | null {
  if (d.choice === 'inherit') return null;
  if (d.choice === 'standard' || d.choice === 'ed25519') return { scheme: d.choice };
  const timestampHeader = d.timestampHeader.trim();
  return { scheme: 'hmac-sha256', header: d.header.trim(), timestampHeader: timestampHeader || null, content: d.content, encoding: d.encoding, key: d.key };
}

/** The profile in force: the draft's own, or the inherited one (standard when the application sets none). */
export function resolvedProfile(d: SignatureDraft, inherited: SignatureProfile | null | undefined): SignatureProfile {
  return signatureBody(d) ?? inherited ?? { scheme: 'standard' };
}

/**
 * Names a profile or delivery header may not use: HTTP's own, and Herald's Standard Webhooks headers
 * (src/core/signature-profile.ts RESERVED_HEADERS; any `webhook-*` too); the API also refuses
 * `svix-*`, `proxy-*` and User-Agent (src/engine/applications.ts).
 */
const RESERVED = new Set([
  'host', 'content-length', 'content-type', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive',
  'upgrade', 'te', 'trailer', 'expect', 'proxy-authorization', 'authorization', 'cookie',
  'webhook-id', 'webhook-timestamp', 'webhook-signature',
]);

/** An RFC 9110 token of at most 64 characters, as the API requires. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;

/** What is wrong with a header name a profile or delivery header setting uses, or null; `taken` are names already used. */
export function profileHeaderProblem(name: string, taken: string[] = []): string | null {
  if (name === '') return 'Enter a header name, e.g. X-Acme-Signature.';
  if (!HEADER_NAME.test(name)) return "Header names are 1 to 64 letters, digits or !#$%&'*+-.^_`|~ (no spaces or colons).";
  const lower = name.toLowerCase();
  if (lower === 'user-agent') return 'User-Agent is set with the User-Agent field; choose another name.';
  if (RESERVED.has(lower) || /^(webhook|svix|proxy)-/.test(lower)) return `${name} is set by Herald or by HTTP itself; choose another name.`;
  if (taken.some((t) => t.toLowerCase() === lower)) return `${name} is already used by this webhook's signature or delivery headers.`;
  return null;
}

/** Form problems of a signature draft, by field; empty when it can be sent. */
export function signatureProblems(d: SignatureDraft): Partial<Record<'header' | 'timestampHeader', string>> {
  if (d.choice === 'inherit' || d.choice === 'standard' || d.choice === 'ed25519') return {};
  const out: Partial<Record<'header' | 'timestampHeader', string>> = {};
  const header = d.header.trim();
  const ts = d.timestampHeader.trim();
  const h = profileHeaderProblem(header);
  if (h) out.header = h;
  if (ts) {
    const t = profileHeaderProblem(ts, [header]);
    if (t) out.timestampHeader = t;
  } else if (d.content === 'timestamp.body') {
    out.timestampHeader = 'Required when {timestamp}.{body} is signed: the receiver needs the timestamp that was signed.';
  }
  return out;
}

/** The headers a profile sets, which delivery headers may not reuse. */
export function profileHeaders(p: SignatureProfile): string[] {
  if (p.scheme !== 'hmac-sha256') return ['webhook-id', 'webhook-timestamp', 'webhook-signature'];
  return p.timestampHeader ? [p.header, p.timestampHeader] : [p.header];
}

/** The delivery header fields as a form holds them. */
export interface DeliveryHeadersDraft {
  /** False = inherit the application's (endpoints only). */
  own: boolean;
  /** Event type header name, '' = not sent. */
  eventType: string;
  /** Delivery id header name, '' = not sent. */
  deliveryId: string;
  /** User-Agent value, '' = Herald's own. */
  userAgent: string;
}

/** The draft of stored delivery headers (null = inherited where `canInherit`). */
export function deliveryHeadersDraftOf(h: DeliveryHeaders | null | undefined, canInherit: boolean): DeliveryHeadersDraft {
  return { own: h != null || !canInherit, eventType: h?.eventType ?? '', deliveryId: h?.deliveryId ?? '', userAgent: h?.userAgent ?? '' };
}

/** Visible ASCII and spaces, as the API allows in a User-Agent. */
const USER_AGENT = /^[\x20-\x7e]{1,256}$/;

/** Form problems of delivery headers, by field; `taken` are the names the signature profile in force uses. */
export function deliveryHeadersProblems(d: DeliveryHeadersDraft, taken: string[]): Partial<Record<'eventType' | 'deliveryId' | 'userAgent', string>> {
  if (!d.own) return {};
  const out: Partial<Record<'eventType' | 'deliveryId' | 'userAgent', string>> = {};
  const used = [...taken];
  for (const key of ['eventType', 'deliveryId'] as const) {
    const name = d[key].trim();
    if (!name) continue;
    const problem = profileHeaderProblem(name, used);
    if (problem) out[key] = problem;
    else used.push(name);
  }
  const ua = d.userAgent.trim();
  if (ua && !USER_AGENT.test(ua)) out.userAgent = 'Up to 256 visible ASCII characters, e.g. Acme-Webhooks/1.0.';
  return out;
}

/** The request value of a draft: null = inherit; empty fields are null (not sent, or Herald's User-Agent). */
export function deliveryHeadersBody(d: DeliveryHeadersDraft): DeliveryHeaders | null {
  if (!d.own) return null;
  const v = (s: string) => (s.trim() === '' ? null : s.trim());
  return { eventType: v(d.eventType), deliveryId: v(d.deliveryId), userAgent: v(d.userAgent) };
}

/** Why an existing secret cannot be imported under a profile, or null (the API's checks, src/core/signature-profile.ts). */
export function importedSecretProblem(secret: string, p: SignatureProfile): string | null {
  if (secret === '') return null;
  if (p.scheme === 'ed25519') {
    return /^whsk_[A-Za-z0-9+/]{43}=$|^whsk_[A-Za-z0-9+/]{86}==$/.test(secret) ? null : 'An Ed25519 signing key is whsk_ followed by the base64 of a 32-byte key.';
  }
  if (p.scheme === 'hmac-sha256') {
    if (p.key === 'hex') return /^([0-9a-fA-F]{2}){16,}$/.test(secret) ? null : 'This profile keys HMAC with the hex-decoded secret: enter an even number of hex digits, at least 32.';
    return secret.length >= 16 ? null : 'At least 16 characters.';
  }
  const encoded = secret.startsWith('whsec_') ? secret.slice(6) : secret;
  const m = /^[A-Za-z0-9+/]*(={0,2})$/.exec(encoded);
  const bytes = (encoded.length / 4) * 3 - (m?.[1]?.length ?? 0);
  if (!m || encoded.length === 0 || encoded.length % 4 !== 0 || bytes < 24 || bytes > 64) {
    return 'A Standard Webhooks secret is whsec_ followed by the base64 of 24 to 64 random bytes.';
  }
  return null;
}

/** The form of secret a profile signs with: any text of 16+ characters fits a UTF-8 key. */
export type SecretForm = 'whsec' | 'hex' | 'ed25519' | 'any';

/** The secret form of a profile. */
export function secretForm(p: SignatureProfile): SecretForm {
  if (p.scheme === 'standard') return 'whsec';
  if (p.scheme === 'ed25519') return 'ed25519';
  return p.key === 'hex' ? 'hex' : 'any';
}

/**
 * Whether changing a webhook from `saved` to `next` needs a new secret in the same request: the API
 * refuses a profile its current secret does not fit. A UTF-8 key fits any secret; otherwise the
 * form must stay the same (a secret imported for a UTF-8 key may not be whsec_, so that counts too).
 */
export function needsNewSecret(saved: SignatureProfile, next: SignatureProfile): boolean {
  const to = secretForm(next);
  return to !== 'any' && to !== secretForm(saved);
}

/** A profile in words, for the webhook page: "HMAC-SHA256, hex of {timestamp}.{body} in X-Signature…". */
export function describeProfile(p: SignatureProfile): string {
  if (p.scheme === 'standard') return 'Standard Webhooks: webhook-id, webhook-timestamp and webhook-signature (v1, HMAC-SHA256)';
  if (p.scheme === 'ed25519') return 'Ed25519: Standard Webhooks headers with a v1a signature, verified with the public key';
  const content = p.content === 'body' ? 'the body' : '{timestamp}.{body}';
  const key = p.key === 'hex' ? 'hex-decoded key' : 'UTF-8 key';
  const ts = p.timestampHeader ? `, timestamp in ${p.timestampHeader}` : ', no timestamp';
  return `HMAC-SHA256 ${p.encoding} of ${content}, ${key}, in ${p.header}${ts}`;
}

/** The label of the preset a stored profile matches ("Custom" for other HMAC profiles). */
export function profileLabel(p: SignatureProfile): string {
  const choice = signatureDraftOf(p, false).choice;
  return choice === 'inherit' ? SIGNATURE_PRESETS.standard.label : SIGNATURE_PRESETS[choice].label;
}

/** Delivery headers in words: "Event type in X-Acme-Event · User-Agent Acme/1.0", or what is sent by default. */
export function describeDeliveryHeaders(h: DeliveryHeaders | null | undefined): string {
  const parts = [h?.eventType && `event type in ${h.eventType}`, h?.deliveryId && `delivery id in ${h.deliveryId}`, h?.userAgent ? `User-Agent ${h.userAgent}` : "Herald's own User-Agent"].filter(Boolean);
  const text = parts.join(', ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}
