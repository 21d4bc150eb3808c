/**
 * Who am I (Herald's whoami shape), customer-portal access tokens (Svix app-portal-access, logout,
 * expire-all), and, in ./api-keys.ts, Herald's API keys.
 *
 * A portal token is the same credential model as an API key — permissions plus an application scope —
 * but short-lived (1 hour by default) and revocable per application or per session. A caller can only
 * hand out permissions it holds itself, and portal tokens cannot mint further portal tokens (a customer
 * could otherwise extend their own access forever). A portal token records the credential it was minted
 * with and dies with it (revoked, expired, or a changed HERALD_ADMIN_TOKEN), and publishes messages only
 * when minted with `allowPublish` (issue 13): otherwise a customer could send correctly signed events
 * as if the platform had sent them.
 */
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { HeraldError } from '../../core/errors.js';
import { isId } from '../../core/ids.js';
import { createApplication } from '../../engine/applications.js';
import { issueToken, PERMISSIONS } from '../../engine/auth-tokens.js';
import { reservePortalTokenSlot, tenantLimitsOf } from '../../engine/limits.js';
import { expirePortalTokens, revokeAuthToken } from '../../store/api-keys.js';
import { getApplication, type ApplicationRow } from '../../store/applications.js';
import { inTransaction } from '../../store/pool.js';
import { canReadSecrets, requireApp, requireGlobal, type Permission } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { AppParams, applicationInputOf } from '../schemas/applications.js';
import { policyBoundsOf } from '../schemas/policy.js';
import { AppPortalAccessIn, AppPortalAccessOut, ApplicationTokenExpireIn, PORTAL_EXPIRY, WhoamiOut } from '../schemas/auth.js';
import { errorResponses, iso, NoContent } from '../schemas/common.js';
import { fieldError } from '../errors.js';
import { publicBaseUrl } from '../../core/public-url.js';
import apiKeyRoutes from './api-keys.js';

const tags = ['Authentication'];

/** Svix portal capabilities as Herald permissions (reading a secret needs update in Herald). */
const CAPABILITY_PERMISSIONS: Record<string, Permission[]> = {
  ViewBase: ['read'],
  ViewEndpointSecret: ['read', 'update'],
  ManageEndpointSecret: ['read', 'update'],
  ManageEndpoint: ['read', 'create', 'update', 'delete'],
  CreateAttempts: ['read', 'create'],
  ManageTransformations: ['read'],
};

/** The permissions a portal token gets: asked for (readOnly, capabilities or permissions), never more than the caller's. */
function portalPermissions(req: FastifyRequest, body: z.output<typeof AppPortalAccessIn>): Permission[] {
  const held = req.principal.permissions;
  if (body.readOnly) return held.has('read') ? ['read'] : [];
  if (body.permissions) {
    const extra = body.permissions.filter((p) => !held.has(p));
    if (extra.length) throw new HeraldError('forbidden', `cannot grant permissions this token does not have: ${extra.join(', ')}`);
    return PERMISSIONS.filter((p) => body.permissions!.includes(p));
  }
  const wanted = body.capabilities ? new Set(body.capabilities.flatMap((c) => CAPABILITY_PERMISSIONS[c] ?? [])) : new Set(PERMISSIONS);
  return PERMISSIONS.filter((p) => wanted.has(p) && held.has(p));
}

/** The application of a portal request; with `application` in the body, creates it when missing (as Svix). */
async function portalApplication(req: FastifyRequest, deps: ApiDeps, appId: string, body: z.output<typeof AppPortalAccessIn>): Promise<ApplicationRow> {
  if (body.application && req.principal.appId === null && !(await getApplication(deps.herald.pool, appId))) {
    requireGlobal(req, 'create');
    const input = applicationInputOf(body.application);
    input.uid = input.uid ?? (isId('app', appId) ? null : appId);
    return createApplication(deps.herald.pool, input, deps.herald.clock.now(), policyBoundsOf(deps.herald.config));
  }
  return requireApp(req, deps, appId, 'create');
}

/** Base URL for portal links: the configured public URL, else an allowed Host (src/core/public-url.ts). */
function publicBase(req: FastifyRequest, deps: ApiDeps): string {
  const { config } = deps.herald;
  return publicBaseUrl({
    publicUrl: deps.options.publicUrl ?? config.HERALD_PUBLIC_URL,
    allowedHosts: config.HERALD_ALLOWED_HOSTS,
    protocol: req.protocol,
    host: req.headers.host,
  });
}

/** Whether the portal token may publish: only when asked, with create, and by a caller that may publish itself. */
function portalCanPublish(req: FastifyRequest, body: z.output<typeof AppPortalAccessIn>, permissions: Permission[]): boolean {
  if (!body.allowPublish) return false;
  if (!req.principal.canPublish) throw new HeraldError('forbidden', 'cannot grant publishing: this token may not publish messages itself');
  if (!permissions.includes('create')) throw fieldError('allowPublish', 'allowPublish needs the create permission, which these permissions or capabilities leave out');
  return true;
}

/** Whoami and portal access. */
function whoamiAndPortalRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;

  app.get('/auth/whoami', {
    config: { permission: 'any' },
    schema: { operationId: 'v1.authentication.whoami', tags, summary: 'Who the current token is', description: 'The dashboard uses it to hide what the token may not do.', response: { 200: WhoamiOut } },
  }, async (req) => {
    const p = req.principal;
    return {
      kind: p.kind,
      appId: p.appId,
      permissions: PERMISSIONS.filter((x) => p.permissions.has(x)),
      canReadSecrets: canReadSecrets(p, herald.config.HERALD_ALLOW_SECRET_READ),
      sessionId: p.sessionId ?? null,
      canPublish: p.canPublish,
    };
  });

  app.post('/auth/app-portal-access/:app_id', {
    // Minting a portal link needs create on the application, as it always has (it creates a credential).
    config: { idempotent: true, permission: 'create' },
    schema: {
      operationId: 'v1.authentication.app-portal-access',
      tags,
      summary: 'Get a customer-portal link for one application',
      description:
        'Returns a short-lived token scoped to the application and a link to the portal with the token in its URL fragment. ' +
        'The token ends when the credential that asked for it is revoked or expires. It may not publish messages unless `allowPublish` is true. ' +
        'Refused (422) when the application already has HERALD_MAX_PORTAL_TOKENS_PER_APP live portal tokens.',
      params: AppParams,
      body: AppPortalAccessIn,
      response: { 200: AppPortalAccessOut, ...errorResponses(404, 421, 422) },
    },
  }, async (req) => {
    if (req.principal.kind === 'portal') throw new HeraldError('forbidden', 'a portal token cannot create portal tokens');
    const base = publicBase(req, deps); // first: nothing is created or stored for a link that cannot be built
    const application = await portalApplication(req, deps, req.params.app_id, req.body);
    const permissions = portalPermissions(req, req.body);
    if (!permissions.includes('read')) throw new HeraldError('forbidden', 'a portal token needs at least the read permission, which this token lacks');
    const canPublish = portalCanPublish(req, req.body, permissions);
    const now = herald.clock.now();
    const expiresAt = new Date(now.getTime() + (req.body.expiry ?? PORTAL_EXPIRY.default) * 1000);
    // One transaction: the portal token slot is held (locked) until the insert commits (engine/limits.ts).
    const issued = await inTransaction(herald.pool, async (tx) => {
      await reservePortalTokenSlot(tx, application.id, tenantLimitsOf(herald.config), now);
      return issueToken(tx, {
        kind: 'portal',
        name: `portal ${application.uid ?? application.id}`,
        permissions,
        appId: application.id,
        sessionId: req.body.sessionId ?? null,
        expiresAt,
        createdBy: req.principal.id,
        mintedBy: req.principal.root,
        canPublish,
        now,
      });
    });
    if (!issued) throw new HeraldError('internal', 'portal token was not stored');
    return { url: `${base}/portal#token=${issued.token}`, token: issued.token, expiresAt: iso(expiresAt) };
  });
}

/** Logout and expire-all. */
function portalRevocationRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;

  app.post('/auth/logout', {
    config: { permission: 'any' },
    schema: { operationId: 'v1.authentication.logout', tags, summary: 'Revoke the portal token used for this request', response: { 204: NoContent } },
  }, async (req, reply) => {
    if (req.principal.kind !== 'portal') {
      throw new HeraldError('forbidden', 'only portal tokens log out; revoke an API key with DELETE /api/v1/api-key/{key_id}');
    }
    await revokeAuthToken(herald.pool, 'portal', req.principal.id, herald.clock.now());
    req.server.credentialCache.clear();
    return reply.code(204).send();
  });

  app.post('/auth/app/:app_id/expire-all', {
    config: { permission: 'update' },
    schema: {
      operationId: 'v1.authentication.expire-all',
      tags,
      summary: "Expire an application's portal tokens",
      description: 'All of them, or those of the given sessions; after `expiry` seconds (default 0: at once).',
      params: AppParams,
      body: ApplicationTokenExpireIn.optional(),
      response: { 204: NoContent, ...errorResponses(404, 422) },
    },
  }, async (req, reply) => {
    if (req.principal.kind === 'portal') throw new HeraldError('forbidden', 'a portal token cannot expire portal tokens; use logout');
    const application = await requireApp(req, deps, req.params.app_id, 'update');
    const body = req.body ?? {};
    await expirePortalTokens(herald.pool, application.id, {
      afterMs: (body.expiry ?? 0) * 1000,
      sessionIds: body.sessionIds ?? null,
      now: herald.clock.now(),
    });
    req.server.credentialCache.clear();
    return reply.code(204).send();
  });
}

/** Registers the authentication routes, then the API key ones. */
export default async function authRoutes(app: Api, deps: ApiDeps): Promise<void> {
  whoamiAndPortalRoutes(app, deps);
  portalRevocationRoutes(app, deps);
  await apiKeyRoutes(app, deps);
}
