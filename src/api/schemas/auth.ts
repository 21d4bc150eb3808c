/** Schemas of whoami, customer-portal access (Svix AppPortalAccessIn/Out, expire-all) and Herald API keys. */
import { z } from 'zod';
import type { AuthTokenRow } from '../../store/api-keys.js';
import { ApplicationIn } from './applications.js';
import { EventTypeName, IdOrUid, iso, text, Timestamp } from './common.js';

/** A permission. */
export const PermissionSchema = z.enum(['read', 'create', 'update', 'delete']).meta({ id: 'Permission' });

/** Shortest and longest portal token lifetimes, in seconds. */
export const PORTAL_EXPIRY = { min: 60, max: 7 * 86_400, default: 3_600 } as const;

const SessionId = z.string().min(1).max(64).regex(/^[a-zA-Z0-9@_-]+$/, 'a session id may only contain letters, digits, @, _ and -');

/** Svix's portal capabilities; Herald maps them onto permissions (docs/api.md). */
export const Capability = z.enum(['ViewBase', 'ViewEndpointSecret', 'ManageEndpointSecret', 'ManageTransformations', 'CreateAttempts', 'ManageEndpoint']).meta({ id: 'AppPortalCapability' });

/** Body of POST /auth/app-portal-access/{app_id}. */
export const AppPortalAccessIn = z.object({
  application: ApplicationIn.nullish().describe('Creates the application (uid = the path) when it does not exist yet.'),
  expiry: z
    .number()
    .int()
    .min(PORTAL_EXPIRY.min)
    .max(PORTAL_EXPIRY.max)
    .nullish()
    .describe('Lifetime in seconds (60 s to 7 days). Herald defaults to 1 hour, where Svix defaults to 7 days: portal links should be short-lived.'),
  readOnly: z.boolean().nullish().describe('Only the read permission.'),
  capabilities: z.array(Capability).nullish().describe('Svix capabilities, mapped onto permissions.'),
  permissions: z.array(PermissionSchema).min(1).nullish().describe('Herald: the permissions to grant (default all the caller has).'),
  allowPublish: z
    .boolean()
    .nullish()
    .describe(
      'Herald: also let the token publish messages (create message, send-example). Off by default: with it a customer can send ' +
        'correctly signed events as if the platform had sent them. Needs the create permission, on this token and on the caller.',
    ),
  featureFlags: z.array(EventTypeName).max(25).optional().describe('Accepted for Svix compatibility; not used.'),
  sessionId: SessionId.nullish().describe('Lets expire-all target this session only.'),
}).meta({ id: 'AppPortalAccessIn' });

/** Answer of portal access. */
export const AppPortalAccessOut = z.object({
  url: z.string().describe('Link to Herald\'s customer portal; the token is in the URL fragment, which browsers never send to servers.'),
  token: z.string().describe('The portal token (hp_…), scoped to this application.'),
  expiresAt: Timestamp.describe('Herald: when the token stops working.'),
}).meta({ id: 'AppPortalAccessOut' });

/** Body of POST /auth/app/{app_id}/expire-all. */
export const ApplicationTokenExpireIn = z.object({
  expiry: z.number().int().min(0).max(259_200).nullish().describe('Seconds until the tokens stop working (default 0: at once).'),
  sessionIds: z.array(SessionId).max(1000).optional().describe('Only tokens issued with one of these session ids.'),
}).meta({ id: 'ApplicationTokenExpireIn' });

/** GET /auth/whoami. */
export const WhoamiOut = z.object({
  kind: z.enum(['admin', 'api_key', 'portal']).describe('Operator token, API key, or customer-portal token.'),
  appId: z.string().nullable().describe('The one application this token may touch; null = all.'),
  permissions: z.array(PermissionSchema),
  canReadSecrets: z.boolean().describe('Whether GET …/secret would succeed: update permission, and the operator allows reading secrets.'),
  sessionId: z.string().nullable().describe('Portal tokens: the session id given at issue.'),
  canPublish: z.boolean().describe('Herald: whether the token may publish messages (create message, send-example): create, and for a portal token allowPublish when it was issued.'),
}).meta({ id: 'WhoamiOut' });

/** Body of POST /api-key. */
export const ApiKeyIn = z.object({
  name: text(256).min(1, 'name is required').describe('Label, e.g. "billing service".'),
  permissions: z.array(PermissionSchema).min(1).describe('What the key may do; at most what the creating token has.'),
  appId: IdOrUid.nullish().describe('Scope the key to this application (id or uid); omit for a global key.'),
}).meta({ id: 'ApiKeyIn' });

/** A live API key as listed (never the key itself; revoked keys are not listed). */
export const ApiKeyOut = z.object({
  id: z.string().describe('key_…; what revoke takes.'),
  name: z.string(),
  prefix: z.string().describe('Public start of the key (hk_<prefix>_…), to tell keys apart; not a secret.'),
  permissions: z.array(PermissionSchema),
  appId: z.string().nullable().describe('The application it is scoped to; null = all.'),
  createdAt: Timestamp,
  lastUsedAt: Timestamp.nullable().describe('Last authenticated request (minute precision).'),
}).meta({ id: 'ApiKeyOut' });

/** The create answer: the full key, once. */
export const ApiKeyCreatedOut = ApiKeyOut.extend({ key: z.string().describe('The bearer token. Shown only in this response.') }).meta({ id: 'ApiKeyCreatedOut' });

/** Path of one key. */
export const ApiKeyParams = z.object({ key_id: z.string().min(1).max(64) });

/** Maps a stored key. */
export function toApiKeyOut(row: AuthTokenRow): z.output<typeof ApiKeyOut> {
  return {
    id: row.id,
    name: row.name,
    prefix: `hk_${row.prefix}`,
    permissions: row.permissions as z.output<typeof PermissionSchema>[],
    appId: row.appId,
    createdAt: iso(row.createdAt),
    lastUsedAt: row.lastUsedAt ? iso(row.lastUsedAt) : null,
  };
}
