/**
 * Email addresses as Herald accepts them: operator lists (HERALD_ALERT_EMAILS, the alert settings),
 * an application's contact, and the sender (HERALD_ALERT_FROM, which may carry a display name).
 * One checker for all of them, so an address the configuration accepts is one the API accepts.
 */
import { z } from 'zod';

/** Longest address SMTP carries (RFC 5321 section 4.5.3.1.3: a path is at most 256 octets, 254 for the address). */
export const MAX_ADDRESS_LENGTH = 254;
/** Most operator addresses one list may hold. */
export const MAX_OPERATOR_ADDRESSES = 50;

const emailSchema = z.email();

/** Whether `s` is one plain email address (`ops@example.com`), as SMTP servers expect in an envelope. */
export function isEmailAddress(s: string): boolean {
  return s.length <= MAX_ADDRESS_LENGTH && emailSchema.safeParse(s).success;
}

/** A sender: the address, and an optional display name shown to recipients. */
export interface Mailbox {
  /** The address itself. */
  address: string;
  /** Display name, e.g. "Herald alerts"; null = none. */
  name: string | null;
}

/** Parses `ops@example.com` or `Herald alerts <ops@example.com>`; null when it is neither. */
export function parseMailbox(raw: string): Mailbox | null {
  const s = raw.trim();
  const m = /^(.*?)\s*<([^<>]+)>$/.exec(s);
  const address = (m ? m[2]! : s).trim();
  const name = m ? m[1]!.trim().replace(/^"(.*)"$/, '$1') : '';
  if (!isEmailAddress(address) || /[\r\n<>"]/.test(name)) return null;
  return { address, name: name || null };
}

/**
 * Splits a comma-separated list of addresses, trimmed, empty entries dropped, duplicates (ignoring
 * case) kept once. Returns the addresses, or the first entry that is not an address.
 */
export function parseAddressList(raw: string): { ok: true; addresses: string[] } | { ok: false; bad: string } {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const part of raw.split(',')) {
    const a = part.trim();
    if (a === '') continue;
    if (!isEmailAddress(a)) return { ok: false, bad: a };
    if (!seen.has(a.toLowerCase())) {
      seen.add(a.toLowerCase());
      out.push(a);
    }
  }
  return { ok: true, addresses: out };
}
