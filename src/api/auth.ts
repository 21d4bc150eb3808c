/**
 * Authentication and authorisation of the management API.
 *
 * Every request under /api/v1 (except routes marked `config: { public: true }`, i.e. health) must carry
 * `Authorization: Bearer <token>`. Credentials are read from that header only — never from a cookie or
 * the query string — so a browser cannot be tricked into sending them cross-site (CSRF), and tokens do not
 * end up in access logs or Referer headers. Token kinds and storage: src/engine/auth-tokens.ts.
 *
 * Authorisation is two checks: scope (a token scoped to one application sees nothing else, and gets 404
 * for other applications' resources, so their existence is not revealed) and permission (read, create,
 * update, delete; a missing one is 403). Operator actions (the event type catalogue's writes, API keys,
 * creating, listing, changing and deleting applications) need a global token: a scoped one gets 403 —
 * these are collection-level actions, so a 403 reveals nothing a 404 would hide.
 *
 * Every authenticated route declares what its action needs in its config, `config: { permission:
 * 'create' }` (or several, or `'any'` for whoami and logout), and the request hook refuses a token that
 * lacks it with 403 before anything else runs — before the body is validated and before any lookup, so
 * the answer reveals nothing. A route that declares nothing is refused with a 500 naming the route, and
 * test/api/permissions.test.ts fails for it: a new route cannot forget its check. Handlers still check
 * scope (and permissions that depend on the case, such as `create` when a PUT creates).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError } from '../core/errors.js';
import { OPERATIONAL_APP_ID } from '../core/operational.js';
import {
  adminTokenRoot,
  authenticateToken,
  hashToken,
  holds,
  issueToken,
  PERMISSIONS,
  type Need,
  type Permission as EnginePermission,
} from '../engine/auth-tokens.js';
import type { Herald } from '../engine/herald.js';
import { findLiveAdminToken, revokeAdminTokens } from '../store/api-keys.js';
import { getApplication, type ApplicationRow } from '../store/applications.js';
import type { Api, ApiDeps } from './context.js';
import { registerIdempotency } from './idempotency.js';
import { registerJsonBody } from './json-body.js';
import { CredentialCache } from './credential-cache.js';

/** What a credential may do. */
export type Permission = EnginePermission;

/** The authenticated caller of a request. */
export interface Principal {
  /** Operator token, API key, or customer-portal token. */
  kind: 'admin' | 'api_key' | 'portal';
  /** Token id (`admin` for HERALD_ADMIN_TOKEN); Idempotency-Keys are scoped to it. */
  id: string;
  /** Granted permissions. */
  permissions: ReadonlySet<Permission>;
  /** The one application this token may touch; null = global. */
  appId: string | null;
  /** Portal tokens: the session id given when it was issued. */
  sessionId?: string | null;
  /** The credential whose authority this one carries; portal tokens minted by this caller record it. */
  root: string;
  /** Whether it may publish messages (create message, send-example). */
  canPublish: boolean;
}

/** What a route declares its action needs: one need, all of several, or `'any'` (any valid token). */
export type RouteNeed = Need | readonly Need[] | 'any';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller (set for every /api/v1 route except public ones). */
    principal: Principal;
  }
  interface FastifyInstance {
    /** Credentials checked in the last second; cleared when a token is revoked through this node. */
    credentialCache: CredentialCache;
    /** What each route declares it needs, by operationId (undefined: nothing declared), for tests and docs. */
    routeNeeds: Map<string, RouteNeed | undefined>;
  }
  interface FastifyContextConfig {
    /** Serve this /api/v1 route without a token (health checks). */
    public?: boolean;
    /** What the route's action needs; every authenticated /api/v1 route must declare it. */
    permission?: RouteNeed;
  }
}

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;
const API_PREFIX = '/api/v1';

/**
 * Whether a request needs a token: anything under /api/v1 except public routes. Both the matched
 * route and the raw path are checked, so neither an unmatched path (404s reveal nothing without a
 * token) nor an odd spelling of a matched one can slip through.
 */
function needsAuth(req: FastifyRequest): boolean {
  if (req.routeOptions.config?.public) return false;
  const under = (path: string | undefined) => path !== undefined && (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`));
  return under(req.routeOptions.url) || under(req.url.split('?')[0]);
}

/** Sets `req.principal` from the bearer token, or throws 401 (with WWW-Authenticate: Bearer). */
async function authenticate(req: FastifyRequest, reply: FastifyReply, deps: ApiDeps, admin: AdminToken, cache: CredentialCache): Promise<void> {
  reply.header('www-authenticate', 'Bearer');
  const header = req.headers.authorization;
  if (header === undefined) {
    throw new HeraldError(
      'unauthorized',
      'missing credentials: send Authorization: Bearer <token> (this API never reads credentials from cookies or the query string)',
    );
  }
  const m = BEARER.exec(header);
  if (!m) throw new HeraldError('unauthorized', 'the Authorization header must be "Bearer <token>"');
  const { herald } = deps;
  const now = herald.clock.now();
  const hash = hashToken(m[1]!);
  let credential = cache.get(hash, now);
  if (!credential) {
    credential = await authenticateToken(herald.pool, m[1]!, { adminTokenHash: admin.hash, adminRoot: admin.root, now });
    cache.set(hash, credential);
  }
  req.principal = credential;
  reply.removeHeader('www-authenticate');
}

/** HERALD_ADMIN_TOKEN as the checks need it: its sha256, and its root for the portal tokens it mints. */
interface AdminToken {
  /** sha256, or null when unset. */
  hash: Buffer | null;
  /** {@link adminTokenRoot}, or null when unset. */
  root: string | null;
}

/** Refuses (403) a caller without what the matched route declares; 500 for a route that declares nothing. */
function checkDeclaredNeed(req: FastifyRequest): void {
  // An unmatched path (the 404 handler, the web app's fallback) has no API action to protect.
  const url = req.routeOptions.url;
  if (req.is404 || url === undefined || !url.startsWith(`${API_PREFIX}/`)) return;
  const declared = req.routeOptions.config?.permission;
  if (declared === undefined) {
    throw new HeraldError('internal', `route ${req.method} ${url} declares no permission (config.permission); it is refused until it does`);
  }
  if (declared === 'any') return;
  for (const need of typeof declared === 'string' ? [declared as Need] : declared) requirePermission(req, need);
}

/**
 * Installs, on the whole app: the hardened JSON body parser, the bearer-token check on /api/v1, and
 * the Idempotency-Key hooks (they need the principal, so they live with auth).
 */
export async function registerAuth(app: Api, deps: ApiDeps): Promise<void> {
  registerJsonBody(app);
  const configured = deps.herald.config.HERALD_ADMIN_TOKEN;
  const admin: AdminToken = { hash: configured ? hashToken(configured) : null, root: configured ? await adminTokenRoot(configured) : null };
  app.decorateRequest('principal', null as unknown as Principal);
  const cache = new CredentialCache();
  app.decorate('credentialCache', cache);
  const routeNeeds = new Map<string, RouteNeed | undefined>();
  app.decorate('routeNeeds', routeNeeds);
  app.addHook('onRoute', (route) => {
    const operationId = (route.schema as { operationId?: string } | undefined)?.operationId;
    if (operationId) routeNeeds.set(operationId, route.config?.public ? 'any' : route.config?.permission);
  });
  app.addHook('onRequest', async (req, reply) => {
    if (!needsAuth(req)) return;
    await authenticate(req, reply, deps, admin, cache);
    checkDeclaredNeed(req);
  });
  registerIdempotency(app, deps);
}

/** The 403 of a caller without `need`, saying what would grant it. */
function lacking(principal: Principal, need: Need): HeraldError {
  if (need === 'publish' && principal.permissions.has('create')) {
    return new HeraldError(
      'forbidden',
      'this portal token may not publish messages; the platform can grant it with "allowPublish": true on POST /api/v1/auth/app-portal-access/{app_id}',
    );
  }
  return new HeraldError('forbidden', `this token lacks the "${need === 'publish' ? 'create' : need}" permission`);
}

/** Throws 403 unless the caller holds `perm`. */
export function requirePermission(req: FastifyRequest, perm: Need): void {
  if (!holds(req.principal, perm)) throw lacking(req.principal, perm);
}

/** Throws 403 unless the caller is global (not scoped to one application) and holds `perm`. */
export function requireGlobal(req: FastifyRequest, perm: Need): void {
  if (req.principal.appId !== null) {
    throw new HeraldError('forbidden', 'this token is scoped to one application; this action needs a global API key or the operator token');
  }
  requirePermission(req, perm);
}

/**
 * Resolves an application by id or uid that the caller may act on with `perm`. 404 when it does not
 * exist or is outside the caller's scope (the same answer, so scoped tokens learn nothing); 403 when the
 * permission is missing. A global caller's permission is checked first, so it is not told either whether
 * an application it may not touch exists.
 */
export async function requireApp(req: FastifyRequest, deps: ApiDeps, appIdOrUid: string, perm: Need): Promise<ApplicationRow> {
  if (req.principal.appId === null) requirePermission(req, perm);
  const app = await getApplication(deps.herald.pool, appIdOrUid);
  const refused = app === null ? notFound(appIdOrUid) : authorizeApp(req, app.id, appIdOrUid, perm);
  if (refused) throw refused;
  return app!;
}

const notFound = (appIdOrUid: string) => new HeraldError('not_found', `application ${appIdOrUid} not found`);

/**
 * The second half of {@link requireApp}, for a caller that found the application itself (the publish
 * group commit): the error to answer when this caller may not act on application `appId` with `perm`,
 * else null. A global caller's permission must already have been checked.
 */
export function authorizeApp(req: FastifyRequest, appId: string, appIdOrUid: string, perm: Need): HeraldError | null {
  // Herald's own application is reached through the operational webhook routes only.
  if (appId === OPERATIONAL_APP_ID) return notFound(appIdOrUid);
  const scope = req.principal.appId;
  if (scope === null) return null;
  if (appId !== scope) return notFound(appIdOrUid);
  return holds(req.principal, perm) ? null : lacking(req.principal, perm);
}

/** Whether this caller may read endpoint secrets: `update` permission, and the operator allows it at all. */
export function canReadSecrets(principal: Principal, allowSecretRead: boolean): boolean {
  return allowSecretRead && principal.permissions.has('update');
}

/**
 * Makes sure an operator token exists. With HERALD_ADMIN_TOKEN set, that is the operator token and any
 * generated one is revoked (setting the variable is how a lost or leaked generated token is replaced).
 * Otherwise the first start generates one, prints it once to `out` (stdout, not the log: log lines are
 * shipped and kept) and stores only its hash; later starts only say that it exists.
 */
export async function ensureAdminToken(herald: Herald, out: { write(s: string): unknown } = process.stdout): Promise<void> {
  const now = herald.clock.now();
  if (herald.config.HERALD_ADMIN_TOKEN) {
    const revoked = await revokeAdminTokens(herald.pool, now);
    if (revoked > 0) herald.log.info({}, 'HERALD_ADMIN_TOKEN is set: the admin token generated at first start was revoked');
    return;
  }
  const laterStart = () =>
    herald.log.info(
      {},
      'admin token was generated at first start and is not shown again; set HERALD_ADMIN_TOKEN to replace it if it was lost (that revokes it), or create an API key with it for each program',
    );
  if (await findLiveAdminToken(herald.pool)) return laterStart();
  const issued = await issueToken(herald.pool, {
    kind: 'admin',
    name: 'generated operator token',
    permissions: PERMISSIONS,
    appId: null,
    expiresAt: null,
    createdBy: null,
    now,
  });
  if (issued === null) return laterStart(); // another node generated it at the same moment
  out.write(
    [
      '',
      '================================================================================',
      ' Herald generated an operator (admin) token. It is shown ONCE; only its hash is',
      ' stored. Keep it somewhere safe:',
      '',
      `   ${issued.token}`,
      '',
      ' Send it as "Authorization: Bearer <token>". To choose your own instead, set',
      ' HERALD_ADMIN_TOKEN (this one is then revoked). Give programs their own API keys.',
      '================================================================================',
      '',
    ].join('\n'),
  );
}
