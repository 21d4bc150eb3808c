/**
 * An endpoint's long operations (Svix v1): replay-missing and bulk replay, and the task start they
 * share with recover (routes/endpoint-ops.ts). Each answers 202 with a background task once its first
 * batch is queued (a small one is then finished); the rest runs in a Herald process
 * (src/engine/background-tasks.ts) and the client polls the task.
 */
import type { FastifyRequest } from 'fastify';
import { HeraldError } from '../../core/errors.js';
import { fieldError } from '../errors.js';
import type { EndpointTaskData } from '../../engine/background-tasks.js';
import type { BackgroundTaskRow } from '../../store/background-tasks.js';
import type { BulkReplayFilter } from '../../store/replay.js';
import { requireApp } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { STATE_OF_STATUS } from '../schemas/attempts.js';
import { BulkReplayIn, ReplayIn, ReplayOut } from '../schemas/background-tasks.js';
import { errorResponses } from '../schemas/common.js';
import { EndpointParams } from '../schemas/endpoints.js';
import { findEndpoint } from './attempts.js';

/** Tolerated difference between the caller's clock and ours when checking given times. */
const CLOCK_SLACK_MS = 60_000;

/**
 * Checks the window and the endpoint, then creates the task (its window fixed now: `until` defaults
 * to the request's time, so a resumed task covers what the request meant).
 */
export async function startEndpointTask(
  req: FastifyRequest,
  params: { app_id: string; endpoint_id: string },
  deps: ApiDeps,
  task: 'endpoint.recover' | 'endpoint.replay' | 'endpoint.bulk-replay',
  window: { since: Date; until?: Date | null },
  extra: { filter?: BulkReplayFilter; data?: (appId: string, endpointId: string, until: Date) => Promise<Partial<EndpointTaskData>> } = {},
): Promise<BackgroundTaskRow> {
  const { herald } = deps;
  const application = await requireApp(req, deps, params.app_id, 'update');
  const ep = await findEndpoint(herald.pool, application, params.endpoint_id);
  const now = herald.clock.now();
  const { since } = window;
  if (since.getTime() > now.getTime() + CLOCK_SLACK_MS) throw fieldError('since', 'since is in the future; give the time from which to go through messages');
  // Just after now, so what was published this very millisecond is included.
  const until = window.until ?? new Date(now.getTime() + 1);
  if (until <= since) throw fieldError('until', 'until must be after since');
  if (ep.disabled) {
    throw new HeraldError('conflict', `endpoint ${ep.id} is disabled; enable it first, or the messages would be skipped again`);
  }
  const data = extra.data ? await extra.data(application.id, ep.id, until) : {};
  // The first batch runs before the answer: a small task is already finished, a large one under way.
  return herald.backgroundTasks.launch(herald.pool, {
    appId: application.id,
    endpointId: ep.id,
    task,
    params: { since: since.toISOString(), until: until.toISOString(), ...(extra.filter ? { filter: extra.filter } : {}) },
    data,
  });
}

/** Svix ReplayOut of a task. */
export const replayOut = (t: BackgroundTaskRow) => ({ id: t.id, status: t.status, task: t.task, updatedAt: t.updatedAt });

export default async function endpointReplayRoutes(app: Api, deps: ApiDeps): Promise<void> {
  app.post(
    '/app/:app_id/endpoint/:endpoint_id/replay-missing',
    {
      config: { permission: 'update', idempotent: true },
      schema: {
        operationId: 'v1.endpoint.replay-missing',
        tags: ['Endpoint'],
        summary: 'Replay missing messages',
        description:
          'Sends the endpoint every message published in [since, until) that it subscribes to and that never reached it: ' +
          'messages it has no delivery of (it was created or subscribed later) get one, and failed or skipped deliveries get one more attempt. ' +
          'Delivered, pending and in-flight messages are not sent again. Answers 202 with a background task (`endpoint.replay`) to poll; ' +
          '`data.messagesSent` counts the messages queued.',
        params: EndpointParams,
        body: ReplayIn,
        response: { 202: ReplayOut, ...errorResponses(404, 409, 422) },
      },
    },
    async (req, reply) => {
      const task = await startEndpointTask(req, req.params, deps, 'endpoint.replay', req.body);
      return reply.code(202).send(replayOut(task));
    },
  );

  app.post(
    '/app/:app_id/endpoint/:endpoint_id/bulk-replay',
    {
      config: { permission: 'update', idempotent: true },
      schema: {
        operationId: 'v1.endpoint.bulk-replay',
        tags: ['Endpoint'],
        summary: 'Bulk replay messages',
        description:
          'Sends again every message delivered (or being delivered) to the endpoint in [since, until) that matches the filters, successful ones too: ' +
          'each gets one more attempt (triggerType 1); one being sent right now is left alone. Answers 202 with a background task ' +
          '(`endpoint.bulk-replay`) to poll; `data.messagesSent` counts the messages queued.',
        params: EndpointParams,
        body: BulkReplayIn,
        response: { 202: ReplayOut, ...errorResponses(404, 409, 422) },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const filter: BulkReplayFilter = {
        eventTypes: b.eventTypes?.length ? [...new Set(b.eventTypes)] : null,
        channel: b.channel ?? null,
        tag: b.tag ?? null,
        state: b.status == null ? null : STATE_OF_STATUS[b.status as keyof typeof STATE_OF_STATUS],
        statusClass: b.statusCodeClass ?? null,
      };
      const task = await startEndpointTask(req, req.params, deps, 'endpoint.bulk-replay', b, { filter });
      return reply.code(202).send(replayOut(task));
    },
  );
}
