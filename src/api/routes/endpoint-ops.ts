/**
 * Operations on an endpoint's deliveries (Svix v1): recover failed messages, send an example
 * (a dashboard's "Send Test Event"), delivery stats; and Herald's health view for
 * operators. Registered by routes/messages.ts.
 */
import type { JSONSchema7 } from 'json-schema';
import { sample } from 'openapi-sampler';
import { HeraldError } from '../../core/errors.js';
import { fieldError } from '../errors.js';
import { compileLatestSchema, latestSchemaVersion, type CompiledSchema } from '../../core/json-schema.js';
import { getEventType } from '../../store/event-types.js';
import { publishToEndpoint } from '../../engine/publish.js';
import { countRecoverable } from '../../store/replay.js';
import { attemptsSince, endpointStats, failingEndpoints, queueCounts } from '../../store/stats.js';
import { requireApp, requireGlobal } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import {
  EndpointStats,
  EventExampleIn,
  HealthOut,
  RecoverIn,
  RecoverOut,
  StatsQuery,
} from '../schemas/attempts.js';
import { errorResponses } from '../schemas/common.js';
import { EndpointParams } from '../schemas/endpoints.js';
import { MessageOut } from '../schemas/messages.js';
import { findEndpoint } from './attempts.js';
import { endpointNotFound } from './endpoints.js';
import { replayOut, startEndpointTask } from './endpoint-replays.js';

/** Svix's longest stats window; it also bounds the count to an index range. */
const STATS_WINDOW_MS = 28 * 86_400_000;
/** Svix's ping event: send-example accepts it without an event type of that name. */
const PING_EVENT_TYPE = 'svix.ping';
/** How many failing endpoints the health view lists. */
const FAILING_LIST_LIMIT = 50;
/** Window of deliveriesPerMinute. */
const RATE_WINDOW_MINUTES = 5;
/** Tolerated difference between the caller's clock and ours when checking given times. */
const CLOCK_SLACK_MS = 60_000;

export default async function endpointOpsRoutes(app: Api, deps: ApiDeps): Promise<void> {
  recoverRoute(app, deps);
  sendExampleRoute(app, deps);
  statsRoute(app, deps);
  healthRoute(app, deps);
}

function recoverRoute(app: Api, deps: ApiDeps): void {
  const { herald } = deps;
  const db = herald.pool;

  app.post(
    '/app/:app_id/endpoint/:endpoint_id/recover',
    {
      config: { permission: 'update', idempotent: true },
      schema: {
        operationId: 'v1.endpoint.recover',
        tags: ['Endpoint'],
        summary: 'Recover failed messages',
        description:
          'Queues one more attempt (triggerType 1) of every message that failed or was not sent to this endpoint in [since, until). ' +
          'Answers 202 with a background task (`endpoint.recover`) to poll until it is finished; `count` (Herald) is the number of ' +
          'failed messages found when it started, and the task\'s `data.messagesSent` the number queued so far.',
        params: EndpointParams,
        body: RecoverIn,
        response: { 202: RecoverOut, ...errorResponses(404, 409, 422) },
      },
    },
    async (req, reply) => {
      // A background task, as in Svix; the count found up front is Herald's, for progress bars.
      const task = await startEndpointTask(req, req.params, deps, 'endpoint.recover', req.body, {
        data: async (appId, endpointId, until) => ({ count: await countRecoverable(db, appId, endpointId, req.body.since, until) }),
      });
      return reply.code(202).send({ ...replayOut(task), task: 'endpoint.recover' as const, count: Number(task.data.count ?? 0) });
    },
  );

}

function sendExampleRoute(app: Api, deps: ApiDeps): void {
  const { herald } = deps;
  const db = herald.pool;

  app.post(
    '/app/:app_id/endpoint/:endpoint_id/send-example',
    {
      config: { permission: 'publish', idempotent: true },
      schema: {
        operationId: 'v1.endpoint.send-example',
        tags: ['Endpoint'],
        summary: 'Send an example event',
        description:
          "Publishes a test message of the event type to this endpoint only (whatever it or other endpoints subscribe to): the type's " +
          'JSON Schema `examples[exampleIndex]` when it has examples, else an example built from the schema (`$ref`, `allOf`, `oneOf`, ' +
          'enums and formats followed), checked against the schema like any publish.',
        params: EndpointParams,
        body: EventExampleIn,
        response: { 202: MessageOut, ...errorResponses(404, 409, 413, 422) },
      },
    },
    async (req, reply) => {
      // A test event is a published message, signed as the platform's own: publishing, not an endpoint update (issue 13).
      const application = await requireApp(req, deps, req.params.app_id, 'publish');
      const ep = await findEndpoint(db, application, req.params.endpoint_id);
      if (ep.disabled) throw new HeraldError('conflict', `endpoint ${ep.id} is disabled; enable it to send it a test event`);
      const { eventType, exampleIndex } = req.body;
      const payload = await examplePayload(deps, eventType, exampleIndex ?? null);
      // Through the engine's publish rules (envelope, payload limit, ids), to this endpoint only.
      const msg = await publishToEndpoint(db, application.id, ep.id, { eventType, payload }, {
        now: herald.clock.now(),
        maxPayloadBytes: herald.config.HERALD_MAX_PAYLOAD_BYTES,
        enforceSchemas: herald.config.HERALD_SCHEMA_ENFORCEMENT,
      });
      // Null only if the endpoint was deleted since it was looked up.
      if (!msg) throw endpointNotFound(req.params.endpoint_id);
      herald.metrics.countPublished(1, msg.deliveries);
      return reply.code(202).send({
        id: msg.id,
        eventType: msg.eventType,
        eventId: msg.eventId,
        payload: msg.payload,
        channels: msg.channels,
        tags: msg.tags,
        timestamp: msg.timestamp,
      });
    },
  );

}

function statsRoute(app: Api, deps: ApiDeps): void {
  const { herald } = deps;
  const db = herald.pool;

  app.get(
    '/app/:app_id/endpoint/:endpoint_id/stats',
    {
      config: { permission: 'read' },
      schema: {
        operationId: 'v1.endpoint.get-stats',
        tags: ['Endpoint'],
        summary: 'Endpoint stats',
        description: "Counts of the endpoint's messages by delivery status, published in [since, until) (at most 28 days, the default).",
        params: EndpointParams,
        querystring: StatsQuery,
        response: { 200: EndpointStats, ...errorResponses(404, 422) },
      },
    },
    async (req) => {
      const application = await requireApp(req, deps, req.params.app_id, 'read');
      const ep = await findEndpoint(db, application, req.params.endpoint_id);
      // The window is [since, until); by default it ends just after now, so what was published this
      // very millisecond counts too.
      const until = req.query.until ?? new Date(herald.clock.now().getTime() + 1);
      const since = req.query.since ?? new Date(until.getTime() - STATS_WINDOW_MS);
      if (since >= until) throw fieldError('since', 'since must be before until', 'query');
      // Slack so "28 days ago" computed on the caller's clock a moment earlier is still accepted.
      if (until.getTime() - since.getTime() > STATS_WINDOW_MS + CLOCK_SLACK_MS) {
        throw fieldError('since', 'the window from since to until is at most 28 days', 'query');
      }
      const s = await endpointStats(db, application.id, ep.id, since, until);
      return { success: s.succeeded, fail: s.failed, pending: s.pending, sending: s.sending, canceled: s.skipped };
    },
  );

}

/** The operators' health view: global, so a scoped token gets 403. */
function healthRoute(app: Api, deps: ApiDeps): void {
  const db = deps.herald.pool;

  app.get(
    '/stats/health',
    {
      config: { permission: 'read' },
      schema: {
        operationId: 'v1.statistics.delivery-health',
        tags: ['Statistics'],
        summary: 'Delivery health (operators)',
        description: 'Herald: queue depth, retries waiting, delivery rate over the last 5 minutes, and the endpoints failing now.',
        response: { 200: HealthOut, ...errorResponses() },
      },
    },
    async (req) => {
      requireGlobal(req, 'read');
      const now = deps.herald.clock.now();
      const [queue, recent, failing] = await Promise.all([
        queueCounts(db, now),
        attemptsSince(db, new Date(now.getTime() - RATE_WINDOW_MINUTES * 60_000)),
        failingEndpoints(db, FAILING_LIST_LIMIT),
      ]);
      return {
        queueDepth: queue.due + queue.sending,
        inFlight: queue.sending,
        scheduledRetries: queue.scheduled,
        deliveriesPerMinute: Math.round(((recent.succeeded + recent.failed) / RATE_WINDOW_MINUTES) * 10) / 10,
        succeededLast5m: recent.succeeded,
        failedLast5m: recent.failed,
        failingEndpoints: failing.map(({ firstFailureAt, ...f }) => ({ ...f, failingSince: firstFailureAt })),
      };
    },
  );
}

/** The payload of a test event: Svix's ping, or an example of a known event type (404 otherwise, as in Svix). */
async function examplePayload(deps: ApiDeps, eventType: string, index: number | null): Promise<Record<string, unknown>> {
  if (eventType === PING_EVENT_TYPE) return { success: true };
  const type = await getEventType(deps.herald.pool, eventType);
  if (!type) throw new HeraldError('not_found', `event type ${eventType} not found; create it first (or send "${PING_EVENT_TYPE}")`);
  const payload = exampleFor(type.name, type.schemas, index);
  if (deps.herald.config.HERALD_SCHEMA_ENFORCEMENT) assertExampleMatches(type.name, type.schemas, payload);
  return payload;
}

/**
 * Refuses an example that does not match its own schema (a given `examples` entry that is wrong, or
 * a constraint the sampler cannot meet, such as `multipleOf`), saying how to fix the event type rather
 * than pointing at the publisher's payload. A stored schema that does not compile is not enforced.
 */
function assertExampleMatches(eventType: string, schemas: Record<string, unknown> | null, payload: Record<string, unknown>): void {
  let compiled: CompiledSchema | null;
  try {
    compiled = compileLatestSchema(schemas);
  } catch {
    return;
  }
  const problems = compiled?.validate(payload) ?? [];
  if (problems.length === 0) return;
  const why = problems.slice(0, 3).map((p) => `${p.path.replace(/^payload\.?/, '') || '(root)'} ${p.message}`).join('; ');
  const message = `the example of event type ${eventType} does not match its JSON Schema (version ${compiled!.version}): ${why}; add a matching "examples" entry to the schema`;
  throw new HeraldError('unprocessable', message, { fields: [{ path: 'eventType', message }] });
}

/** How deep a generated example goes into nested (or recursive) schemas. */
const EXAMPLE_MAX_DEPTH = 8;

/**
 * The payload of send-example: `examples[index]` of the newest schema version (Svix reads the
 * JSON Schema `examples` keyword the same way), else an example built from that schema by
 * openapi-sampler (which follows `$ref` into `$defs`, merges `allOf`, takes the first of
 * `oneOf`/`anyOf`, the first `enum` value, and samples formats and patterns), else
 * `{ "test": true, "eventType": … }`. An index past the examples is a 422. The example goes through
 * the publish rules, schema check included.
 */
export function exampleFor(eventType: string, schemas: Record<string, unknown> | null, index: number | null): Record<string, unknown> {
  const version = latestSchemaVersion(schemas);
  const schema = version !== null ? asObject(schemas![version]) : null;
  const examples = Array.isArray(schema?.examples) ? (schema.examples as unknown[]) : [];
  if (index !== null && index >= Math.max(examples.length, 1)) {
    throw fieldError('exampleIndex', `event type ${eventType} has ${examples.length} example(s); exampleIndex must be below ${Math.max(examples.length, 1)}`);
  }
  const chosen = asObject(examples[index ?? 0]);
  if (chosen) return chosen;
  const generated = schema ? asObject(sampled(schema)) : null;
  return generated && Object.keys(generated).length > 0 ? generated : { test: true, eventType };
}

function asObject(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** A value built from a schema, the schema itself being the document its local `$ref`s point into; null if the sampler fails. */
function sampled(schema: Record<string, unknown>): unknown {
  try {
    return sample(schema as JSONSchema7, { skipReadOnly: true, enablePatterns: true, maxSampleDepth: EXAMPLE_MAX_DEPTH, quiet: true }, schema);
  } catch {
    return null;
  }
}
