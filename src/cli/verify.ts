/**
 * `herald verify`: checks a captured request (headers and raw body) against an endpoint secret, or an
 * Ed25519 public key, under the endpoint's signature profile, and says exactly why it does not verify.
 * Needs no server. Exit 0 valid, 1 invalid, 2 usage error.
 */
import type { Command } from 'commander';
import { DEFAULT_TOLERANCE_SECONDS } from '../core/signing.js';
import { HeraldError } from '../core/errors.js';
import { ED25519_PUBLIC_PREFIX, ED25519_SECRET_PREFIX, ed25519PublicKeyOf, parseEd25519PublicKey, profileProblems, signingKeyOf, type SignatureProfile } from '../core/signature-profile.js';
import { diagnoseAny, type ProfileDiagnosis } from './diagnose-profile.js';
import { CommandFailed, run, UsageError } from './exit-codes.js';
import { intArg, readArgBytes } from './input.js';
import { printJson } from './output.js';

/** Headers as verifySignature takes them. */
type Headers = Record<string, string | string[]>;

/**
 * Reads captured headers: a JSON object (`{"webhook-id": "..."}`; values may be arrays), a JSON object
 * with a `headers` field (a line of `herald listen --json`), a JSON array of [name, value] pairs, or
 * raw `Name: value` lines as printed by curl -v, a browser or `herald listen` (a request line is skipped).
 */
export function parseHeaders(text: string): Headers {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return parseHeaderLines(text);
  }
  if (Array.isArray(json)) {
    const out: Headers = {};
    for (const pair of json) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new UsageError('--headers: a JSON array must hold [name, value] pairs');
      const [k, v] = pair as unknown[];
      out[String(k).toLowerCase()] = String(v);
    }
    return out;
  }
  if (json === null || typeof json !== 'object') throw new UsageError('--headers must be a JSON object of header names to values');
  const obj = json as Record<string, unknown>;
  const inner = obj.headers;
  const hasOwn = Object.keys(obj).some((k) => /^(webhook|svix)-/i.test(k));
  const source = !hasOwn && inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? (inner as Record<string, unknown>) : obj;
  const out: Headers = {};
  for (const [k, v] of Object.entries(source)) {
    if (Array.isArray(v)) out[k.toLowerCase()] = v.map(String);
    else if (typeof v === 'string' || typeof v === 'number') out[k.toLowerCase()] = String(v);
  }
  return out;
}

function parseHeaderLines(text: string): Headers {
  const out: Headers = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^[<>]\s*/, '').trim(); // curl -v prefixes "> " and "< "
    if (!line || /^[A-Z]+ \S+ HTTP\/[\d.]+$/.test(line)) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new UsageError(`--headers: cannot read "${line.slice(0, 60)}"; give JSON or "Name: value" lines`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = out[name];
    out[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  if (Object.keys(out).length === 0) throw new UsageError('--headers is empty');
  return out;
}

/** Prints a diagnosis for people: a ✓/✗ line, then hints. */
export function renderDiagnosis(d: Pick<ProfileDiagnosis, 'valid' | 'summary' | 'hints'>): string {
  const head = d.valid ? `✓ ${d.summary}` : `✗ invalid signature: ${d.summary}`;
  return [head, ...d.hints.map((h) => `  - ${h}`)].join('\n') + '\n';
}

/** Profile flags shared by `herald verify` and `herald listen`, as commander passes them. */
export interface ProfileFlags {
  secret?: string[];
  publicKey?: string[];
  signature?: string;
  signatureHeader?: string;
  timestampHeader?: string;
  signedContent?: string;
  signatureEncoding?: string;
  signatureKey?: string;
}

const collect = (v: string, all: string[] = []) => [...all, v];

/** Adds the profile flags to a command. */
export function addProfileOptions(cmd: Command, secretHelp: string): Command {
  return cmd
    .option('--secret <secret>', secretHelp, collect)
    .option('--signature <scheme>', "the endpoint's signature scheme: standard, hmac-sha256 or ed25519", 'standard')
    .option('--signature-header <name>', 'hmac-sha256: the header carrying the digest, e.g. X-Signature')
    .option('--timestamp-header <name>', 'hmac-sha256: the header carrying the Unix timestamp, if any')
    .option('--signed-content <what>', 'hmac-sha256: what is signed, body or timestamp.body (default body)')
    .option('--signature-encoding <enc>', 'hmac-sha256: digest encoding, hex or base64 (default hex)')
    .option('--signature-key <key>', "hmac-sha256: the key is the secret's utf8 bytes, or the bytes it encodes in hex (default utf8)")
    .option('--public-key <whpk>', 'ed25519: public key to verify with (whpk_...); repeat during a rotation', collect);
}

const FLAG_OF: Record<string, string> = {
  scheme: '--signature',
  header: '--signature-header',
  timestampHeader: '--timestamp-header',
  content: '--signed-content',
  encoding: '--signature-encoding',
  key: '--signature-key',
};

/** The profile the flags describe; a UsageError names the flag that is wrong. */
export function profileFromFlags(f: ProfileFlags): SignatureProfile {
  const scheme = f.signature ?? 'standard';
  const hmacOnly = (['signatureHeader', 'timestampHeader', 'signedContent', 'signatureEncoding', 'signatureKey'] as const)
    .filter((k) => f[k] !== undefined)
    .map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  if (scheme !== 'hmac-sha256' && hmacOnly.length > 0) throw new UsageError(`${hmacOnly.join(', ')}: only for --signature hmac-sha256`);
  if (scheme === 'hmac-sha256' && f.signatureHeader === undefined) {
    throw new UsageError('--signature hmac-sha256 needs --signature-header <name>, the header carrying the digest');
  }
  const profile =
    scheme === 'hmac-sha256'
      ? { scheme, header: f.signatureHeader, timestampHeader: f.timestampHeader ?? null, content: f.signedContent ?? 'body', encoding: f.signatureEncoding ?? 'hex', key: f.signatureKey ?? 'utf8' }
      : { scheme };
  const problems = profileProblems(profile);
  if (problems.length > 0) throw new UsageError(problems.map((p) => `${FLAG_OF[p.path] ?? '--signature'}: ${p.message}`).join('; '));
  return profile as SignatureProfile;
}

function publicKeyHint(secret: string): string {
  try {
    return ed25519PublicKeyOf(secret);
  } catch {
    return `${ED25519_PUBLIC_PREFIX}…`;
  }
}

/** What to verify with under `p`, checked; a UsageError says what fits instead. `required`: at least one. */
export function verifiersFromFlags(p: SignatureProfile, f: ProfileFlags, required: boolean): string[] {
  const secrets = f.secret ?? [];
  const keys = f.publicKey ?? [];
  if (p.scheme === 'ed25519') {
    const signing = [...secrets, ...keys].find((k) => k.startsWith(ED25519_SECRET_PREFIX));
    if (signing) throw new UsageError(`a whsk_ key is the signing key; verify with its public key: --public-key ${publicKeyHint(signing)}`);
    if (secrets.length > 0) throw new UsageError('--signature ed25519 verifies with --public-key whpk_… (GET /api/v1/public/endpoint/{endpoint_id}/keys lists them), not --secret');
    for (const [i, k] of keys.entries()) {
      try {
        parseEd25519PublicKey(k);
      } catch (e) {
        throw new UsageError(`--public-key #${i + 1}: ${(e as Error).message}`);
      }
    }
    if (required && keys.length === 0) throw new UsageError('--signature ed25519 needs --public-key whpk_…');
    return keys;
  }
  if (keys.length > 0) throw new UsageError(`--public-key is for --signature ed25519; the ${p.scheme} scheme verifies with --secret`);
  for (const [i, s] of secrets.entries()) {
    // An hmac-sha256 secret that does not fit the key option (not hex) is diagnosed, not refused: it may fit the other.
    try {
      signingKeyOf(p.scheme === 'hmac-sha256' ? { ...p, key: 'utf8' } : p, s);
    } catch (e) {
      const hint = s.startsWith(ED25519_PUBLIC_PREFIX)
        ? '; a whpk_ key is an Ed25519 public key: pass --signature ed25519 --public-key'
        : '; if the endpoint signs with a platform HMAC header, pass --signature hmac-sha256 --signature-header <name>';
      throw new UsageError(`--secret #${i + 1}: ${e instanceof HeraldError ? e.detail : (e as Error).message}${hint}`);
    }
  }
  if (required && secrets.length === 0) throw new UsageError(`--secret is required${p.scheme === 'standard' ? ' (or --signature ed25519 with --public-key)' : ''}`);
  return secrets;
}

/** Options of `herald verify`, as commander passes them. */
interface VerifyFlags extends ProfileFlags {
  headers: string;
  body: string;
  tolerance: string;
  now?: string;
  json?: boolean;
}

export function registerVerify(program: Command): void {
  const cmd = program.command('verify').description("check a captured request's signature and explain why it does not match");
  addProfileOptions(cmd, 'endpoint secret (whsec_... for standard); repeat to try several')
    .requiredOption('--headers <json|@file>', 'request headers: JSON object, or "Name: value" lines; @file or @- for stdin')
    .requiredOption('--body <@file|text>', 'the raw request body: @file (exact bytes), @- for stdin, or inline text')
    .option('--tolerance <seconds>', 'allowed clock difference', String(DEFAULT_TOLERANCE_SECONDS))
    .option('--now <unix>', 'check as if the time were this (Unix seconds); default: the current time')
    .option('--json', 'print the verdict as JSON')
    .addHelpText(
      'after',
      `
Exit codes: 0 valid, 1 invalid (the reason is printed), 2 usage error.

Examples:
  herald verify --secret whsec_... --headers @headers.json --body @body.json
  herald verify --secret "$OLD" --secret "$NEW" --headers 'webhook-id: msg_1
webhook-timestamp: 1700000000
webhook-signature: v1,...' --body @body.bin --now 1700000000
  herald verify --signature hmac-sha256 --signature-header X-Signature --timestamp-header X-Timestamp \\
    --signed-content timestamp.body --signature-key hex --secret "$HEX" --headers @h.txt --body @body.bin
  herald verify --signature ed25519 --public-key whpk_... --headers @headers.json --body @body.json`,
    )
    .action(
      run(async (flags: VerifyFlags) => {
        if (flags.headers.startsWith('@-') && flags.body.startsWith('@-')) throw new UsageError('only one of --headers and --body can read stdin');
        const profile = profileFromFlags(flags);
        const secrets = verifiersFromFlags(profile, flags, true);
        const tolerance = intArg(flags.tolerance, '--tolerance', 0, 10 * 365 * 86_400);
        const now = flags.now === undefined ? Math.floor(Date.now() / 1000) : intArg(flags.now, '--now', 0, 1e15);
        const headers = parseHeaders((await readArgBytes(flags.headers, '--headers')).toString('utf8'));
        const body = await readArgBytes(flags.body, '--body');
        const verdict = diagnoseAny({ profile, secrets, headers, body, nowSeconds: now, toleranceSeconds: tolerance });
        if (flags.json) printJson(verdict);
        else process.stdout.write(renderDiagnosis(verdict));
        if (!verdict.valid) throw new CommandFailed('');
      }),
    );
}
