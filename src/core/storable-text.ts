/**
 * Text that PostgreSQL can store. A `text` or `jsonb` value must be valid UTF-8 without NUL: PostgreSQL
 * refuses 0x00 in text (`invalid byte sequence for encoding "UTF8": 0x00`) and `\u0000` in jsonb
 * ("unsupported Unicode escape sequence"), and a JS string holding a lone surrogate has no UTF-8 encoding
 * at all. Receivers send all of these (a response body is whatever the receiver chose), and one
 * such value used to fail the whole batch of result writes. So every string taken from a receiver goes
 * through here before it is kept: what cannot be stored becomes U+FFFD, and `lossy` says so, so the log
 * can show that the stored text is not exactly what was received.
 */
import { isUtf8 } from 'node:buffer';

/** Text safe for PostgreSQL `text`/`jsonb`, and whether anything had to be replaced to get it. */
export interface StorableText {
  /** The text; equal to the input when `lossy` is false. */
  text: string;
  /** True when a NUL, an invalid UTF-8 sequence or a lone surrogate was replaced by U+FFFD. */
  lossy: boolean;
}

const REPLACEMENT = '\uFFFD';
/** NUL, or a surrogate that is not half of a pair (with the `u` flag, a pair matches as one code point). */
const UNSTORABLE = /\0|\p{Cs}/gu;

/**
 * Decodes bytes as UTF-8 for storage. Valid UTF-8 without NUL comes back exactly, with `lossy: false`.
 * Otherwise each invalid sequence (overlong forms, encoded surrogates, stray continuation bytes, bytes
 * that never occur in UTF-8, a truncated final character) and each NUL becomes U+FFFD, following the
 * WHATWG decoder's rule of one replacement per maximal invalid subpart.
 */
export function storableText(bytes: Buffer): StorableText {
  if (bytes.indexOf(0) === -1 && isUtf8(bytes)) return { text: bytes.toString('utf8'), lossy: false };
  // toString('utf8') already replaces invalid sequences and never yields a lone surrogate; only NUL is left.
  return { text: bytes.toString('utf8').replaceAll('\0', REPLACEMENT), lossy: true };
}

/**
 * Makes a JS string storable: NUL (U+0000) and lone surrogates become U+FFFD. For strings that did not
 * come from decoding bytes here: header values (undici decodes them as latin1, which can hold NUL) and
 * error messages that quote what a receiver sent.
 */
export function storableString(s: string): StorableText {
  UNSTORABLE.lastIndex = 0;
  if (!UNSTORABLE.test(s)) return { text: s, lossy: false };
  return { text: s.replace(UNSTORABLE, REPLACEMENT), lossy: true };
}

/**
 * How many bytes at the end of `bytes` are the valid start of a UTF-8 character whose remaining bytes
 * are missing (0 to 3). A body cut at a size limit or a deadline can end inside a character; dropping
 * that start keeps an honest cut from being reported as lossy. Bytes that could never begin a valid
 * character are not counted: they are invalid however the body continued.
 */
export function incompleteUtf8Tail(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back]!;
    if (b < 0x80) return 0; // ASCII: the tail is complete
    if (b < 0xc0) continue; // continuation byte: look further back for the lead byte
    const need = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (need <= back) return 0; // complete (or an invalid lead byte): nothing to drop
    if (back >= 2 && !validSecondByte(b, bytes[bytes.length - back + 1]!)) return 0;
    return back;
  }
  return 0;
}

/** The second byte's range for a lead byte (RFC 3629 §4), which rules out overlong forms and surrogates. */
function validSecondByte(lead: number, second: number): boolean {
  if (lead === 0xe0) return second >= 0xa0 && second <= 0xbf;
  if (lead === 0xed) return second >= 0x80 && second <= 0x9f;
  if (lead === 0xf0) return second >= 0x90 && second <= 0xbf;
  if (lead === 0xf4) return second >= 0x80 && second <= 0x8f;
  return second >= 0x80 && second <= 0xbf;
}
