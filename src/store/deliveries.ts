/**
 * The delivery queue: renew leases and write outcomes (claims are in lanes.ts).
 * A claimed row stays `sending` with `next_attempt_at` = lease expiry, so a worker that dies simply
 * lets the row fall due again; `lease_version` is bumped at each claim so a worker whose lease was
 * taken over cannot overwrite the newer result (every write checks it).
 */
import type { Queryable } from './pool.js';
import type { SignatureProfile } from '../core/signature-profile.js';
import type { DeliveryHeaders } from '../core/delivery-headers.js';
import type { StoredHeaders } from '../core/custom-headers.js';

/** Policy overrides as the claim returns them (null = inherit). */
export interface ClaimedPolicy {
  /** Retry delays in seconds after the first attempt. */
  retryDelays: number[] | null;
  /** Per-attempt deadline in ms. */
  timeoutMs: number | null;
  /** In-flight cap. */
  maxInFlight: number | null;
}

/** A claimed delivery with everything needed to send it but the payload (held once per message). */
export interface ClaimedDelivery {
  /** Row id. */
  id: number;
  /** Owning application. */
  appId: string;
  /** Message id, also the webhook-id header. */
  msgId: string;
  /** Target endpoint. */
  endpointId: string;
  /** Version of the lease this worker holds. */
  leaseVersion: number;
  /** Attempts made so far over the delivery's life. */
  attemptsMade: number;
  /** Attempts made in the current retry run. */
  runAttempts: number;
  /** Whether the next attempt was asked for by a person. */
  nextTrigger: 'scheduled' | 'manual';
  /** A resend of a finished delivery: one attempt, no retries. */
  oneShot: boolean;
  /** Publish time of the message: a strictly ordered lane's position. */
  createdAt: Date;
  /** Event type. */
  eventType: string;
  /** Endpoint URL. */
  url: string;
  /** Endpoint custom headers as stored (values sealed; the worker opens them once per endpoint). */
  headers: StoredHeaders;
  /** Whether the endpoint was disabled meanwhile. */
  endpointDisabled: boolean;
  /** The endpoint delivers one at a time in publish order. */
  strict: boolean;
  /** The endpoint's policy overrides. */
  endpointPolicy: ClaimedPolicy;
  /** The application's policy overrides. */
  appPolicy: ClaimedPolicy;
  /** Signature profile (endpoint's, else the application's); null = standard. */
  signature: SignatureProfile | null;
  /** Delivery header names (endpoint's, else the application's); null = none. */
  deliveryHeaders: DeliveryHeaders | null;
}

/** Extends the leases of deliveries still in flight; returns the ids whose lease this worker still holds. */
export async function renewLeases(
  db: Queryable,
  held: { id: number; leaseVersion: number }[],
  leaseUntil: Date,
): Promise<number[]> {
  if (held.length === 0) return [];
  const { rows } = await db.query<{ id: number | string }>(
    `update delivery d set next_attempt_at = $3
     from unnest($1::bigint[], $2::int[]) as r(id, v)
     where d.id = r.id and d.lease_version = r.v and d.state = 'sending'
     returning d.id`,
    [held.map((h) => h.id), held.map((h) => h.leaseVersion), leaseUntil],
  );
  // int8 ids: Number() reads them alike on any connection, with Herald's int8 parser or without (pool.ts).
  return rows.map((r) => Number(r.id));
}

/** Gives leases back without an attempt (shutdown): the rows are due again at once. */
export async function releaseLeases(db: Queryable, held: { id: number; leaseVersion: number }[], now: Date): Promise<void> {
  if (held.length === 0) return;
  await db.query(
    // least(…, created_at): a strictly ordered lane keeps the delivery at its place in publish order
    `update delivery d set state = 'pending', next_attempt_at = least($3, d.created_at), lease_owner = null
     from unnest($1::bigint[], $2::int[]) as r(id, v)
     where d.id = r.id and d.lease_version = r.v and d.state = 'sending'`,
    [held.map((h) => h.id), held.map((h) => h.leaseVersion), now],
  );
}

/** The attempt row written with an outcome (absent when a delivery is skipped without sending). */
export interface AttemptRecord {
  /** atmpt_… */
  id: string;
  /** 1-based over the delivery's life. */
  attemptNumber: number;
  /** Schedule or person. */
  trigger: 'scheduled' | 'manual';
  /** Where it went. */
  url: string;
  /** Headers sent. */
  requestHeaders: Record<string, string>;
  /** HTTP status, if a response arrived. */
  responseStatus: number | null;
  /** Response headers. */
  responseHeaders: Record<string, string> | null;
  /** Capped response body. */
  responseBody: string | null;
  /** Body was cut. */
  responseTruncated: boolean;
  /** Body or headers held bytes text cannot hold; they were replaced by U+FFFD. */
  responseLossy: boolean;
  /** Duration. */
  durationMs: number;
  /** Failed stage. */
  errorStage: string | null;
  /** What went wrong and what to fix. */
  errorMessage: string | null;
  /** 2xx in time. */
  succeeded: boolean;
  /** Start time. */
  createdAt: Date;
}

/** The next state of one delivery, decided by the worker. */
export interface DeliveryUpdate {
  /** Row id. */
  id: number;
  /** Lease the worker held; the write is refused if it changed. */
  leaseVersion: number;
  /** New state. */
  state: 'pending' | 'succeeded' | 'failed' | 'skipped';
  /** Next due time (retries), else the attempt time. */
  nextAttemptAt: Date;
  /** Attempts over the life. */
  attemptsMade: number;
  /** Attempts in the current run. */
  runAttempts: number;
  /** Latest status. */
  lastStatus: number | null;
  /** Latest error or skip reason. */
  lastError: string | null;
  /** The attempt, if one was made. */
  attempt: AttemptRecord | null;
}

/**
 * Writes a batch of outcomes and their attempts in one statement. Rows whose lease was taken over
 * are left alone (their attempt is not recorded either); returns the ids actually written.
 * Each row travels as one JSON object whose keys are the column names (jsonb_to_recordset), so every
 * column is named once, here, instead of in parallel positional arrays.
 *
 * With `resetHealth` (a batch whose every attempt succeeded) the same statement also restarts the
 * failure count of each endpoint that has a written attempt, which is all {@link applyHealthDeltas}
 * would do for such a batch: the common write is then one statement, needing no transaction.
 */
export async function recordOutcomes(
  db: Queryable,
  updates: DeliveryUpdate[],
  now: Date,
  opts: { resetHealth?: boolean } = {},
): Promise<Set<number>> {
  if (updates.length === 0) return new Set();
  const health = opts.resetHealth
    ? `, health as (
       update endpoint e set consecutive_failures = 0, first_failure_at = null
       where e.consecutive_failures <> 0
         and e.id in (select upd.endpoint_id from upd join r on r.id = upd.id where r.attempt_id is not null)
     )`
    : '';
  const { rows } = await db.query<{ id: number | string }>(
    `with r as (
       select * from jsonb_to_recordset($1::jsonb) as r(
         id bigint, lease_version int, state text, next_at timestamptz, attempts_made int, run_attempts int,
         last_status int, last_error text, attempt_id text, attempt_number int, trigger text, url text,
         request_headers jsonb, response_status int, response_headers jsonb, response_body text,
         response_truncated bool, response_lossy bool, duration_ms int, error_stage text, error_message text,
         succeeded bool, attempted_at timestamptz)
     ), upd as (
       update delivery d set state = r.state, next_attempt_at = r.next_at, attempts_made = r.attempts_made,
         run_attempts = r.run_attempts, last_status = r.last_status, last_error = r.last_error,
         last_attempt_at = coalesce(r.attempted_at, d.last_attempt_at), lease_owner = null,
         next_trigger = 'scheduled', one_shot = (r.state = 'pending' and d.one_shot), updated_at = $2
       from r where d.id = r.id and d.lease_version = r.lease_version and d.state = 'sending'
       returning d.id, d.app_id, d.msg_id, d.endpoint_id
     ), att as (
       insert into attempt (id, delivery_id, app_id, msg_id, endpoint_id, attempt_number, trigger, url, request_headers,
         response_status, response_headers, response_body, response_truncated, response_lossy, duration_ms, error_stage,
         error_message, succeeded, created_at)
       select r.attempt_id, r.id, upd.app_id, upd.msg_id, upd.endpoint_id, r.attempt_number, r.trigger, r.url,
         r.request_headers, r.response_status, r.response_headers, r.response_body, coalesce(r.response_truncated, false),
         coalesce(r.response_lossy, false), r.duration_ms, r.error_stage, r.error_message, r.succeeded, r.attempted_at
       from r join upd on upd.id = r.id where r.attempt_id is not null
     )${health}
     select id from upd`,
    [JSON.stringify(updates.map(outcomeRow)), now],
  );
  return new Set(rows.map((r) => Number(r.id)));
}

/** One row of {@link recordOutcomes}: keys are the recordset's column names. */
function outcomeRow(u: DeliveryUpdate): Record<string, unknown> {
  const a = u.attempt;
  return {
    id: u.id,
    lease_version: u.leaseVersion,
    state: u.state,
    next_at: u.nextAttemptAt,
    attempts_made: u.attemptsMade,
    run_attempts: u.runAttempts,
    last_status: u.lastStatus,
    last_error: u.lastError,
    ...(a && {
      attempt_id: a.id,
      attempt_number: a.attemptNumber,
      trigger: a.trigger,
      url: a.url,
      request_headers: a.requestHeaders,
      response_status: a.responseStatus,
      response_headers: a.responseHeaders,
      response_body: a.responseBody,
      response_truncated: a.responseTruncated,
      response_lossy: a.responseLossy,
      duration_ms: a.durationMs,
      error_stage: a.errorStage,
      error_message: a.errorMessage,
      succeeded: a.succeeded,
      attempted_at: a.createdAt,
    }),
  };
}

/** Per-endpoint summary of a batch's attempts, in attempt order, for the auto-disable counters. */
export interface EndpointHealthDelta {
  /** Endpoint. */
  endpointId: string;
  /** A success happened in the batch: the count restarts from `failures`. */
  reset: boolean;
  /** Failures after the batch's last success (or all of them). */
  failures: number;
  /** First of those failures. */
  firstFailureAt: Date | null;
  /** Latest failure reason. */
  lastError: string | null;
}

/** Updated counters of an endpoint after {@link applyHealthDeltas}. */
export interface EndpointHealthRow {
  /** Endpoint. */
  id: string;
  /** Owning application. */
  appId: string;
  /** Failed attempts in a row. */
  consecutiveFailures: number;
  /** Start of the run. */
  firstFailureAt: Date | null;
  /** Latest failure reason. */
  lastError: string | null;
  /** Already disabled. */
  disabled: boolean;
}

/**
 * Applies a batch's health deltas to endpoint counters. The success path of a healthy endpoint
 * (counter already 0) writes nothing, so busy endpoints do not become hot rows.
 */
export async function applyHealthDeltas(db: Queryable, deltas: EndpointHealthDelta[]): Promise<EndpointHealthRow[]> {
  if (deltas.length === 0) return [];
  const { rows } = await db.query<EndpointHealthRow>(
    `update endpoint e set
       consecutive_failures = case when r.reset then r.failures else e.consecutive_failures + r.failures end,
       first_failure_at = case when r.failures = 0 then null
                               when r.reset or e.first_failure_at is null then r.first_failure_at
                               else e.first_failure_at end,
       last_error = coalesce(r.last_error, e.last_error)
     from unnest($1::text[], $2::bool[], $3::int[], $4::timestamptz[], $5::text[])
       as r(id, reset, failures, first_failure_at, last_error)
     where e.id = r.id and not (r.reset and r.failures = 0 and e.consecutive_failures = 0)
     returning e.id, e.app_id as "appId", e.consecutive_failures as "consecutiveFailures",
       e.first_failure_at as "firstFailureAt", e.last_error as "lastError", e.disabled`,
    [
      deltas.map((d) => d.endpointId),
      deltas.map((d) => d.reset),
      deltas.map((d) => d.failures),
      deltas.map((d) => d.firstFailureAt),
      deltas.map((d) => d.lastError),
    ],
  );
  return rows;
}
