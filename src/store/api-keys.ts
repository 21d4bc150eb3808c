/**
 * Bearer credentials: API keys, customer-portal tokens and the generated operator token, all in
 * `auth_token`. Only a sha256 of each token is stored; a token is found by its public lookup prefix
 * and then compared by hash (src/engine/auth-tokens.ts explains the format).
 */
import type { Queryable } from './pool.js';
import { keyset, type Keyset, type PageRequest } from './paging.js';

/** What issued a token. */
export type TokenKind = 'admin' | 'api_key' | 'portal';

/** A stored credential (never the token itself). */
export interface AuthTokenRow {
  /** key_… */
  id: string;
  /** admin, api_key or portal. */
  kind: TokenKind;
  /** Label chosen at creation. */
  name: string;
  /** Public lookup part of the token. */
  prefix: string;
  /** sha256 of the whole token. */
  tokenHash: Buffer;
  /** Granted permissions. */
  permissions: string[];
  /** Scope: one application, or null for all. */
  appId: string | null;
  /** Portal tokens: the caller's session id. */
  sessionId: string | null;
  /** When it stops working, or null. */
  expiresAt: Date | null;
  /** When it was revoked, or null. */
  revokedAt: Date | null;
  /** Last authenticated use (minute precision). */
  lastUsedAt: Date | null;
  /** Id of the principal that issued it. */
  createdBy: string | null;
  /** When issued. */
  createdAt: Date;
  /**
   * Portal tokens: the credential whose authority this one carries (an auth_token id, or
   * `admin:<fingerprint>` of HERALD_ADMIN_TOKEN); it ends with it. Null for other kinds.
   */
  mintedBy: string | null;
  /** Portal tokens: whether it may publish messages (create message, send-example). */
  canPublish: boolean;
}

/** A token as found to authenticate a request: the row and, for a portal token, the state of the key that minted it. */
export interface AuthTokenLookup extends AuthTokenRow {
  /** The minting auth_token row's kind, or null when it is not a row (HERALD_ADMIN_TOKEN) or no longer exists. */
  minterKind: TokenKind | null;
  /** When the minting row was revoked, or null. */
  minterRevokedAt: Date | null;
  /** When the minting row expires, or null. */
  minterExpiresAt: Date | null;
}

const COLUMNS = `id, kind, name, prefix, token_hash as "tokenHash", permissions, app_id as "appId",
  session_id as "sessionId", expires_at as "expiresAt", revoked_at as "revokedAt", last_used_at as "lastUsedAt",
  created_by as "createdBy", created_at as "createdAt", minted_by as "mintedBy", can_publish as "canPublish"`;

/** A credential to store: a row without what only use and revocation set. */
export type NewAuthToken = Omit<AuthTokenRow, 'revokedAt' | 'lastUsedAt' | 'sessionId' | 'mintedBy' | 'canPublish'> & {
  /** Portal session id. */
  sessionId?: string | null;
  /** Portal tokens: the minting credential (required for them by a check constraint). */
  mintedBy?: string | null;
  /** Portal tokens: may publish. */
  canPublish?: boolean;
};

/**
 * Stores a credential. Returns null when it is an operator token and a live one already exists (the
 * unique index decides, so two nodes starting at once cannot both create one).
 */
export async function insertAuthToken(db: Queryable, t: NewAuthToken): Promise<AuthTokenRow | null> {
  const { rows } = await db.query<AuthTokenRow>(
    `insert into auth_token (id, kind, name, prefix, token_hash, permissions, app_id, session_id, expires_at, created_by, created_at, minted_by, can_publish)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     on conflict (kind) where kind = 'admin' and revoked_at is null do nothing
     returning ${COLUMNS}`,
    [t.id, t.kind, t.name, t.prefix, t.tokenHash, t.permissions, t.appId, t.sessionId ?? null, t.expiresAt, t.createdBy, t.createdAt, t.mintedBy ?? null, t.canPublish ?? false],
  );
  return rows[0] ?? null;
}

/**
 * Finds a credential by its lookup prefix (revoked and expired ones too: the caller says why it
 * fails), with the state of the row that minted it in the same statement, so checking that a portal
 * token's key is still live costs no extra round trip.
 */
export async function findAuthTokenByPrefix(db: Queryable, prefix: string): Promise<AuthTokenLookup | null> {
  const { rows } = await db.query<AuthTokenLookup>(
    `select t.*, m.kind as "minterKind", m.revoked_at as "minterRevokedAt", m.expires_at as "minterExpiresAt"
     from (select ${COLUMNS} from auth_token where prefix = $1) t
     left join auth_token m on m.id = t."mintedBy"`,
    [prefix],
  );
  return rows[0] ?? null;
}

/** The live generated operator token, if any. */
export async function findLiveAdminToken(db: Queryable): Promise<AuthTokenRow | null> {
  const { rows } = await db.query<AuthTokenRow>(`select ${COLUMNS} from auth_token where kind = 'admin' and revoked_at is null`);
  return rows[0] ?? null;
}

/**
 * Records a use, at most once a minute per token: a write on every request would turn each API call
 * into a row update.
 */
export async function touchAuthToken(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query(
    `update auth_token set last_used_at = $2 where id = $1 and (last_used_at is null or last_used_at < $2::timestamptz - interval '1 minute')`,
    [id, now],
  );
}

/** Lists live API keys (never portal or operator tokens, nor revoked keys), oldest first by default. */
export async function listApiKeys(db: Queryable, page: PageRequest): Promise<{ rows: AuthTokenRow[]; ks: Keyset }> {
  const ks = keyset('id', page, 2);
  const { rows } = await db.query<AuthTokenRow>(
    `select ${COLUMNS} from auth_token where kind = 'api_key' and revoked_at is null and ${ks.where} order by ${ks.orderBy} limit $1`,
    ks.cursor === null ? [page.limit + 1] : [page.limit + 1, ks.cursor],
  );
  return { rows, ks };
}

/** Revokes one token of a kind; false when there is no such live token. */
export async function revokeAuthToken(db: Queryable, kind: TokenKind, id: string, now: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    `update auth_token set revoked_at = $3 where id = $1 and kind = $2 and revoked_at is null`,
    [id, kind, now],
  );
  return rowCount === 1;
}

/** Revokes every live generated operator token (HERALD_ADMIN_TOKEN replaces them). Returns how many. */
export async function revokeAdminTokens(db: Queryable, now: Date): Promise<number> {
  const { rowCount } = await db.query(`update auth_token set revoked_at = $1 where kind = 'admin' and revoked_at is null`, [now]);
  return rowCount ?? 0;
}

/**
 * Makes an application's portal tokens expire `afterMs` from now at the latest (0 = at once),
 * optionally only those of some sessions (Svix expire-all). Returns how many were shortened.
 */
export async function expirePortalTokens(
  db: Queryable,
  appId: string,
  opts: { afterMs: number; sessionIds?: string[] | null; now: Date },
): Promise<number> {
  const { rowCount } = await db.query(
    `update auth_token
     set expires_at = least(expires_at, $2::timestamptz + make_interval(secs => $3::double precision / 1000))
     where app_id = $1 and kind = 'portal' and revoked_at is null and expires_at > $2
       and ($4::text[] is null or session_id = any($4))`,
    [appId, opts.now, opts.afterMs, opts.sessionIds?.length ? opts.sessionIds : null],
  );
  return rowCount ?? 0;
}
