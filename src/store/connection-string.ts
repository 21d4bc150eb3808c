/**
 * PostgreSQL connection strings as configuration: checked at start the way node-postgres will parse
 * them (so a malformed one stops Herald naming DATABASE_URL, not with "Invalid URL" from deep inside
 * pg), and shown only with their password replaced, in errors and in logs.
 */

/** What replaces a password (in the user-info part or a `password=` parameter). */
const MASK = '***';

/**
 * Parses like pg-connection-string's `parse` does (spaces and stray `%` encoded first; an empty host
 * before a path tried with a placeholder host), so a string accepted here is one pg accepts.
 */
function parseLikePg(raw: string): URL | null {
  let str = raw;
  if (/ |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(str)) str = encodeURI(str).replace(/%25(\d\d)/g, '%$1');
  try {
    return new URL(str, 'postgres://base');
  } catch {
    try {
      return new URL(str.replace('@/', '@___DUMMY___/'), 'postgres://base');
    } catch {
      return null;
    }
  }
}

/** Why a connection string cannot be used, naming the fix; null when it can. Never quotes it. */
export function connectionStringProblem(raw: string): string | null {
  if (!/^postgres(ql)?:\/\//i.test(raw)) return 'must be a postgres:// or postgresql:// connection string, e.g. postgres://herald:password@db.example.com:5432/herald';
  if (parseLikePg(raw) === null) {
    return 'is not a valid URL: percent-encode special characters (@ : / ? # [ ] %) in the user name and password, e.g. p@ss as p%40ss';
  }
  return null;
}

/**
 * The string with any password replaced by ***, for messages and logs. When it does not parse,
 * everything before the last `@` after the scheme is masked: the password may be anywhere in there.
 */
export function redactConnectionString(raw: string): string {
  const maskParams = (s: string) => s.replace(/([?&](?:ssl)?password=)[^&#]*/gi, `$1${MASK}`);
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? parseLikePg(raw) : null;
  if (url && url.hostname !== '___DUMMY___' && /^postgres(ql)?:$/i.test(url.protocol)) {
    if (url.password) url.password = MASK;
    return maskParams(url.toString());
  }
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(raw)?.[0] ?? '';
  const rest = raw.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  // key=value form (host=… password=…) or anything else: mask every password parameter.
  const masked = at >= 0 ? `${MASK}@${rest.slice(at + 1)}` : rest;
  return maskParams(scheme + masked).replace(/(\bpassword\s*=\s*)('[^']*'|\S+)/gi, `$1${MASK}`);
}
