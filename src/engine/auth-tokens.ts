/**
 * Bearer tokens: format, issuing, and turning a presented token into a credential.
 *
 * Format: `<kind>_<lookup>_<secret>`, e.g. `hk_3f9a0c1d2e4b_Zm9vYmFy…` — `hk` API key, `hp` portal token,
 * `ha` generated operator token (a distinct prefix lets people and secret scanners tell them apart).
 * `lookup` is 12 random hex characters stored in clear so a token is found with one index probe; `secret`
 * is 32 random bytes (base64url). Only sha256(token) is stored. A fast hash is right here, unlike for
 * passwords: with 256 random bits there is nothing to brute-force, and a slow KDF would only add latency
 * to every API request (GitHub and Stripe tokens work the same way).
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { HeraldError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import {
  findAuthTokenByPrefix,
  insertAuthToken,
  touchAuthToken,
  type AuthTokenLookup,
  type AuthTokenRow,
  type TokenKind,
} from '../store/api-keys.js';
import type { Queryable } from '../store/pool.js';

/** What a credential may do: read, and create, update or delete separately (a key that can only publish, say). */
export type Permission = 'read' | 'create' | 'update' | 'delete';

/** Every permission, in display order. */
export const PERMISSIONS: readonly Permission[] = ['read', 'create', 'update', 'delete'];

/**
 * What an action needs: a permission, or `publish` (sending a message: create message, send-example),
 * which is `create` for API keys and the operator token, and for a portal token `create` plus the
 * grant asked for when it was minted (`allowPublish`): a customer may create endpoints without being
 * able to send correctly signed events as if the platform had sent them (issue 13).
 */
export type Need = Permission | 'publish';

/** Who is calling, once a token has been checked. */
export interface Credential {
  /** Where the token came from. */
  kind: 'admin' | 'api_key' | 'portal';
  /** Token id (`admin` for HERALD_ADMIN_TOKEN); idempotency keys are scoped to it. */
  id: string;
  /** What it may do. */
  permissions: ReadonlySet<Permission>;
  /** The one application it may touch, or null for all. */
  appId: string | null;
  /** Portal tokens: the session id given at issue. */
  sessionId: string | null;
  /** When the token expires (a portal token: or the key that minted it, if sooner), or null for never. */
  expiresAt: Date | null;
  /**
   * The credential whose authority this one carries, recorded on the portal tokens it mints: its own
   * id for an API key or generated operator token, `admin:<fingerprint>` for HERALD_ADMIN_TOKEN, and
   * for a portal token the credential that minted it.
   */
  root: string;
  /** Whether it may publish messages (see {@link Need}). */
  canPublish: boolean;
}

/** Whether a credential may do what `need` names. */
export function holds(credential: Pick<Credential, 'permissions' | 'canPublish'>, need: Need): boolean {
  return need === 'publish' ? credential.canPublish : credential.permissions.has(need);
}

const scryptAsync = promisify(scrypt) as (password: string, salt: string, keylen: number) => Promise<Buffer>;

/**
 * The root of HERALD_ADMIN_TOKEN, recorded on the portal tokens it mints so that changing the
 * variable ends them. A salted scrypt digest (Node's defaults: N=2^14, r=8, tens of milliseconds,
 * computed once per process), not a plain hash: an operator may pick a memorable token, and a database
 * dump must not make it cheap to guess.
 */
export async function adminTokenRoot(adminToken: string): Promise<string> {
  const digest = await scryptAsync(adminToken, 'herald:operator-token-root:v1', 32);
  return `admin:${digest.toString('base64url')}`;
}

const KIND_PREFIX: Record<TokenKind, string> = { api_key: 'hk', portal: 'hp', admin: 'ha' };
const PREFIX_KIND: Record<string, TokenKind> = { hk: 'api_key', hp: 'portal', ha: 'admin' };
const TOKEN_PATTERN = /^(hk|hp|ha)_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const LOOKUP_BYTES = 6;
const SECRET_BYTES = 32;

/** sha256 of a token's UTF-8 bytes: what is stored and compared. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** A new token of `kind` with its lookup prefix and hash. */
export function generateToken(kind: TokenKind, random: (n: number) => Uint8Array = randomBytes): { token: string; prefix: string; hash: Buffer } {
  const prefix = Buffer.from(random(LOOKUP_BYTES)).toString('hex');
  const token = `${KIND_PREFIX[kind]}_${prefix}_${Buffer.from(random(SECRET_BYTES)).toString('base64url')}`;
  return { token, prefix, hash: hashToken(token) };
}

/** The kind and lookup prefix of a well-formed token, or null. */
export function parseToken(token: string): { kind: TokenKind; prefix: string } | null {
  const m = TOKEN_PATTERN.exec(token);
  return m ? { kind: PREFIX_KIND[m[1]!]!, prefix: m[2]! } : null;
}

/** Options of {@link issueToken}. */
export interface IssueOptions {
  /** Kind of token. */
  kind: TokenKind;
  /** Label. */
  name: string;
  /** Permissions granted. */
  permissions: readonly Permission[];
  /** Scope (application id), or null. */
  appId: string | null;
  /** Portal session id. */
  sessionId?: string | null;
  /** Expiry, or null for never. */
  expiresAt: Date | null;
  /** Id of the issuing principal. */
  createdBy: string | null;
  /** Portal tokens: the issuing principal's root ({@link Credential.root}); the token ends with it. */
  mintedBy?: string | null;
  /** Portal tokens: may publish messages. */
  canPublish?: boolean;
  /** Issue time. */
  now: Date;
}

/**
 * Issues a token and stores its hash. Returns null only for an operator token when a live one
 * already exists. The full token is in the result and nowhere else: show it once.
 */
export async function issueToken(db: Queryable, opts: IssueOptions): Promise<{ row: AuthTokenRow; token: string } | null> {
  // 48-bit lookup prefixes collide with negligible probability; one retry covers it anyway.
  for (let attempt = 0; ; attempt++) {
    const { token, prefix, hash } = generateToken(opts.kind);
    try {
      const row = await insertAuthToken(db, {
        id: newId('key', opts.now.getTime()),
        kind: opts.kind,
        name: opts.name,
        prefix,
        tokenHash: hash,
        permissions: PERMISSIONS.filter((p) => opts.permissions.includes(p)),
        appId: opts.appId,
        sessionId: opts.sessionId ?? null,
        expiresAt: opts.expiresAt,
        createdBy: opts.createdBy,
        createdAt: opts.now,
        mintedBy: opts.mintedBy ?? null,
        canPublish: opts.canPublish ?? false,
      });
      return row ? { row, token } : null;
    } catch (e) {
      if ((e as { code?: string }).code !== '23505' || attempt > 0) throw e;
    }
  }
}

/** Settings of {@link authenticateToken}. */
export interface AuthenticateOptions {
  /** sha256 of HERALD_ADMIN_TOKEN, or null when unset (then a generated operator token is accepted). */
  adminTokenHash: Buffer | null;
  /** {@link adminTokenRoot} of HERALD_ADMIN_TOKEN, or null when unset. */
  adminRoot: string | null;
  /** Current time. */
  now: Date;
}

const unauthorized = (detail: string) => new HeraldError('unauthorized', detail);

/** Turns a presented token into a credential, or throws a 401 saying why (never echoing the token). */
export async function authenticateToken(db: Queryable, token: string, opts: AuthenticateOptions): Promise<Credential> {
  const hash = hashToken(token);
  if (opts.adminTokenHash !== null && timingSafeEqual(hash, opts.adminTokenHash)) {
    const root = opts.adminRoot ?? 'admin';
    return { kind: 'admin', id: 'admin', permissions: new Set(PERMISSIONS), appId: null, sessionId: null, expiresAt: null, root, canPublish: true };
  }
  const parsed = parseToken(token);
  if (parsed === null) throw unauthorized('the bearer token is not valid');
  const row = await findAuthTokenByPrefix(db, parsed.prefix);
  if (row === null || row.kind !== parsed.kind || !timingSafeEqual(row.tokenHash, hash)) {
    throw unauthorized('the bearer token is not valid');
  }
  if (row.kind === 'admin' && opts.adminTokenHash !== null) {
    throw unauthorized('this generated operator token was replaced by HERALD_ADMIN_TOKEN');
  }
  if (row.revokedAt !== null) throw unauthorized(`this token was revoked at ${row.revokedAt.toISOString()}`);
  if (row.expiresAt !== null && row.expiresAt <= opts.now) {
    throw unauthorized(`this token expired at ${row.expiresAt.toISOString()}; ask for a new one`);
  }
  if (row.kind === 'portal') {
    const dead = minterProblem(row, opts);
    if (dead) throw unauthorized(`${dead}; ask for a new portal link`);
  }
  if (row.lastUsedAt === null || opts.now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    await touchAuthToken(db, row.id, opts.now);
  }
  const permissions = new Set(row.permissions.filter((p): p is Permission => (PERMISSIONS as readonly string[]).includes(p)));
  const portal = row.kind === 'portal';
  return {
    kind: row.kind,
    id: row.id,
    permissions,
    appId: row.appId,
    sessionId: row.sessionId,
    // The credential cache keeps an entry no longer than this, so a minting key's expiry is exact too.
    expiresAt: portal ? earliest(row.expiresAt, row.minterExpiresAt) : row.expiresAt,
    root: portal ? row.mintedBy! : row.id,
    canPublish: permissions.has('create') && (!portal || row.canPublish),
  };
}

/**
 * Why the credential that minted a portal token no longer vouches for it, or null while it does: a
 * portal token is a delegation, and ends with what delegated it (issue 13).
 */
function minterProblem(row: AuthTokenLookup, opts: AuthenticateOptions): string | null {
  const minted = row.mintedBy ?? '';
  if (minted.startsWith('admin:')) {
    return minted === opts.adminRoot ? null : 'this portal token was issued with an operator token (HERALD_ADMIN_TOKEN) that has since been changed';
  }
  const what = row.minterKind === 'admin' ? 'the generated operator token' : 'the API key';
  if (row.minterKind === null) return 'the API key that issued this portal token no longer exists';
  if (row.minterKind === 'admin' && opts.adminTokenHash !== null) {
    return `${what} that issued this portal token was replaced by HERALD_ADMIN_TOKEN`;
  }
  if (row.minterRevokedAt !== null) return `${what} that issued this portal token was revoked at ${row.minterRevokedAt.toISOString()}`;
  if (row.minterExpiresAt !== null && row.minterExpiresAt <= opts.now) {
    return `${what} that issued this portal token expired at ${row.minterExpiresAt.toISOString()}`;
  }
  return null;
}

function earliest(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a <= b ? a : b;
}
