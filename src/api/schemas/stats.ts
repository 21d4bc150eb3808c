/**
 * Svix's statistics shapes for an application's attempts: `AppAttemptStatsOut` (totals per event
 * type), `AttemptStatisticsResponse` (a time series by period), `CountOut` (an endpoint's attempt
 * count), and the usage count over applications (`AppUsageStatsIn`/`AppUsageStatsOut`).
 */
import { z } from 'zod';
import { STARTED_TASK_FIELDS } from './background-tasks.js';
import { IdOrUid } from './common.js';
import { DateTime, EventTypesQuery } from './messages.js';

/** Query of v1.application.stats.attempts. */
export const AppAttemptStatsQuery = z.object({
  since: DateTime.describe('Start of the window.'),
  until: DateTime.describe('End of the window (at most 31 days after since).'),
  event_types: EventTypesQuery,
});

/** Svix `AppAttemptEventTypeStats`. */
export const AppAttemptEventTypeStats = z
  .object({
    success: z.number().int().describe('Successful attempts.'),
    failure: z.number().int().describe('Failed attempts.'),
    canceled: z.number().int().describe('Deliveries not attempted (endpoint disabled, content expunged).'),
  })
  .meta({ id: 'AppAttemptEventTypeStats' });

/** Svix `AppAttemptStatsOut`. */
export const AppAttemptStatsOut = z
  .object({
    by_event_type: z.record(z.string(), AppAttemptEventTypeStats).describe('Counts per event type (types with none are left out).'),
    total_success: z.number().int().describe('Successful attempts in the window.'),
    total_failure: z.number().int().describe('Failed attempts in the window.'),
    total_canceled: z.number().int().describe('Deliveries not attempted, published in the window.'),
    since: z.date().describe('Start of the window.'),
    until: z.date().describe('End of the window.'),
  })
  .meta({ id: 'AppAttemptStatsOut' });

/** Svix `StatisticsPeriod`, with the length of each in milliseconds. */
export const PERIOD_MS = { OneDay: 86_400_000, OneHour: 3_600_000, FiveMinutes: 300_000 } as const;
export const StatisticsPeriod = z
  .enum(['OneDay', 'OneHour', 'FiveMinutes'])
  .describe('Length of one data point.')
  .meta({ id: 'StatisticsPeriod' });

/** Query of v1.stats.app-attempts. */
export const AttemptStatisticsQuery = z.object({
  startDate: DateTime.nullish().describe('Start of the series (default: 7 days, 24 hours or 1 hour before endDate, by period).'),
  endDate: DateTime.nullish().describe('End of the series (default: now).'),
  period: StatisticsPeriod.nullish().describe('Length of one data point (default OneDay); at most 1,000 points.'),
  event_types: EventTypesQuery,
});

/** Svix `AttemptStatisticsData`: one number per period, oldest first. */
export const AttemptStatisticsData = z
  .object({
    successCount: z.array(z.number().int()).nullable().describe('Successful attempts per period.'),
    failureCount: z.array(z.number().int()).nullable().describe('Failed attempts per period.'),
    canceledCount: z.array(z.number().int()).nullable().describe('Deliveries not attempted, per period of their publish time.'),
  })
  .meta({ id: 'AttemptStatisticsData' });

/** Svix `AttemptStatisticsResponse`. */
export const AttemptStatisticsResponse = z
  .object({
    startDate: z.date().describe('Start of the first period.'),
    endDate: z.date().describe('End of the series.'),
    period: StatisticsPeriod,
    data: AttemptStatisticsData,
  })
  .meta({ id: 'AttemptStatisticsResponse' });

/** Svix `CountOut`. */
export const CountOut = z
  .object({
    count: z.number().int().describe('Attempts matching the query (at most 10,000).'),
    approximated: z.boolean().describe('True when there are more than counted: the count stopped at its ceiling.'),
  })
  .meta({ id: 'CountOut' });

/** Svix `AggregateEventTypesOut`: the task to poll. */
export const AggregateEventTypesOut = z.object(STARTED_TASK_FIELDS).meta({ id: 'AggregateEventTypesOut' });

/** Svix `AppUsageStatsIn`. */
export const AppUsageStatsIn = z
  .object({
    since: DateTime.describe('Start of the window.'),
    until: DateTime.describe('End of the window.'),
    appIds: z.array(IdOrUid).max(1_000).nullish().describe('Only these applications (ids or uids); every one when absent. None found is a 422.'),
  })
  .meta({ id: 'AppUsageStatsIn' });

/** Svix `AppUsageStatsOut`: the task to poll, and the given applications that were not found. */
export const AppUsageStatsOut = z
  .object({
    ...STARTED_TASK_FIELDS,
    unresolvedAppIds: z.array(z.string()).describe('Application ids or uids given that were not found.'),
  })
  .meta({ id: 'AppUsageStatsOut' });
