/**
 * Background tasks (Svix v1 `background-task`): the list and one task, so a client that started a
 * recover or a replay can poll it until it is finished. A token scoped to one application sees that
 * application's tasks only.
 */
import { HeraldError } from '../../core/errors.js';
import { getBackgroundTask, listBackgroundTasks } from '../../store/background-tasks.js';
import { requirePermission } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { listResponse } from '../pagination.js';
import { BackgroundTaskListQuery, BackgroundTaskOut, BackgroundTaskParams, toBackgroundTaskOut } from '../schemas/background-tasks.js';
import { errorResponses } from '../schemas/common.js';
import { keysetOf, keysetPage } from '../schemas/messages.js';

const TAGS = ['Background Task'];

export default async function backgroundTaskRoutes(app: Api, deps: ApiDeps): Promise<void> {
  const db = deps.herald.pool;

  app.get(
    '/background-task',
    {
      config: { permission: 'read' },
      schema: {
        operationId: 'v1.background-task.list',
        tags: TAGS,
        summary: 'List background tasks',
        description: 'Recover and replay tasks, newest first (or `order=ascending`); filter by status and type.',
        querystring: BackgroundTaskListQuery,
        response: { 200: listResponse(BackgroundTaskOut), ...errorResponses(422) },
      },
    },
    async (req) => {
      requirePermission(req, 'read');
      const q = req.query;
      const pos = keysetOf(q.iterator, q.limit, 'qtask');
      const rows = await listBackgroundTasks(
        db,
        { appId: req.principal.appId, status: q.status ?? null, task: q.task ?? null, ascending: q.order === 'ascending' },
        pos,
      );
      return keysetPage(rows, pos, (r) => r.id, toBackgroundTaskOut);
    },
  );

  app.get(
    '/background-task/:task_id',
    {
      config: { permission: 'read' },
      schema: {
        operationId: 'v1.background-task.get',
        tags: TAGS,
        summary: 'Get a background task',
        description: 'Its status (running, finished or failed) and data: progress while it runs, the result once it is done.',
        params: BackgroundTaskParams,
        response: { 200: BackgroundTaskOut, ...errorResponses(404) },
      },
    },
    async (req) => {
      requirePermission(req, 'read');
      const task = await getBackgroundTask(db, req.principal.appId, req.params.task_id);
      if (!task) throw new HeraldError('not_found', `background task ${req.params.task_id} not found`);
      return toBackgroundTaskOut(task);
    },
  );
}
