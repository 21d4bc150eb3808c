/**
 * Attempt statistics of an application (Svix v1): totals per event type, a time series by period,
 * and an endpoint's attempt count (read permission on the application); and the operators' count of
 * deliveries per application, run as a background task.
 */
import { HeraldError } from '../../core/errors.js';
import { fieldError } from '../errors.js';
import { attemptCountsByEventType, attemptSeries, countEndpointAttempts, resolveApps } from '../../store/app-stats.js';
import { requireApp, requireGlobal } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { AttemptExportQuery } from '../schemas/attempts.js';
import { errorResponses } from '../schemas/common.js';
import { EndpointParams } from '../schemas/endpoints.js';
import { AppParams } from '../schemas/applications.js';
import { foldArrayQuery } from '../schemas/messages.js';
import {
  AggregateEventTypesOut,
  AppAttemptStatsOut,
  AppAttemptStatsQuery,
  AppUsageStatsIn,
  AppUsageStatsOut,
  AttemptStatisticsQuery,
  AttemptStatisticsResponse,
  CountOut,
  PERIOD_MS,
} from '../schemas/stats.js';
import { attemptFilter, findEndpoint } from './attempts.js';
import { replayOut } from './endpoint-replays.js';

/** Longest window of the per-event-type totals. */
const MAX_WINDOW_MS = 31 * 86_400_000;
/** Tolerated difference between the caller's clock and ours (a window computed a moment earlier). */
const CLOCK_SLACK_MS = 60_000;
/** Most data points of one series. */
const MAX_POINTS = 1_000;
/** Default length of a series, by period: a week of days, a day of hours, an hour of five minutes. */
const DEFAULT_POINTS = { OneDay: 7, OneHour: 24, FiveMinutes: 12 } as const;
/** Ceiling of an attempt count (Svix counts up to a ceiling too). */
const COUNT_CEILING = 10_000;

export default async function statsRoutes(app: Api, deps: ApiDeps): Promise<void> {
  const { herald } = deps;
  const db = herald.pool;

  app.get(
    '/app/:app_id/stats/attempts',
    {
      config: { permission: 'read' },
      preValidation: foldArrayQuery,
      schema: {
        operationId: 'v1.application.stats.attempts',
        tags: ['Statistics'],
        summary: "An application's attempts per event type",
        description: 'Successful and failed attempts, and deliveries not attempted, in [since, until) (at most 31 days), per event type and in total.',
        params: AppParams,
        querystring: AppAttemptStatsQuery,
        response: { 200: AppAttemptStatsOut, ...errorResponses(404, 422) },
      },
    },
    async (req) => {
      const application = await requireApp(req, deps, req.params.app_id, 'read');
      const { since, until } = req.query;
      if (until <= since) throw fieldError('until', 'until must be after since', 'query');
      if (until.getTime() - since.getTime() > MAX_WINDOW_MS + CLOCK_SLACK_MS) throw fieldError('since', 'the window from since to until is at most 31 days', 'query');
      const rows = await attemptCountsByEventType(db, application.id, since, until, req.query.event_types?.length ? req.query.event_types : null);
      const sum = (k: 'success' | 'failure' | 'canceled') => rows.reduce((n, r) => n + r[k], 0);
      return {
        by_event_type: Object.fromEntries(rows.map((r) => [r.eventType, { success: r.success, failure: r.failure, canceled: r.canceled }])),
        total_success: sum('success'),
        total_failure: sum('failure'),
        total_canceled: sum('canceled'),
        since,
        until,
      };
    },
  );

  app.get(
    '/stats/app/:app_id/attempt',
    {
      config: { permission: 'read' },
      preValidation: foldArrayQuery,
      schema: {
        operationId: 'v1.stats.app-attempts',
        tags: ['Statistics'],
        summary: "An application's attempts over time",
        description: 'Successful and failed attempts, and deliveries not attempted, per period from startDate to endDate, oldest first.',
        params: AppParams,
        querystring: AttemptStatisticsQuery,
        response: { 200: AttemptStatisticsResponse, ...errorResponses(404, 422) },
      },
    },
    async (req) => {
      const application = await requireApp(req, deps, req.params.app_id, 'read');
      const period = req.query.period ?? 'OneDay';
      const step = PERIOD_MS[period];
      const endDate = req.query.endDate ?? herald.clock.now();
      const startDate = req.query.startDate ?? new Date(endDate.getTime() - DEFAULT_POINTS[period] * step);
      if (endDate <= startDate) throw fieldError('endDate', 'endDate must be after startDate');
      if ((endDate.getTime() - startDate.getTime()) / step > MAX_POINTS) {
        throw fieldError('startDate', `at most ${MAX_POINTS} periods of ${period}: choose a later startDate or a longer period`);
      }
      const buckets = await attemptSeries(db, application.id, startDate, endDate, step, req.query.event_types?.length ? req.query.event_types : null);
      return {
        startDate,
        endDate,
        period,
        data: {
          successCount: buckets.map((b) => b.success),
          failureCount: buckets.map((b) => b.failure),
          canceledCount: buckets.map((b) => b.canceled),
        },
      };
    },
  );

  app.post(
    '/stats/usage/app',
    {
      config: { permission: 'read', idempotent: true },
      schema: {
        operationId: 'v1.statistics.aggregate-app-stats',
        tags: ['Statistics'],
        summary: 'Count deliveries per application',
        description:
          'Starts a background task (`application.stats`) counting each application\'s deliveries (`messageDestinations`: messages × ' +
          'endpoints) created in [since, until); once finished, its `data.appStats` lists `{ appId, appUid, messageDestinations }` per application. ' +
          'Operators only (a global token with read).',
        body: AppUsageStatsIn,
        response: { 202: AppUsageStatsOut, ...errorResponses(422) },
      },
    },
    async (req, reply) => {
      requireGlobal(req, 'read');
      const { since, until, appIds } = req.body;
      if (until <= since) throw new HeraldError('validation', 'until must be after since', { fields: [{ path: 'until', message: 'until must be after since' }] });
      let resolved: { ids: string[] | null; unresolved: string[] } = { ids: null, unresolved: [] };
      if (appIds?.length) {
        resolved = await resolveApps(db, [...new Set(appIds)]);
        if (resolved.ids!.length === 0) {
          const message = 'none of these applications exist';
          throw new HeraldError('validation', message, { fields: [{ path: 'appIds', message }] });
        }
      }
      const task = await herald.backgroundTasks.launch(db, {
        appId: null,
        endpointId: null,
        task: 'application.stats',
        params: { since: since.toISOString(), until: until.toISOString(), appIds: resolved.ids },
      });
      return reply.code(202).send({ ...replayOut(task), unresolvedAppIds: resolved.unresolved });
    },
  );

  app.put(
    '/stats/usage/event-types',
    {
      config: { permission: 'read' },
      schema: {
        operationId: 'v1.statistics.aggregate-event-types',
        tags: ['Statistics'],
        summary: 'List the event types each application subscribes to',
        description:
          'Starts a background task (`event-type.aggregate`); once finished, its `data.event_types` lists per application the event types ' +
          "its endpoints' filters name (`explicitlySubscribedEventTypes`; Herald's wildcards left out) and whether one of them receives " +
          'everything (`hasCatchAllEndpoint`). Operators only (a global token with read).',
        response: { 202: AggregateEventTypesOut, ...errorResponses() },
      },
    },
    async (req, reply) => {
      requireGlobal(req, 'read');
      const task = await herald.backgroundTasks.launch(db, { appId: null, endpointId: null, task: 'event-type.aggregate', params: {} });
      return reply.code(202).send(replayOut(task));
    },
  );

  app.get(
    '/app/:app_id/attempt/endpoint/:endpoint_id/count',
    {
      config: { permission: 'read' },
      preValidation: foldArrayQuery,
      schema: {
        operationId: 'v1.message-attempt.count-by-endpoint',
        tags: ['Message Attempt'],
        summary: "Count an endpoint's attempts",
        description: 'The number of attempts the attempt list would show with these filters, counted up to 10,000.',
        params: EndpointParams,
        querystring: AttemptExportQuery,
        response: { 200: CountOut, ...errorResponses(404, 422) },
      },
    },
    async (req) => {
      const application = await requireApp(req, deps, req.params.app_id, 'read');
      const ep = await findEndpoint(db, application, req.params.endpoint_id);
      const q = req.query;
      return countEndpointAttempts(
        db,
        application.id,
        ep.id,
        { ...attemptFilter(q), tag: q.tag ?? null },
        COUNT_CEILING,
      );
    },
  );
}
