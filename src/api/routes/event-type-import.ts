/**
 * `POST /api/v1/event-type/import/openapi` (Svix v1.event-type.import-openapi): the event type
 * catalogue from the webhooks of an OpenAPI document (src/core/openapi-event-types.ts).
 */
import { parse as parseYaml } from 'yaml';
import { HeraldError, type FieldError } from '../../core/errors.js';
import { eventTypesFromOpenApi } from '../../core/openapi-event-types.js';
import { importEventTypes } from '../../engine/event-type-import.js';
import { requireGlobal, requirePermission } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { containsNul, errorResponses } from '../schemas/common.js';
import { MAX_SCHEMAS_BYTES } from '../schemas/event-types.js';
import { schemaProblems } from '../../core/json-schema.js';
import { EventTypeImportOpenApiIn, EventTypeImportOpenApiOut } from '../schemas/event-type-import.js';

/** Largest document: a whole API description, schemas included. */
const IMPORT_BODY_LIMIT = 8 * 1024 * 1024;

function invalid(field: 'spec' | 'specRaw', problems: FieldError[]): HeraldError {
  const fields = problems.map((p) => ({ path: field, message: p.path === 'spec' ? p.message : `${p.path.replace(/^spec\./, '')}: ${p.message}` }));
  return new HeraldError('validation', `the OpenAPI document cannot be imported: ${fields.map((f) => f.message).join('; ')}`, { fields });
}

/** The document of the request: `spec`, or `specRaw` parsed as JSON or YAML (the yaml package); exactly one of them. */
function documentOf(body: { spec?: Record<string, unknown> | null; specRaw?: string | null }): { doc: unknown; field: 'spec' | 'specRaw' } {
  const hasSpec = body.spec != null;
  const hasRaw = body.specRaw != null;
  if (hasSpec === hasRaw) {
    const message = hasSpec ? 'give spec or specRaw, not both' : 'give the OpenAPI document as spec (an object) or specRaw (JSON or YAML text)';
    throw new HeraldError('validation', message, { fields: [{ path: hasSpec ? 'specRaw' : 'spec', message }] });
  }
  if (hasSpec) return { doc: body.spec, field: 'spec' };
  try {
    return { doc: JSON.parse(body.specRaw!), field: 'specRaw' };
  } catch {
    // Not JSON: YAML, as OpenAPI documents are often written.
  }
  try {
    const doc: unknown = parseYaml(body.specRaw!, { maxAliasCount: 100 });
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('the document is not a mapping');
    return { doc, field: 'specRaw' };
  } catch (e) {
    const message = `is neither JSON nor YAML an OpenAPI document can be read from (${(e as Error).message.split('\n')[0]})`;
    throw new HeraldError('validation', `specRaw ${message}`, { fields: [{ path: 'specRaw', message }] });
  }
}

export default async function eventTypeImportRoutes(app: Api, deps: ApiDeps): Promise<void> {
  const { herald } = deps;

  app.post(
    '/event-type/import/openapi',
    {
      config: { permission: ['create', 'update'], idempotent: true },
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        operationId: 'v1.event-type.import-openapi',
        tags: ['Event Type'],
        summary: 'Import event types from an OpenAPI document',
        description:
          'Every webhook under `webhooks` (OpenAPI 3.1) or `x-webhooks` becomes an event type of its name: its description from the ' +
          "operation, deprecated from the operation, and as schema \"1\" the JSON body's schema with local `$ref`s resolved. Missing types " +
          'are created, changed ones updated (archived ones brought back); `replaceAll` archives the types the document does not name; ' +
          '`dryRun` changes nothing and lists the changes in `to_modify`.',
        body: EventTypeImportOpenApiIn,
        response: { 200: EventTypeImportOpenApiOut, ...errorResponses(413, 422) },
      },
    },
    async (req) => {
      requireGlobal(req, 'create');
      requirePermission(req, 'update');
      const { doc, field } = documentOf(req.body);
      const { types, problems } = eventTypesFromOpenApi(doc);
      for (const t of types) {
        // The limits of an event type created through the API hold for imported ones too.
        if (Buffer.byteLength(JSON.stringify(t.schemas ?? {})) > MAX_SCHEMAS_BYTES) {
          problems.push({ path: 'spec', message: `the schema of webhook ${t.name} is over ${MAX_SCHEMAS_BYTES} bytes once its references are resolved` });
        }
        if (containsNul(t)) problems.push({ path: 'spec', message: `webhook ${t.name} contains NUL characters` });
        // Schemas are enforced at publish, so an imported one must be valid draft 2020-12 too.
        for (const p of schemaProblems(t.schemas ?? {})) {
          problems.push({ path: 'spec', message: `the schema of webhook ${t.name} is not valid JSON Schema: ${p.path.replace(/^schemas\.1\.?/, '') || '(root)'} ${p.message}` });
        }
      }
      if (problems.length > 0) throw invalid(field, problems);
      const result = await importEventTypes(herald.pool, types, { replaceAll: req.body.replaceAll, dryRun: req.body.dryRun, now: herald.clock.now() });
      if (!req.body.dryRun) herald.publishGroup.forgetTargets();
      return { data: { modified: result.modified, to_modify: req.body.dryRun ? result.toModify : null } };
    },
  );
}
