/**
 * Svix's background task shapes: `BackgroundTaskOut` and its list, the replay requests (`ReplayIn`,
 * `BulkReplayIn`) and their answer (`ReplayOut`). Recover's `RecoverIn`/`RecoverOut` sit with the
 * other endpoint operations in attempts.ts.
 */
import { z } from 'zod';
import type { BackgroundTaskRow } from '../../store/background-tasks.js';
import { ListQuery } from '../pagination.js';
import { EventTypeName } from './common.js';
import { ChannelName, DateTime } from './messages.js';

/** Svix `BackgroundTaskStatus`. */
export const BackgroundTaskStatus = z
  .enum(['running', 'finished', 'failed'])
  .describe('running until the task ends; finished, or failed with the reason in data.error.')
  .meta({ id: 'BackgroundTaskStatus' });

/** Svix `BackgroundTaskType`: the types Herald runs. */
export const BackgroundTaskType = z
  .enum(['endpoint.recover', 'endpoint.replay', 'endpoint.bulk-replay', 'application.stats', 'event-type.aggregate'])
  .describe('What the task does: recover failed messages, replay missing ones, replay every matching one, count deliveries per application, or list the event types each application subscribes to.')
  .meta({ id: 'BackgroundTaskType' });

/** Svix `BackgroundTaskOut`. */
export const BackgroundTaskOut = z
  .object({
    id: z.string().describe('Task id (qtask_…).'),
    status: BackgroundTaskStatus,
    task: BackgroundTaskType,
    data: z
      .record(z.string(), z.unknown())
      .describe(
        'Progress while running, the result once finished: `messagesSent` (messages queued so far) for endpoint tasks, `appStats` for ' +
        'application.stats, `event_types` for event-type.aggregate, and `error` when it failed.',
      ),
    updatedAt: z.date().describe('Last progress or status change.'),
  })
  .meta({ id: 'BackgroundTaskOut' });

/** The fields of every answer that starts a task (Svix ReplayOut, RecoverOut, AppUsageStatsOut…). */
export const STARTED_TASK_FIELDS = {
  id: z.string().describe('Task id (qtask_…): poll GET /api/v1/background-task/{id} until it is finished.'),
  status: BackgroundTaskStatus,
  task: BackgroundTaskType,
  updatedAt: z.date().describe('When the task last changed.'),
};

/** Svix `ReplayOut` (the answer to replay-missing and bulk replay): the task, to poll. */
export const ReplayOut = z.object(STARTED_TASK_FIELDS).meta({ id: 'ReplayOut' });

/** Svix `ReplayIn`. */
export const ReplayIn = z
  .object({
    since: DateTime.describe('Replay messages published at or after this time.'),
    until: DateTime.nullish().describe('…and before this time (default: now).'),
  })
  .meta({ id: 'ReplayIn' });

/** Svix `MessageStatus` as a number in a body: 0 success, 1 pending, 2 fail, 3 sending, 4 canceled. */
const MessageStatusIn = z.number().int().min(0).max(4).describe('0 success, 1 pending, 2 fail, 3 sending, 4 canceled.');

/** Svix `BulkReplayIn`. */
export const BulkReplayIn = z
  .object({
    since: DateTime.describe('Replay messages published at or after this time.'),
    until: DateTime.nullish().describe('…and before this time (default: now).'),
    eventTypes: z.array(EventTypeName).max(100).nullish().describe('Only messages of these event types.'),
    channel: ChannelName.nullish().describe('Only messages with this channel.'),
    tag: z.string().min(1).max(128).nullish().describe('Only messages with this tag.'),
    status: MessageStatusIn.nullish().describe("Only messages whose delivery to this endpoint has this status (0 success, 1 pending, 2 fail, 3 sending, 4 canceled)."),
    statusCodeClass: z
      .number()
      .int()
      .refine((n) => [0, 100, 200, 300, 400, 500].includes(n), 'one of 0, 100, 200, 300, 400, 500')
      .nullish()
      .describe("Only messages whose latest attempt's HTTP status is in this class (0 = no response)."),
  })
  .meta({ id: 'BulkReplayIn' });

/** Query of the task list (Svix's filters and paging). */
export const BackgroundTaskListQuery = z.object({
  status: BackgroundTaskStatus.nullish().describe('Only tasks in this status.'),
  task: BackgroundTaskType.nullish().describe('Only tasks of this type.'),
  limit: ListQuery.shape.limit,
  iterator: ListQuery.shape.iterator.describe('Cursor from a previous page: its `iterator` for the next page, its `prevIterator` for the one before.'),
  order: ListQuery.shape.order.describe('descending (newest first, the default) or ascending.'),
});

/** Path of one task. */
export const BackgroundTaskParams = z.object({ task_id: z.string().min(1).max(64).describe('Task id (qtask_…).') });

/** The API shape of a stored task. */
export function toBackgroundTaskOut(t: BackgroundTaskRow): z.output<typeof BackgroundTaskOut> {
  return { id: t.id, status: t.status, task: t.task, data: t.data, updatedAt: t.updatedAt };
}
