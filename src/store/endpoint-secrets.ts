/** Endpoint signing secrets (sealed), their rotation, and Ed25519 public keys. */
import type { DeliveryHeaders } from '../core/delivery-headers.js';
import type { SignatureProfile } from '../core/signature-profile.js';
import type { SecretToStore } from './endpoints.js';
import type { Queryable } from './pool.js';
/** A sealed secret with its validity. */
export interface SecretRow {
  /** Encrypted secret. */
  sealed: string;
  /** Last four characters. */
  hint: string;
  /** Ed25519 public key (`whpk_…`), or null for HMAC secrets. */
  publicKey: string | null;
  /** null = current. */
  expiresAt: Date | null;
}

/** Secrets that still sign at `now`, current first. */
export async function listValidSecrets(db: Queryable, appId: string, endpointId: string, now: Date): Promise<SecretRow[]> {
  const { rows } = await db.query<SecretRow>(
    `select s.sealed, s.hint, s.public_key as "publicKey", s.expires_at as "expiresAt" from endpoint_secret s join endpoint e on e.id = s.endpoint_id
     where e.app_id = $1 and s.endpoint_id = $2 and (s.expires_at is null or s.expires_at > $3)
     order by s.expires_at is null desc, s.id desc`,
    [appId, endpointId, now],
  );
  return rows;
}

/**
 * Rotates: every secret still valid expires after `graceMs` at the latest (0 = at once, e.g. after a
 * leak) and the new one becomes current.
 * Secrets that already expired are deleted so the table does not grow with every rotation.
 */
export async function rotateSecret(
  db: Queryable,
  appId: string,
  endpointId: string,
  secret: SecretToStore,
  graceMs: number,
  now: Date,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `with ep as (select id from endpoint where app_id = $1 and id = $2),
     expire as (
       update endpoint_secret
       set expires_at = least(coalesce(expires_at, 'infinity'), $5::timestamptz + make_interval(secs => $6::double precision / 1000))
       where endpoint_id in (select id from ep) and (expires_at is null or expires_at > $5)
     ), purge as (
       delete from endpoint_secret where endpoint_id in (select id from ep) and expires_at <= $5
     )
     insert into endpoint_secret (endpoint_id, sealed, hint, public_key, created_at) select id, $3, $4, $7, $5 from ep`,
    [appId, endpointId, secret.sealed, secret.hint, now, graceMs, secret.publicKey ?? null],
  );
  return rowCount === 1;
}

/** One Ed25519 public key of an endpoint, with when it stops verifying (null = current). */
export interface PublicKeyRow {
  /** `whpk_…` */
  key: string;
  /** null = current; otherwise valid until then (a rotation's grace period). */
  expiresAt: Date | null;
}

/**
 * The valid public keys of an endpoint whose effective profile (its own, else its application's) is
 * ed25519, current first; none for any other endpoint. Shared by the two lookups below.
 */
const PUBLIC_KEYS = `select s.public_key as key, s.expires_at as "expiresAt"
  from endpoint e join application a on a.id = e.app_id join endpoint_secret s on s.endpoint_id = e.id
  where coalesce(e.signature, a.signature)->>'scheme' = 'ed25519' and s.public_key is not null
    and (s.expires_at is null or s.expires_at > $2)`;
const PUBLIC_KEYS_ORDER = 'order by s.expires_at is null desc, s.id desc';

/** An application's endpoint's Ed25519 public keys (see PUBLIC_KEYS); empty when it does not use ed25519. */
export async function listPublicKeys(db: Queryable, appId: string, endpointId: string, now: Date): Promise<PublicKeyRow[]> {
  const { rows } = await db.query<PublicKeyRow>(`${PUBLIC_KEYS} and e.app_id = $1 and e.id = $3 ${PUBLIC_KEYS_ORDER}`, [appId, now, endpointId]);
  return rows;
}

/**
 * The same, by endpoint id alone, for receivers fetching the keys without a token. The one query on
 * tenant data without the tenant's id: the caller has only the endpoint id, and public keys are not
 * secrets (any other endpoint gives the same empty answer, so nothing else is revealed).
 */
export async function listPublicKeysForReceivers(db: Queryable, endpointId: string, now: Date): Promise<PublicKeyRow[]> {
  const { rows } = await db.query<PublicKeyRow>(`${PUBLIC_KEYS} and e.id = $1 ${PUBLIC_KEYS_ORDER}`, [endpointId, now]);
  return rows;
}

/** What an endpoint sets of its signing contract, for checks when its application's defaults change. */
export interface EndpointContractRow {
  /** ep_… */
  id: string;
  /** Own profile, or null (inherits). */
  signature: SignatureProfile | null;
  /** Own delivery headers, or null (inherits). */
  deliveryHeaders: DeliveryHeaders | null;
  /** Custom headers (lower-case names). */
  headers: Record<string, string>;
}

/** Every endpoint of an application with its own contract settings, by id. */
export async function listEndpointContracts(db: Queryable, appId: string): Promise<EndpointContractRow[]> {
  const { rows } = await db.query<EndpointContractRow>(
    `select id, signature, delivery_headers as "deliveryHeaders", headers from endpoint where app_id = $1 order by id`,
    [appId],
  );
  return rows;
}

/** The valid secrets of an application's endpoints that inherit its profile (own signature null). */
export async function listInheritingSecrets(db: Queryable, appId: string, now: Date): Promise<{ endpointId: string; sealed: string }[]> {
  const { rows } = await db.query<{ endpointId: string; sealed: string }>(
    `select s.endpoint_id as "endpointId", s.sealed from endpoint e join endpoint_secret s on s.endpoint_id = e.id
     where e.app_id = $1 and e.signature is null and (s.expires_at is null or s.expires_at > $2) order by e.id, s.id`,
    [appId, now],
  );
  return rows;
}
