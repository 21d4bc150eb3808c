/**
 * The signing-contract flags `herald apps` and `herald endpoints` share (signature profile, delivery
 * headers) and the envelope flags of apps and event types, with their printing. Flags become the
 * API's `signature`, `deliveryHeaders` and `envelope` fields; values the CLI can check are usage
 * errors (exit 2) before anything is sent, header names are the server's to judge.
 */
import type { Command } from 'commander';
import type { SignatureProfile } from '../core/signature-profile.js';
import { UsageError } from './exit-codes.js';
import type { Schemas } from '../api-client/index.js';
import { parseJsonArg, readArgBytes } from './input.js';

/** Delivery headers as the API answers them (null = not sent, or Herald's own User-Agent). */
export type DeliveryHeadersOut = Schemas['DeliveryHeadersOut'];

/** Signing-contract flags as typed (`none` = not sent; `inherit` = back to the application's, or none). */
export interface ContractFlags {
  /** `--signature standard|ed25519|hmac-sha256|inherit`. */
  signature?: string;
  /** `--signature-header`. */
  signatureHeader?: string;
  /** `--timestamp-header NAME|none`. */
  timestampHeader?: string;
  /** `--signed-content body|timestamp.body`. */
  signedContent?: string;
  /** `--signature-encoding hex|base64`. */
  signatureEncoding?: string;
  /** `--signature-key utf8|hex`. */
  signatureKey?: string;
  /** `--event-type-header NAME|none|inherit`. */
  eventTypeHeader?: string;
  /** `--delivery-id-header NAME|none|inherit`. */
  deliveryIdHeader?: string;
  /** `--user-agent VALUE|none|inherit`. */
  userAgent?: string;
}

/** Adds the signature-profile and delivery-header flags (`what` = whose setting it is, in the help). */
export function withContractFlags(cmd: Command, what: string): Command {
  return cmd
    .option('--signature <standard|ed25519|hmac-sha256|inherit>', `how deliveries to ${what} are signed (default standard: Standard Webhooks)`)
    .option('--signature-header <name>', 'hmac-sha256: header carrying the digest, e.g. X-Acme-Signature')
    .option('--timestamp-header <name|none>', 'hmac-sha256: header carrying the Unix timestamp (needed for --signed-content timestamp.body)')
    .option('--signed-content <body|timestamp.body>', 'hmac-sha256: what is signed (default body)')
    .option('--signature-encoding <hex|base64>', 'hmac-sha256: digest encoding (default hex)')
    .option('--signature-key <utf8|hex>', "hmac-sha256: the key is the secret's UTF-8 bytes or its hex-decoded bytes (default utf8)")
    .option('--event-type-header <name|none|inherit>', `header carrying the event type, sent to ${what}`)
    .option('--delivery-id-header <name|none|inherit>', 'header carrying the delivery id (the same on every retry)')
    .option('--user-agent <value|none|inherit>', "User-Agent value (none = Herald's own); `inherit` on any of the three: all three back to the inherited ones");
}

const SCHEMES = ['standard', 'ed25519', 'hmac-sha256'] as const;

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined || (allowed as readonly string[]).includes(value)) return value as T | undefined;
  throw new UsageError(`${flag} must be ${allowed.join(', ')} (got "${value}")`);
}

/**
 * The `signature` field of a body: undefined when no flag is given, null for `inherit`. Flags left
 * out keep `base` (the profile in force, on update) or take the defaults body, hex, utf8.
 */
export function signatureBody(flags: ContractFlags, base?: SignatureProfile | null): SignatureProfile | null | undefined {
  const detail = [flags.signatureHeader, flags.timestampHeader, flags.signedContent, flags.signatureEncoding, flags.signatureKey].some((v) => v !== undefined);
  if (flags.signature === undefined && !detail) return undefined;
  if (flags.signature === 'inherit') {
    if (detail) throw new UsageError('--signature inherit takes no other signature flags');
    return null;
  }
  const scheme = oneOf(flags.signature, SCHEMES, '--signature') ?? base?.scheme;
  if (scheme !== 'hmac-sha256') {
    if (!detail && scheme !== undefined) return { scheme };
    throw new UsageError(
      flags.signature === undefined
        ? '--signature-header, --timestamp-header, --signed-content, --signature-encoding and --signature-key need --signature hmac-sha256'
        : `--signature ${scheme} always uses the webhook-* headers; the other signature flags are for hmac-sha256`,
    );
  }
  const from = base?.scheme === 'hmac-sha256' ? base : undefined;
  const header = flags.signatureHeader ?? from?.header;
  if (!header) throw new UsageError('--signature hmac-sha256 needs --signature-header <name>');
  const ts = flags.timestampHeader === 'none' ? null : (flags.timestampHeader ?? from?.timestampHeader ?? null);
  return {
    scheme,
    header,
    timestampHeader: ts,
    content: oneOf(flags.signedContent, ['body', 'timestamp.body'] as const, '--signed-content') ?? from?.content ?? 'body',
    encoding: oneOf(flags.signatureEncoding, ['hex', 'base64'] as const, '--signature-encoding') ?? from?.encoding ?? 'hex',
    key: oneOf(flags.signatureKey, ['utf8', 'hex'] as const, '--signature-key') ?? from?.key ?? 'utf8',
  };
}

/**
 * The `deliveryHeaders` field of a body: undefined when no flag is given, null for `inherit`. The
 * object replaces the whole setting, so flags left out keep `base` (what is in force, on update).
 */
export function deliveryHeadersBody(flags: ContractFlags, base?: DeliveryHeadersOut | null): DeliveryHeadersOut | null | undefined {
  const given = { eventType: flags.eventTypeHeader, deliveryId: flags.deliveryIdHeader, userAgent: flags.userAgent };
  const values = Object.values(given).filter((v) => v !== undefined);
  if (values.length === 0) return undefined;
  if (values.includes('inherit')) {
    if (values.some((v) => v !== 'inherit')) throw new UsageError('`inherit` puts all three delivery headers back to inheriting; give it alone');
    return null;
  }
  const pick = (v: string | undefined, current: string | null | undefined) => (v === undefined ? (current ?? null) : v === 'none' ? null : v);
  return { eventType: pick(given.eventType, base?.eventType), deliveryId: pick(given.deliveryId, base?.deliveryId), userAgent: pick(given.userAgent, base?.userAgent) };
}

/** Refuses malformed contract flag values before anything is sent (an update may read the current settings first). */
export function checkContractFlags(flags: ContractFlags): void {
  oneOf(flags.signature, [...SCHEMES, 'inherit'] as const, '--signature');
  oneOf(flags.signedContent, ['body', 'timestamp.body'] as const, '--signed-content');
  oneOf(flags.signatureEncoding, ['hex', 'base64'] as const, '--signature-encoding');
  oneOf(flags.signatureKey, ['utf8', 'hex'] as const, '--signature-key');
  signatureBody(flags, { scheme: 'hmac-sha256', header: 'X-Check', content: 'body', encoding: 'hex', key: 'utf8' });
  deliveryHeadersBody(flags);
}

/** Whether the contract flags change part of a setting, so an update must read the current one to merge onto. */
export function needsCurrent(flags: ContractFlags): boolean {
  const partial = [flags.signatureHeader, flags.timestampHeader, flags.signedContent, flags.signatureEncoding, flags.signatureKey];
  return partial.some((v) => v !== undefined) || [flags.eventTypeHeader, flags.deliveryIdHeader, flags.userAgent].some((v) => v !== undefined && v !== 'inherit');
}

/** Envelope flags as typed. */
export interface EnvelopeFlags {
  /** `--envelope-file PATH`. */
  envelopeFile?: string;
  /** False with `--no-envelope`. */
  envelope?: boolean;
}

/** Adds `--envelope-file` (and, for updates, `--no-envelope`). */
export function withEnvelopeFlags(cmd: Command, what: string, update: boolean): Command {
  cmd.option('--envelope-file <path>', `JSON template wrapping ${what} payloads, e.g. {"id":"{{message.id}}","type":"{{message.eventType}}","data":"{{payload}}"}`);
  return update ? cmd.option('--no-envelope', 'remove the envelope') : cmd;
}

/** The `envelope` field of a body: undefined when no flag is given, null for `--no-envelope`. */
export async function envelopeBody(flags: EnvelopeFlags): Promise<Record<string, unknown> | null | undefined> {
  if (flags.envelope === false) {
    if (flags.envelopeFile !== undefined) throw new UsageError('--envelope-file and --no-envelope contradict each other; give one');
    return null;
  }
  if (flags.envelopeFile === undefined) return undefined;
  const t = parseJsonArg((await readArgBytes(`@${flags.envelopeFile}`, '--envelope-file')).toString('utf8'), '--envelope-file');
  if (t === null || typeof t !== 'object' || Array.isArray(t)) throw new UsageError('--envelope-file must hold a JSON object, with "{{payload}}" somewhere in it');
  return t as Record<string, unknown>;
}

/** A profile in words, for `get` commands. */
export function describeProfile(p: SignatureProfile): string {
  if (p.scheme === 'standard') return 'standard (Standard Webhooks: webhook-signature v1, HMAC-SHA256)';
  if (p.scheme === 'ed25519') return 'ed25519 (Standard Webhooks v1a; receivers verify with the public key)';
  const content = p.content === 'body' ? 'the body' : '{timestamp}.{body}';
  const key = p.key === 'hex' ? 'hex-decoded secret' : 'secret as UTF-8';
  return `hmac-sha256: ${p.encoding} HMAC of ${content} keyed with the ${key}, in ${p.header}${p.timestampHeader ? `; timestamp in ${p.timestampHeader}` : ''}`;
}

/** Delivery headers in words, for `get` commands. */
export function describeDeliveryHeaders(h: DeliveryHeadersOut): string {
  const parts = [h.eventType && `event type in ${h.eventType}`, h.deliveryId && `delivery id in ${h.deliveryId}`, h.userAgent && `User-Agent ${h.userAgent}`].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'none';
}
