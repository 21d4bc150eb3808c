/**
 * Who am I (Herald's whoami shape), customer-portal access tokens (Svix app-portal-access, logout,
 * expire-all), and, in ./api-keys.ts, Herald's API keys.
 *
 * A portal token is the same credential model as an API key — permissions plus an application scope —
 * but short-lived (1 hour by default) and revocable per application or per session. A caller can only
 * hand out permissions it holds itself, and portal tokens cannot mint further portal tokens (a customer
 * could otherwise extend their own access forever).
 */
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { HeraldError } from '../../core/errors.js';
import { isId } from '../../core/ids.js';
import { createApplication } from '../../engine/applications.js';
import { issueToken, PERMISSIONS } from '../../engine/auth-tokens.js';
import { expirePortalTokens, revokeAuthToken } from '../../store/api-keys.js';
import { getApplication, type ApplicationRow } from '../../store/applications.js';
import { canReadSecrets, requireApp, requireGlobal, type Permission } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { AppParams, applicationInputOf } from '../schemas/applications.js';
import { policyBoundsOf } from '../schemas/policy.js';
import { AppPortalAccessIn, AppPortalAccessOut, ApplicationTokenExpireIn, PORTAL_EXPIRY, WhoamiOut } from '../schemas/auth.js';
import { errorResponses, iso, NoContent } from '../schemas/common.js';
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

/** Base URL for portal links: configured public URL, else the origin the request came to. */
function publicBase(req: FastifyRequest, deps: ApiDeps): string {
  const base = deps.options.publicUrl ?? deps.herald.config.HERALD_PUBLIC_URL ?? `${req.protocol}://${req.host}`;
  return base.replace(/\/+$/, '');
}

/** Whoami and portal access. */
function whoamiAndPortalRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;

  app.get('/auth/whoami', {
    schema: { operationId: 'v1.authentication.whoami', tags, summary: 'Who the current token is', description: 'The dashboard uses it to hide what the token may not do.', response: { 200: WhoamiOut } },
  }, async (req) => {
    const p = req.principal;
    return {
      kind: p.kind,
      appId: p.appId,
      permissions: PERMISSIONS.filter((x) => p.permissions.has(x)),
      canReadSecrets: canReadSecrets(p, herald.config.HERALD_ALLOW_SECRET_READ),
      sessionId: p.sessionId ?? null,
    };
  });

  app.post('/auth/app-portal-access/:app_id', {
    config: { idempotent: true },
    schema: {
      operationId: 'v1.authentication.app-portal-access',
      tags,
      summary: 'Get a customer-portal link for one application',
      description: 'Returns a short-lived token scoped to the application and a link to the portal with the token in its URL fragment.',
      params: AppParams,
      body: AppPortalAccessIn,
      response: { 200: AppPortalAccessOut, ...errorResponses(404, 422) },
    },
  }, async (req) => {
    if (req.principal.kind === 'portal') throw new HeraldError('forbidden', 'a portal token cannot create portal tokens');
    const application = await portalApplication(req, deps, req.params.app_id, req.body);
    const permissions = portalPermissions(req, req.body);
    if (!permissions.includes('read')) throw new HeraldError('forbidden', 'a portal token needs at least the read permission, which this token lacks');
    const now = herald.clock.now();
    const expiresAt = new Date(now.getTime() + (req.body.expiry ?? PORTAL_EXPIRY.default) * 1000);
    const issued = await issueToken(herald.pool, {
      kind: 'portal',
      name: `portal ${application.uid ?? application.id}`,
      permissions,
      appId: application.id,
      sessionId: req.body.sessionId ?? null,
      expiresAt,
      createdBy: req.principal.id,
      now,
    });
    if (!issued) throw new HeraldError('internal', 'portal token was not stored');
    return { url: `${publicBase(req, deps)}/portal#token=${issued.token}`, token: issued.token, expiresAt: iso(expiresAt) };
  });
}

/** Logout and expire-all. */
function portalRevocationRoutes(app: Api, deps: ApiDeps): void {
  const { herald } = deps;

  app.post('/auth/logout', {
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
