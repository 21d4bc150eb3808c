/**
 * `herald apps list|create|get|update|delete`: applications (tenants) over the API (Svix `/api/v1/app`),
 * with `--retention` (how long its delivery log is kept, docs/retention.md). Also the delivery-policy
 * flags and their printing, which `herald endpoints` shares; the signing contract flags are in
 * ./contract-flags.ts.
 */
import type { Command } from 'commander';
import { parseDuration } from '../config.js';
import type { SignatureProfile } from '../core/signature-profile.js';
import { ok, type Schemas } from '../api-client/index.js';
import { clientFrom, idempotencyHeader, withApiFlags, type ApiFlags } from './api-client.js';
import {
  checkContractFlags,
  deliveryHeadersBody,
  describeDeliveryHeaders,
  describeProfile,
  envelopeBody,
  needsCurrent,
  signatureBody,
  withContractFlags,
  withEnvelopeFlags,
  type ContractFlags,
  type DeliveryHeadersOut,
  type EnvelopeFlags,
} from './contract-flags.js';
import { run, UsageError } from './exit-codes.js';
import { intArg, readJsonArg } from './input.js';
import { note, printCreated, printJson, printList, withListFlags, type Column, type ListFlags } from './output.js';

/** The delivery policy in force after inheritance, as the API answers it. */
export type EffectivePolicyOut = Schemas['EffectivePolicyOut'];

/** An application as the API answers it. */
export type ApplicationOut = Schemas['ApplicationOut'];

const COLUMNS: Column<ApplicationOut>[] = [
  { header: 'id', value: (a) => a.id },
  { header: 'uid', value: (a) => a.uid },
  { header: 'name', value: (a) => a.name },
  { header: 'created', value: (a) => a.createdAt },
];

/**
 * The list's retention column, shown when an application of the page sets its own period (`-` = the
 * server's HERALD_RETENTION_PERIOD): a column of dashes only would tell nothing, and tables that
 * scripts already cut by column stay as they were until someone sets one. `--json` always has it.
 */
const RETENTION_COLUMN: Column<ApplicationOut> = { header: 'retention', value: (a) => (a.retentionPeriod == null ? null : `${a.retentionPeriod}d`) };

/** The list's columns for a page of applications. */
export function listColumns(rows: ApplicationOut[]): Column<ApplicationOut>[] {
  return rows.some((a) => a.retentionPeriod != null) ? [...COLUMNS.slice(0, 3), RETENTION_COLUMN, ...COLUMNS.slice(3)] : COLUMNS;
}

/** Parses `--metadata`: a JSON object of string values (Svix metadata). */
export async function metadataArg(value: string | undefined): Promise<Record<string, string> | undefined> {
  if (value === undefined) return undefined;
  const m = await readJsonArg(value, '--metadata');
  if (m === null || typeof m !== 'object' || Array.isArray(m) || Object.values(m).some((v) => typeof v !== 'string')) {
    throw new UsageError('--metadata must be a JSON object of string values, e.g. \'{"plan":"pro"}\'');
  }
  return m as Record<string, string>;
}

/** The word that sends null, i.e. goes back to inheriting the value. */
const INHERIT = 'inherit';

/** Policy flags as typed. */
export interface PolicyFlags {
  /** `--max-in-flight`. */
  maxInFlight?: string;
  /** `--timeout`. */
  timeout?: string;
  /** `--retry-schedule`. */
  retrySchedule?: string;
  /** `--throttle-rate` (or `--rate-limit`). */
  throttleRate?: string;
}

/** Adds the delivery-policy flags (`what` = whose default it is, in the help). */
export function withPolicyFlags(cmd: Command, what: string): Command {
  return cmd
    .option('--max-in-flight <n|inherit>', `most requests in flight at once to ${what}`)
    .option('--timeout <duration|inherit>', `deadline of one attempt to ${what}, e.g. 10s`)
    .option('--retry-schedule <durations|inherit>', 'delays before each retry after the first attempt, e.g. 1m,5m,30m,2h,24h (= 6 attempts)')
    .option('--throttle-rate <per-second|inherit>', `most requests per second to ${what}`);
}

/** A duration with a unit ("10s", "5m"); a bare number is refused (seconds or milliseconds?). */
function durationMs(value: string, flag: string): number {
  const ms = /[a-z]\s*$/i.test(value) ? parseDuration(value) : null;
  if (ms === null) throw new UsageError(`${flag} takes durations with a unit (ms, s, m, h, d), e.g. 10s or 1m,5m,30m; got "${value}"`);
  return ms;
}

/** "1m,5m,30m,2h,24h" → [60, 300, 1800, 7200, 86400] (whole seconds, as the API takes them). */
export function retryScheduleArg(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) throw new UsageError(`--retry-schedule is a comma list of durations, e.g. 1m,5m,30m; got "${value}"`);
  return parts.map((p) => {
    const ms = durationMs(p, '--retry-schedule');
    if (ms < 1000 || ms % 1000 !== 0) throw new UsageError(`--retry-schedule delays are whole seconds, at least 1s; got "${p}"`);
    return ms / 1000;
  });
}

/** The API body fields of the policy flags; `inherit` sends null. Bounds are the server's to check. */
export function policyBody(flags: PolicyFlags): Record<string, number | number[] | null | undefined> {
  const or = <T>(v: string | undefined, parse: (s: string) => T) => (v === undefined ? undefined : v.trim() === INHERIT ? null : parse(v));
  return {
    maxInFlight: or(flags.maxInFlight, (v) => intArg(v, '--max-in-flight', 1, 1_000_000)),
    timeoutMs: or(flags.timeout, (v) => durationMs(v, '--timeout')),
    retrySchedule: or(flags.retrySchedule, retryScheduleArg),
    throttleRate: or(flags.throttleRate, (v) => intArg(v, '--throttle-rate', 1, 65_535)),
  };
}

/** Seconds as people write them: 90 → "90s", 300 → "5m", 7200 → "2h", 0.25 → "250ms". */
export function formatSeconds(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  if (s % 86_400 === 0) return `${s / 86_400}d`;
  if (s % 3_600 === 0) return `${s / 3_600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

/** Lines describing an effective policy against the object's own overrides ("(inherited)" where it has none). */
export function policyLines(own: { maxInFlight?: number | null; timeoutMs?: number | null; retrySchedule?: number[] | null; throttleRate?: number | null }, eff: EffectivePolicyOut): [string, string][] {
  const from = (v: unknown) => (v == null ? ' (inherited)' : '');
  const attempts = eff.retrySchedule.length + 1;
  return [
    ['max in flight', `${eff.maxInFlight}${from(own.maxInFlight)}`],
    ['timeout', `${formatSeconds(eff.timeoutMs / 1000)}${from(own.timeoutMs)}`],
    ['retry schedule', `${eff.retrySchedule.map(formatSeconds).join(',') || 'no retries'} (${attempts} attempt${attempts === 1 ? '' : 's'}${own.retrySchedule == null ? ', inherited' : ''})`],
    ['throttle rate', eff.throttleRate === null ? 'none' : `${eff.throttleRate}/s${from(own.throttleRate)}`],
  ];
}

/** The API's bounds of an application's retention period, in days. */
const RETENTION_DAYS = { min: 1, max: 3_650 };

/** `--retention 30d` → 30 (the API's days); `inherit` → null (the server's HERALD_RETENTION_PERIOD). */
export function retentionArg(value: string): number | null {
  if (value.trim() === INHERIT) return null;
  const ms = durationMs(value, '--retention');
  const days = ms / 86_400_000;
  if (!Number.isInteger(days) || days < RETENTION_DAYS.min || days > RETENTION_DAYS.max) {
    throw new UsageError(`--retention is whole days from ${RETENTION_DAYS.min}d to ${RETENTION_DAYS.max}d (e.g. 30d, or 720h), or inherit; got "${value}"`);
  }
  return days;
}

/** The `get` line of an application's retention period. */
export function retentionLine(days: number | null): [string, string] {
  return ['retention', days == null ? 'server default (HERALD_RETENTION_PERIOD; inherited)' : `${days}d`];
}

/** Prints label/value lines aligned, for `get` commands. */
export function printDetails(lines: [string, string][]): void {
  const width = Math.max(...lines.map(([k]) => k.length));
  process.stdout.write(lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n');
}

/** Options of `apps create` and `apps update`. */
interface AppFlags extends ApiFlags, PolicyFlags, ContractFlags, EnvelopeFlags {
  name?: string;
  uid?: string;
  metadata?: string;
  /** `--retention`. */
  retention?: string;
  idempotencyKey?: string;
  json?: boolean;
}

export function registerApps(program: Command): void {
  const apps = program
    .command('apps')
    .description('list, create, show, change and delete applications (one per customer you send webhooks to)')
    .addHelpText('after', '\nExit codes: 0 ok, 1 API or network error, 2 usage error.');

  withListFlags(withApiFlags(apps.command('list').description('list applications'))).action(
    run(async (flags: ListFlags & ApiFlags) => {
      const { api } = clientFrom(flags);
      await printList((query) => ok(api.GET('/api/v1/app', { params: { query } })), flags, listColumns, { noun: 'applications' });
    }),
  );

  withApiFlags(
    withEnvelopeFlags(
      withContractFlags(
        withPolicyFlags(
          apps
            .command('create')
            .description('create an application; prints its id')
            .argument('<name>', 'display name')
            .option('--uid <uid>', 'your own id for it (letters, digits, - _ .); usable wherever the id is')
            .option('--metadata <json|@file>', 'JSON object of string values')
            .option('--retention <days>', "how long its delivery log is kept, in whole days, e.g. 30d (default: the server's HERALD_RETENTION_PERIOD)"),
          'each of its endpoints (their default)',
        ),
        'its endpoints',
      ),
      'its messages\'',
      false,
    )
      .option('--idempotency-key <key>', 'retrying with the same key creates it once')
      .option('--json', 'print the created application as JSON')
      .addHelpText(
        'after',
        '\nExample (hex HMAC of {timestamp}.{body} with a hex key, as some platforms document it):\n' +
          '  herald apps create Acme --uid acme --signature hmac-sha256 --signature-header X-Acme-Signature \\\n' +
          '    --timestamp-header X-Acme-Timestamp --signed-content timestamp.body --signature-key hex --envelope-file envelope.json',
      ),
  ).action(
    run(async (name: string, flags: AppFlags) => {
      const body = {
        name,
        uid: flags.uid,
        metadata: await metadataArg(flags.metadata),
        retentionPeriod: flags.retention === undefined ? undefined : retentionArg(flags.retention),
        ...policyBody(flags),
        signature: signatureBody(flags),
        deliveryHeaders: deliveryHeadersBody(flags),
        envelope: await envelopeBody(flags),
      };
      const app = await ok(clientFrom(flags).api.POST('/api/v1/app', { body, headers: idempotencyHeader(flags.idempotencyKey) }));
      printCreated(app as unknown as Record<string, unknown>, flags, `created application ${app.id} "${app.name}"`);
    }),
  );

  withApiFlags(apps.command('get').description('show an application, its retention and the delivery policy its endpoints inherit').argument('<app>', 'application id or uid').option('--json', 'print it as JSON')).action(
    run(async (app: string, flags: ApiFlags & { json?: boolean }) => {
      const a = await ok(clientFrom(flags).api.GET('/api/v1/app/{app_id}', { params: { path: { app_id: app } } }));
      if (flags.json) return printJson(a);
      const lines: [string, string][] = [['id', a.id], ['uid', a.uid ?? '-'], ['name', a.name], retentionLine(a.retentionPeriod)];
      if (a.effectivePolicy) lines.push(...policyLines(a, a.effectivePolicy));
      lines.push(['signature', describeProfile(a.signature ?? { scheme: 'standard' })]);
      lines.push(['delivery headers', a.deliveryHeaders ? describeDeliveryHeaders(a.deliveryHeaders) : 'none']);
      lines.push(['envelope', a.envelope ? JSON.stringify(a.envelope) : 'none (payloads are sent as published)']);
      printDetails(lines);
    }),
  );

  withApiFlags(
    withEnvelopeFlags(
      withContractFlags(
        withPolicyFlags(
          apps
            .command('update')
            .description('change the given settings of an application (PATCH); `inherit` puts a policy setting back to the server default')
            .argument('<app>', 'application id or uid')
            .option('--name <name>', 'display name')
            .option('--uid <uid>', 'your own id for it')
            .option('--metadata <json|@file>', 'JSON object of string values (replaces the old one)')
            .option('--retention <days|inherit>', "how long its delivery log is kept, in whole days, e.g. 30d; inherit = the server's HERALD_RETENTION_PERIOD"),
          'each of its endpoints (their default)',
        ),
        'its endpoints',
      ),
      'its messages\'',
      true,
    ).option('--json', 'print the application as JSON'),
  ).action(
    run(async (app: string, flags: AppFlags) => {
      const { api } = clientFrom(flags);
      checkContractFlags(flags);
      const path = { app_id: app };
      const current = needsCurrent(flags) ? await ok(api.GET('/api/v1/app/{app_id}', { params: { path } })) : undefined;
      const body = {
        name: flags.name,
        uid: flags.uid,
        metadata: await metadataArg(flags.metadata),
        retentionPeriod: flags.retention === undefined ? undefined : retentionArg(flags.retention),
        ...policyBody(flags),
        signature: signatureBody(flags, current?.signature),
        deliveryHeaders: deliveryHeadersBody(flags, current?.deliveryHeaders),
        envelope: await envelopeBody(flags),
      };
      if (Object.values(body).every((v) => v === undefined)) throw new UsageError('nothing to change: give at least one setting (see --help)');
      const a = await ok(api.PATCH('/api/v1/app/{app_id}', { params: { path }, body }));
      if (flags.json) printJson(a);
      else note(`updated application ${a.id} "${a.name}"`);
    }),
  );

  withApiFlags(
    apps.command('delete').description('delete an application with its endpoints, messages and delivery log').argument('<app>', 'application id or uid'),
  ).action(
    run(async (app: string, flags: ApiFlags) => {
      await ok(clientFrom(flags).api.DELETE('/api/v1/app/{app_id}', { params: { path: { app_id: app } } }));
      note(`deleted application ${app}`);
    }),
  );
}
