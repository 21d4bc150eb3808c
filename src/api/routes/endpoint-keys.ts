/**
 * Ed25519 public keys of an endpoint (Herald extras): one route for API callers and one URL without a
 * token for receivers, which verify `v1a` signatures with them (Standard Webhooks). Public keys are
 * not secrets, so the receivers' URL needs no credentials; it answers only for endpoints that sign
 * with ed25519 (404 for any other or an unknown id, the same answer either way) and lets caches keep
 * the answer a minute, so a receiver may fetch it per request without costing Herald much.
 */
import { z } from 'zod';
import { HeraldError } from '../../core/errors.js';
import { isId } from '../../core/ids.js';
import { effectiveSignature } from '../../engine/applications.js';
import { listPublicKeys, listPublicKeysForReceivers, type PublicKeyRow } from '../../store/endpoints.js';
import { requireApp } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { errorResponses, HttpErrorOut, HTTPValidationError, IdOrUid, iso } from '../schemas/common.js';
import { PublicKeysOut } from '../schemas/contract.js';
import { EndpointParams } from '../schemas/endpoints.js';
import { findEndpointView } from './endpoints.js';

const tags = ['Endpoint'];

/** How long receivers and proxies may keep the keys: a rotation's new key is current within a minute. */
export const PUBLIC_KEYS_MAX_AGE_SECONDS = 60;

/** The receivers' URL of an endpoint's keys, relative to Herald's base URL. */
export const publicKeysPath = (endpointId: string) => `/api/v1/public/endpoint/${endpointId}/keys`;

const toOut = (rows: PublicKeyRow[]): z.output<typeof PublicKeysOut> => ({
  keys: rows.map((r) => ({ key: r.key, expiresAt: r.expiresAt ? iso(r.expiresAt) : null })),
});

export default async function endpointKeyRoutes(app: Api, deps: ApiDeps): Promise<void> {
  const { herald } = deps;

  app.get('/app/:app_id/endpoint/:endpoint_id/public-key', {
    config: { permission: 'read' },
    schema: {
      operationId: 'v1.endpoint.get-public-keys',
      tags,
      summary: "Get the endpoint's Ed25519 public keys",
      description:
        'For an endpoint whose effective signature scheme is ed25519: every public key that still verifies, current first (two during a rotation\'s grace period). 404 for other schemes, which sign with a shared secret. Receivers can fetch the same answer without a token from GET /api/v1/public/endpoint/{endpoint_id}/keys.',
      params: EndpointParams,
      response: { 200: PublicKeysOut, ...errorResponses(404) },
    },
  }, async (req) => {
    const application = await requireApp(req, deps, req.params.app_id, 'read');
    const ep = await findEndpointView(herald, application.id, req.params.endpoint_id);
    const scheme = effectiveSignature(ep.signature, ep.appSignature).scheme;
    if (scheme !== 'ed25519') {
      throw new HeraldError('not_found', `endpoint ${ep.id} signs with the ${scheme} scheme, which uses a shared secret (GET …/secret), not a public key`);
    }
    return toOut(await listPublicKeys(herald.pool, application.id, ep.id, herald.clock.now()));
  });

  app.get('/public/endpoint/:endpoint_id/keys', {
    config: { public: true },
    schema: {
      operationId: 'v1.public.get-endpoint-keys',
      tags,
      summary: "Get an ed25519 endpoint's public keys (no token; for receivers)",
      description: `No token needed: public keys are not secrets. Verify a delivery's \`v1a,<base64>\` signatures in webhook-signature against any of these keys. 404 for an unknown endpoint or one that does not sign with ed25519. Cache-Control: max-age=${PUBLIC_KEYS_MAX_AGE_SECONDS}.`,
      security: [],
      params: z.object({ endpoint_id: IdOrUid.describe("The endpoint's id (ep_…); uids are not accepted here, being unique only within an application.") }),
      response: { 200: PublicKeysOut, 404: HttpErrorOut, 422: HTTPValidationError },
    },
  }, async (req, reply) => {
    const id = req.params.endpoint_id;
    const rows = isId('ep', id) ? await listPublicKeysForReceivers(herald.pool, id, herald.clock.now()) : [];
    if (rows.length === 0) throw new HeraldError('not_found', `no endpoint ${id} that signs with ed25519`);
    void reply.header('cache-control', `public, max-age=${PUBLIC_KEYS_MAX_AGE_SECONDS}`);
    return toOut(rows);
  });
}
