/**
 * Herald API keys (no Svix equivalent): create, list, revoke. Operator actions: global tokens only.
 * The full key is in the create response and nowhere else — lists show its public prefix — and a key
 * can be given at most the permissions of the token creating it, so keys cannot escalate.
 */
import { HeraldError } from '../../core/errors.js';
import { issueToken, PERMISSIONS } from '../../engine/auth-tokens.js';
import { reserveApiKeySlot, tenantLimitsOf } from '../../engine/limits.js';
import { listApiKeys, revokeAuthToken } from '../../store/api-keys.js';
import { toPage } from '../../store/paging.js';
import { inTransaction } from '../../store/pool.js';
import { requireApp, requireGlobal } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { listQuery, listResponse } from '../pagination.js';
import { ApiKeyCreatedOut, ApiKeyIn, ApiKeyOut, ApiKeyParams, toApiKeyOut } from '../schemas/auth.js';
import { errorResponses, NoContent } from '../schemas/common.js';

const tags = ['Authentication'];

export default async function apiKeyRoutes(app: Api, deps: ApiDeps): Promise<void> {
  const { herald } = deps;

  app.post('/api-key', {
    config: { idempotent: true, permission: 'create' },
    schema: {
      operationId: 'v1.api-key.create',
      tags,
      summary: 'Create an API key',
      description: 'The response holds the full key; it is never shown again. Scope it to one application with appId. Refused (422) when the application already has HERALD_MAX_API_KEYS_PER_APP live keys, or a global key when there are HERALD_MAX_GLOBAL_API_KEYS.',
      body: ApiKeyIn,
      response: { 201: ApiKeyCreatedOut, ...errorResponses(404, 422) },
    },
  }, async (req, reply) => {
    requireGlobal(req, 'create');
    const extra = req.body.permissions.filter((p) => !req.principal.permissions.has(p));
    if (extra.length) throw new HeraldError('forbidden', `cannot grant permissions this token does not have: ${extra.join(', ')}`);
    // Resolving through requireApp gives the same 404 as any other reference to a missing application.
    const appId = req.body.appId ? (await requireApp(req, deps, req.body.appId, 'create')).id : null;
    const now = herald.clock.now();
    // One transaction: the key slot is held (locked) until the insert commits (engine/limits.ts).
    const issued = await inTransaction(herald.pool, async (tx) => {
      await reserveApiKeySlot(tx, appId, tenantLimitsOf(herald.config), now);
      return issueToken(tx, {
        kind: 'api_key',
        name: req.body.name,
        permissions: PERMISSIONS.filter((p) => req.body.permissions.includes(p)),
        appId,
        expiresAt: null,
        createdBy: req.principal.id,
        now,
      });
    });
    if (!issued) throw new HeraldError('internal', 'API key was not stored');
    return reply.code(201).send({ ...toApiKeyOut(issued.row), key: issued.token });
  });

  app.get('/api-key', {
    config: { permission: 'read' },
    schema: { operationId: 'v1.api-key.list', tags, summary: 'List API keys', description: 'Live keys only, never the keys themselves.', querystring: listQuery('key'), response: { 200: listResponse(ApiKeyOut), ...errorResponses(422) } },
  }, async (req) => {
    requireGlobal(req, 'read');
    const { rows, ks } = await listApiKeys(herald.pool, req.query);
    return toPage(rows, ks, req.query.limit, (r) => r.id, toApiKeyOut);
  });

  app.delete('/api-key/:key_id', {
    config: { permission: 'delete' },
    schema: { operationId: 'v1.api-key.delete', tags, summary: 'Revoke an API key', description: 'It stops working at once.', params: ApiKeyParams, response: { 204: NoContent, ...errorResponses(404) } },
  }, async (req, reply) => {
    requireGlobal(req, 'delete');
    if (!(await revokeAuthToken(herald.pool, 'api_key', req.params.key_id, herald.clock.now()))) {
      throw new HeraldError('not_found', `API key ${req.params.key_id} not found (or already revoked)`);
    }
    req.server.credentialCache.clear();
    return reply.code(204).send();
  });
}
