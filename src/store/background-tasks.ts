/**
 * Background tasks (migration 0008): created by the API, run by a BackgroundTaskRunner in any Herald
 * process that takes the task's lease, polled by clients until finished or failed.
 */
import type { Queryable } from './pool.js';
import type { PagePosition } from './attempts.js';

/** Svix BackgroundTaskType values Herald runs. */
export type BackgroundTaskType = 'endpoint.recover' | 'endpoint.replay' | 'endpoint.bulk-replay' | 'application.stats' | 'event-type.aggregate';
/** Svix BackgroundTaskStatus. */
export type BackgroundTaskStatus = 'running' | 'finished' | 'failed';

/** A stored task. */
export interface BackgroundTaskRow {
  /** qtask_… */
  id: string;
  /** Application the task works on (null for one over many). */
  appId: string | null;
  /** Endpoint the task works on, or null. */
  endpointId: string | null;
  /** What it does. */
  task: BackgroundTaskType;
  /** running, finished or failed. */
  status: BackgroundTaskStatus;
  /** The request's parameters. */
  params: Record<string, unknown>;
  /** Progress and result. */
  data: Record<string, unknown>;
  /** Where the next batch starts, or null. */
  cursor: Record<string, unknown> | null;
  /** Times a process started or resumed it. */
  runs: number;
  /** When it was asked for. */
  createdAt: Date;
  /** Last change. */
  updatedAt: Date;
}

/** The select list of a task row, its columns qualified with `t` when given ("t."). */
const columns = (t = '') =>
  `${t}id, ${t}app_id as "appId", ${t}endpoint_id as "endpointId", ${t}task, ${t}status, ${t}params, ${t}data, ${t}cursor,
  ${t}runs, ${t}created_at as "createdAt", ${t}updated_at as "updatedAt"`;
const COLUMNS = columns();

/** A task to create. */
export interface NewBackgroundTask {
  /** qtask_… */
  id: string;
  /** Application, or null. */
  appId: string | null;
  /** Endpoint, or null. */
  endpointId: string | null;
  /** Type. */
  task: BackgroundTaskType;
  /** Parameters. */
  params: Record<string, unknown>;
  /** First data (e.g. a count known up front). */
  data: Record<string, unknown>;
  /** Creation time. */
  now: Date;
  /** Created already leased to this runner (it runs the task at once), or free for any. */
  lease?: { owner: string; until: Date } | null;
}

/** Stores a new running task: leased to the runner that will run it now, or free for the first to look. */
export async function insertBackgroundTask(db: Queryable, t: NewBackgroundTask): Promise<BackgroundTaskRow> {
  const { rows } = await db.query<BackgroundTaskRow>(
    `insert into background_task (id, app_id, endpoint_id, task, status, params, data, created_at, updated_at, lease_owner, lease_until, runs)
     values ($1, $2, $3, $4, 'running', $5, $6, $7, $7, $8, $9, case when $8::text is null then 0 else 1 end) returning ${COLUMNS}`,
    [t.id, t.appId, t.endpointId, t.task, JSON.stringify(t.params), JSON.stringify(t.data), t.now, t.lease?.owner ?? null, t.lease?.until ?? null],
  );
  return rows[0]!;
}

/** One task, limited to one application when `appId` is given (a scoped token). */
export async function getBackgroundTask(db: Queryable, appId: string | null, id: string): Promise<BackgroundTaskRow | null> {
  const { rows } = await db.query<BackgroundTaskRow>(
    `select ${COLUMNS} from background_task where id = $1 and ($2::text is null or app_id = $2)`,
    [id, appId],
  );
  return rows[0] ?? null;
}

/** Filters of the task list. */
export interface BackgroundTaskFilter {
  /** Only this application's tasks (a scoped token), or every one. */
  appId: string | null;
  /** Only tasks in this status. */
  status: BackgroundTaskStatus | null;
  /** Only tasks of this type. */
  task: BackgroundTaskType | null;
  /** Oldest first instead of newest first. */
  ascending: boolean;
}

/**
 * One page of tasks (`limit + 1` rows, for `done`), newest first unless ascending; keyset on
 * (created_at, id) from the cursor's id, in the direction the page position asks for.
 */
export async function listBackgroundTasks(db: Queryable, f: BackgroundTaskFilter, ks: PagePosition): Promise<BackgroundTaskRow[]> {
  // A "prev" page reads toward the start of the list: the opposite way, turned back by the caller.
  const forward = ks.direction === 'next' ? !f.ascending : f.ascending;
  const cmp = forward ? '<' : '>';
  const dir = forward ? 'desc' : 'asc';
  const { rows } = await db.query<BackgroundTaskRow>(
    `select ${COLUMNS} from background_task
     where ($1::text is null or app_id = $1) and ($2::text is null or status = $2) and ($3::text is null or task = $3)
       and ($4::text is null or (created_at, id) ${cmp} (select c.created_at, c.id from background_task c where c.id = $4))
     order by created_at ${dir}, id ${dir} limit $5`,
    [f.appId, f.status, f.task, ks.cursor, ks.limit + 1],
  );
  return rows;
}

/**
 * Takes the lease of one running task nobody holds (never leased, or its lease expired: the process
 * died or stalled), oldest first; `id` narrows it to one task. SKIP LOCKED: two runners never take
 * the same task. Returns the task with its run counted, or null.
 */
export async function claimBackgroundTask(
  db: Queryable,
  owner: string,
  now: Date,
  leaseMs: number,
  id: string | null = null,
): Promise<BackgroundTaskRow | null> {
  const { rows } = await db.query<BackgroundTaskRow>(
    `with free as (
       select id from background_task
       where status = 'running' and (lease_until is null or lease_until < $2) and ($4::text is null or id = $4)
       order by created_at limit 1 for update skip locked
     )
     update background_task t set lease_owner = $1, lease_until = $2::timestamptz + $3 * interval '1 millisecond', runs = t.runs + 1
     from free where t.id = free.id returning ${columns('t.')}`,
    [owner, now, leaseMs, id],
  );
  return rows[0] ?? null;
}

/**
 * Records a batch's progress and extends the lease, in the transaction of the batch's own changes;
 * false when this owner no longer holds the task (another process took it over), and the caller must
 * then roll the batch back.
 */
export async function saveTaskProgress(
  db: Queryable,
  id: string,
  owner: string,
  p: { data: Record<string, unknown>; cursor: Record<string, unknown> | null; now: Date; leaseMs: number },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `update background_task set data = $3, cursor = $4, updated_at = $5, lease_until = $5::timestamptz + $6 * interval '1 millisecond'
     where id = $1 and lease_owner = $2 and status = 'running'`,
    [id, owner, JSON.stringify(p.data), p.cursor === null ? null : JSON.stringify(p.cursor), p.now, p.leaseMs],
  );
  return rowCount === 1;
}

/** Ends a task (finished or failed) with its final data and releases the lease; false if not this owner's. */
export async function endBackgroundTask(
  db: Queryable,
  id: string,
  owner: string,
  status: 'finished' | 'failed',
  data: Record<string, unknown>,
  now: Date,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `update background_task set status = $3, data = $4, updated_at = $5, lease_owner = null, lease_until = null
     where id = $1 and lease_owner = $2 and status = 'running'`,
    [id, owner, status, JSON.stringify(data), now],
  );
  return rowCount === 1;
}

/** Gives a task's lease back (its runner is stopping), so another process can resume it at once. */
export async function releaseBackgroundTask(db: Queryable, id: string, owner: string): Promise<void> {
  await db.query(`update background_task set lease_owner = null, lease_until = null where id = $1 and lease_owner = $2`, [id, owner]);
}
