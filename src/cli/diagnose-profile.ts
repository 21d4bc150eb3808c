/**
 * Explains why a delivery's signature does or does not verify under any signature profile, for
 * `herald verify` and `herald listen`. `standard` is diagnose.ts's verdict (with a hint when the request
 * carries another scheme); `hmac-sha256` and `ed25519` get the same steps on verifyWithProfile
 * (src/core/signature-profile.ts): the signature apart from the clock, the common re-serialisations of
 * the body, and for hmac-sha256 every other key (UTF-8 or hex-decoded), content and encoding, so a
 * receiver that keys HMAC with the hex text instead of its bytes is told so. Pure: the clock is a parameter.
 */
import { STANDARD_PROFILE, verifyWithProfile, type SignatureProfile } from '../core/signature-profile.js';
import { DEFAULT_TOLERANCE_SECONDS } from '../core/signing.js';
import { bodyVariants, describeAge, diagnose, type DiagnoseOptions, type Diagnosis, type DiagnosisReason } from './diagnose.js';

/** Why a request does or does not verify under a profile; adds to diagnose.ts's reasons. */
export type ProfileDiagnosisReason =
  | DiagnosisReason
  /** ed25519: webhook-signature holds no v1a signature (typically v1 ones: the endpoint is standard). */
  | 'no_v1a_signature'
  /** hmac-sha256: the secret is right, another option of the profile (key, content, encoding) matches. */
  | 'profile_mismatch';

/** The verdict on one request under any profile: diagnose.ts's fields plus the scheme. */
export interface ProfileDiagnosis extends Omit<Diagnosis, 'reason'> {
  /** The main reason. */
  reason: ProfileDiagnosisReason;
  /** The scheme checked against. */
  scheme: SignatureProfile['scheme'];
  /** hmac-sha256: the profile that would have verified, when it differs from the one given. */
  matchingProfile?: SignatureProfile;
}

/** Inputs of {@link diagnoseAny}: those of diagnose(), where `secrets` are `whpk_` keys for ed25519. */
export interface ProfileDiagnoseOptions extends DiagnoseOptions {
  /** The profile to check against. */
  profile: SignatureProfile;
}

type Hmac = Extract<SignatureProfile, { scheme: 'hmac-sha256' }>;
type Headers = DiagnoseOptions['headers'];

function headerValue(headers: Headers, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === lower && v !== undefined) return (Array.isArray(v) ? v.join(' ') : v).trim();
  }
  return undefined;
}

/** Hints naming the signature headers present that the profile does not read. */
function otherSignatureHints(p: SignatureProfile, headers: Headers): string[] {
  const hints: string[] = [];
  const sig = headerValue(headers, 'webhook-signature') ?? headerValue(headers, 'svix-signature');
  if (p.scheme === 'hmac-sha256' && sig !== undefined) {
    hints.push(/(^|\s)v1a,/.test(sig) ? 'the request carries webhook-signature v1a,…: the endpoint signs with ed25519; pass --signature ed25519 --public-key whpk_…' : 'the request carries webhook-signature: the endpoint signs with the standard scheme; drop --signature hmac-sha256');
  }
  const own = p.scheme === 'hmac-sha256' ? [p.header.toLowerCase()] : [];
  for (const name of Object.keys(headers)) {
    const n = name.toLowerCase();
    if (/(^|-)sig(nature)?($|-)|hmac|digest/.test(n) && !/^(webhook|svix)-/.test(n) && !own.includes(n)) {
      hints.push(`the request has the header ${name}: if it carries the endpoint's digest, pass --signature hmac-sha256 --signature-header ${name}`);
    }
  }
  return hints;
}

/** diagnose() for standard, with hints pointing at another scheme when the request carries one. */
function diagnoseStandard(opts: DiagnoseOptions): ProfileDiagnosis {
  const d = diagnose(opts);
  const hints = [...d.hints];
  if (d.reason === 'missing_headers') hints.push(...otherSignatureHints(STANDARD_PROFILE, opts.headers));
  const sig = headerValue(opts.headers, 'webhook-signature') ?? '';
  if (d.reason === 'no_v1_signature' && /(^|\s)v1a,/.test(sig)) hints.push('it carries v1a (Ed25519) signatures: pass --signature ed25519 --public-key whpk_…');
  return { ...d, hints, scheme: 'standard' };
}

/** Every other hmac-sha256 profile worth trying, fewest changes first. */
function alternatives(p: Hmac, headers: Headers): Hmac[] {
  const tsHeaders = p.timestampHeader ? [p.timestampHeader] : Object.keys(headers).filter((k) => /timestamp/i.test(k));
  const out: Hmac[] = [];
  for (const content of ['body', 'timestamp.body'] as const) {
    for (const encoding of ['hex', 'base64'] as const) {
      for (const key of ['utf8', 'hex'] as const) {
        for (const ts of content === 'body' ? [p.timestampHeader ?? null] : tsHeaders) {
          if (content !== p.content || encoding !== p.encoding || key !== p.key) out.push({ ...p, content, encoding, key, timestampHeader: ts });
        }
      }
    }
  }
  const changes = (a: Hmac) => changeSentences(p, a).length;
  return out.sort((a, b) => changes(a) - changes(b));
}

/** A profile as the flags that select it. */
export function profileFlags(p: SignatureProfile): string {
  if (p.scheme !== 'hmac-sha256') return `--signature ${p.scheme}`;
  const ts = p.timestampHeader ? ` --timestamp-header ${p.timestampHeader}` : '';
  return `--signature hmac-sha256 --signature-header ${p.header}${ts} --signed-content ${p.content} --signature-encoding ${p.encoding} --signature-key ${p.key}`;
}

/** What differs between the profile given and the one that matched, as sentences naming the flags. */
function changeSentences(from: Hmac, to: Hmac): string[] {
  const out: string[] = [];
  if (from.key !== to.key) {
    out.push(to.key === 'hex' ? 'the key is the secret hex-decoded (--signature-key hex), not its characters' : "the key is the secret's own characters as UTF-8 (--signature-key utf8), not the secret hex-decoded");
  }
  if (from.content !== to.content) {
    out.push(to.content === 'timestamp.body' ? `what is signed is "{timestamp}.{raw body}" (--signed-content timestamp.body${from.timestampHeader ? '' : ` --timestamp-header ${to.timestampHeader}`})` : 'what is signed is the raw body alone (--signed-content body)');
  }
  if (from.encoding !== to.encoding) out.push(`the digest is ${to.encoding}-encoded (--signature-encoding ${to.encoding})`);
  return out;
}

/** Explains a request's signature under any profile; never throws. */
export function diagnoseAny(opts: ProfileDiagnoseOptions): ProfileDiagnosis {
  const p = opts.profile;
  if (p.scheme === 'standard') return diagnoseStandard(opts);
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const check = (secrets: string[], body: Buffer | string, now: number, profile: SignatureProfile = p) =>
    verifyWithProfile({ profile, secrets, headers: opts.headers, body, nowSeconds: now, toleranceSeconds: tolerance });
  const which = (body: Buffer | string, now: number, profile: SignatureProfile = p) => {
    const i = opts.secrets.findIndex((s) => check([s], body, now, profile).ok);
    return i === -1 ? undefined : i + 1;
  };
  const noun = p.scheme === 'ed25519' ? 'public key' : 'secret';
  const tsName = p.scheme === 'hmac-sha256' ? p.timestampHeader : 'webhook-timestamp';
  const rawTs = tsName ? headerValue(opts.headers, tsName) : undefined;
  const timestamp = rawTs !== undefined && /^\d{1,15}$/.test(rawTs) ? Number(rawTs) : undefined;
  const msgId = p.scheme === 'ed25519' ? headerValue(opts.headers, 'webhook-id') : undefined;
  const sigText = (p.scheme === 'ed25519' ? headerValue(opts.headers, 'webhook-signature') : headerValue(opts.headers, p.header)) ?? '';
  const signatureCount = p.scheme === 'ed25519' ? sigText.split(/[\s,]+/).filter((s) => s === 'v1a').length : sigText ? 1 : 0;
  const base = {
    scheme: p.scheme,
    ...(msgId !== undefined ? { msgId } : {}),
    ...(timestamp !== undefined ? { timestamp, ageSeconds: opts.nowSeconds - timestamp } : {}),
    signatureCount,
  };
  const live = check(opts.secrets, opts.body, opts.nowSeconds);
  if (live.ok) {
    const matchedSecret = which(opts.body, opts.nowSeconds) ?? 1;
    const where = p.scheme === 'hmac-sha256' ? p.header : `webhook-id ${msgId}`;
    const when = timestamp !== undefined ? `signed ${describeAge(opts.nowSeconds - timestamp)}` : 'no timestamp header, so no replay window';
    const several = opts.secrets.length > 1 ? `, ${noun} #${matchedSecret}` : '';
    return { ...base, valid: true, reason: 'valid', summary: `valid signature (${where}, ${when}${several})`, hints: [], signatureMatches: true, matchedSecret };
  }
  if (live.reason === 'missing_headers') return { ...base, valid: false, reason: live.reason, summary: live.detail, hints: otherSignatureHints(p, opts.headers) };
  // An hmac-sha256 secret unusable under the profile (not hex for key hex) may fit another key: try it.
  if (live.reason === 'bad_timestamp' || (live.reason === 'bad_secret' && p.scheme !== 'hmac-sha256')) {
    return { ...base, valid: false, reason: live.reason, summary: live.detail, hints: [] };
  }
  const clockFree = timestamp ?? opts.nowSeconds;
  const stale = live.reason === 'timestamp_too_old' || live.reason === 'timestamp_too_new';
  const age = opts.nowSeconds - clockFree;
  const staleSentence = `signed ${describeAge(age)}, ${Math.abs(age) - tolerance} s more than the ${tolerance} s allowed`;
  const staleHints = stale ? [`also, the timestamp is outside tolerance: ${staleSentence}`] : [];
  if (live.reason !== 'bad_secret') {
    const early = clockAndBody(p, opts, which, { base, clockFree, live: live.reason, staleSentence, staleHints, sigText, signatureCount, noun });
    if (early) return early;
  }
  if (p.scheme === 'hmac-sha256') {
    for (const alt of alternatives(p, opts.headers)) {
      const altTs = alt.timestampHeader ? headerValue(opts.headers, alt.timestampHeader) : undefined;
      const n = which(opts.body, altTs !== undefined && /^\d{1,15}$/.test(altTs) ? Number(altTs) : clockFree, alt);
      if (n !== undefined) {
        const question = alt.key === 'hex' && p.key === 'utf8' ? ': did you hex-decode the secret?' : '';
        const summary = `the secret is right, but ${changeSentences(p, alt).join(', and ')}${question}`;
        const hints = [`the endpoint's profile: ${profileFlags(alt)}`, ...staleHints];
        return { ...base, valid: false, reason: 'profile_mismatch', summary, hints, signatureMatches: false, matchedSecret: n, matchingProfile: alt };
      }
    }
  }
  if (live.reason === 'bad_secret') {
    return { ...base, valid: false, reason: 'bad_secret', summary: live.detail, hints: ['tried it as UTF-8 too, over the body and "{timestamp}.{body}", as hex and base64: none matches'] };
  }
  return { ...base, valid: false, reason: 'wrong_secret', summary: wrongSummary(p, opts.secrets.length, signatureCount), hints: [...wrongHints(p, opts, sigText, signatureCount), ...staleHints], signatureMatches: false };
}

type Which = (body: Buffer | string, now: number, profile?: SignatureProfile) => number | undefined;

/** The stale-only, wrong-scheme and altered-body verdicts; undefined when none applies. */
function clockAndBody(
  p: SignatureProfile,
  opts: ProfileDiagnoseOptions,
  which: Which,
  c: { base: Partial<ProfileDiagnosis> & { scheme: SignatureProfile['scheme'] }; clockFree: number; live: string; staleSentence: string; staleHints: string[]; sigText: string; signatureCount: number; noun: string },
): ProfileDiagnosis | undefined {
  const matched = which(opts.body, c.clockFree);
  if (matched !== undefined) {
    const hint = `if this is an old capture, pass --now ${c.clockFree} (its own timestamp) or a larger --tolerance; if it is live, check the receiver's clock (NTP) or whether the request is a replay`;
    return { ...c.base, valid: false, reason: c.live === 'timestamp_too_new' ? 'timestamp_too_new' : 'timestamp_too_old', summary: `timestamp outside tolerance: the signature is correct, but the request was ${c.staleSentence}`, hints: [hint], signatureMatches: true, matchedSecret: matched };
  }
  if (p.scheme === 'ed25519' && c.signatureCount === 0) {
    const summary = /(^|\s)v1,/.test(c.sigText)
      ? 'webhook-signature holds only v1 (HMAC) signatures: the endpoint signs with the standard scheme; verify with its whsec_ secret (--secret, without --signature ed25519)'
      : 'webhook-signature holds no "v1a,<base64>" signature';
    return { ...c.base, valid: false, reason: 'no_v1a_signature', summary, hints: c.staleHints, signatureMatches: false };
  }
  for (const variant of bodyVariants(Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body, 'utf8'))) {
    const n = which(variant.bytes, c.clockFree);
    if (n !== undefined) {
      return { ...c.base, valid: false, reason: 'body_modified', summary: `body altered (the ${c.noun} is right): ${variant.explain}`, hints: c.staleHints, signatureMatches: false, matchedSecret: n, bodyVariant: variant.name };
    }
  }
  return undefined;
}

function wrongSummary(p: SignatureProfile, given: number, count: number): string {
  if (p.scheme === 'ed25519') return `wrong public key: none of the request's ${count} signature(s) verifies with the public key${given > 1 ? 's' : ''} given, and no common re-serialisation of the body does either`;
  return `wrong secret: the ${p.scheme === 'hmac-sha256' ? p.header : ''} digest matches no secret given, with the profile as given or any other key, content or encoding, and no common re-serialisation of the body does either`;
}

function wrongHints(p: SignatureProfile, opts: ProfileDiagnoseOptions, sigText: string, count: number): string[] {
  if (p.scheme === 'ed25519') {
    return [
      "is it this endpoint's current public key? GET /api/v1/public/endpoint/{endpoint_id}/keys lists the valid ones",
      count > 1 ? `the request carries ${count} signatures: a rotation is in progress and each valid key signs; the key you gave is none of them` : 'was the key rotated? After the grace period the old key stops signing',
      'otherwise the body, webhook-id or webhook-timestamp differ from what was sent (all three are signed)',
    ];
  }
  const hints = [
    "is it this endpoint's current secret? `herald endpoints secret <app> <endpoint>` prints it",
    'during a rotation an hmac-sha256 delivery carries ONE digest, made with the oldest secret still valid until the grace period ends: pass the old secret too (--secret OLD --secret NEW)',
  ];
  const hexSecrets = opts.secrets.some((s) => /^([0-9a-fA-F]{2}){16,}$/.test(s));
  hints.push(hexSecrets ? 'tried the secret as UTF-8 and hex-decoded, over the body and "{timestamp}.{body}", as hex and base64: none matches' : 'tried the secret as UTF-8 (it is not hex, so it cannot be hex-decoded), over the body and "{timestamp}.{body}", as hex and base64: none matches');
  if (p.scheme === 'hmac-sha256' && !/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/.test(sigText)) {
    hints.push(`${p.header} holds "${sigText.slice(0, 24)}${sigText.length > 24 ? '…' : ''}", not a bare SHA-256 digest: Herald sends the digest alone (no "sha256=" prefix)`);
  }
  return hints;
}
