/**
 * `herald endpoints list|create|delete|secret`: an application's endpoints over the API (Svix
 * `/api/v1/app/{app}/endpoint`). `secret` prints the signing secret, for `herald listen --secret`.
 */
import type { Command } from 'commander';
import { clientFrom, seg, withApiFlags, type ApiFlags } from './api-client.js';
import { metadataArg } from './apps.js';
import { run, UsageError } from './exit-codes.js';
import { commaList, intArg } from './input.js';
import { note, printCreated, printJson, printList, withListFlags, type Column, type ListFlags } from './output.js';

/** The fields of Svix `EndpointOut` the CLI shows. */
export interface EndpointOut {
  /** ep_… */
  id: string;
  /** The caller's own id, if set. */
  uid?: string | null;
  /** Where deliveries are POSTed. */
  url: string;
  /** Free text. */
  description: string;
  /** True when deliveries are paused (by hand or after repeated failures). */
  disabled?: boolean;
  /** Event types it receives; null or absent = all. */
  filterTypes?: string[] | null;
  /** Creation time (ISO 8601). */
  createdAt: string;
}

const COLUMNS: Column<EndpointOut>[] = [
  { header: 'id', value: (e) => e.id },
  { header: 'uid', value: (e) => e.uid },
  { header: 'url', value: (e) => e.url },
  { header: 'disabled', value: (e) => (e.disabled ? 'yes' : 'no') },
  { header: 'event types', value: (e) => (e.filterTypes?.length ? e.filterTypes : 'all') },
  { header: 'description', value: (e) => e.description },
];

/** Options of `endpoints create`. */
interface CreateFlags extends ApiFlags {
  description?: string;
  eventTypes?: string;
  uid?: string;
  disabled?: boolean;
  secret?: string;
  rateLimit?: string;
  metadata?: string;
  header?: string[];
  idempotencyKey?: string;
  json?: boolean;
}

/** `--header "Name: value"` → { Name: value }. */
function headersArg(values: string[]): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const h of values) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header must look like "Name: value" (got "${h}")`);
    out[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  return out;
}

export function registerEndpoints(program: Command): void {
  const endpoints = program
    .command('endpoints')
    .description("list, create and delete an application's endpoints (the URLs webhooks are sent to)")
    .addHelpText('after', '\nExit codes: 0 ok, 1 API or network error, 2 usage error.');

  withListFlags(withApiFlags(endpoints.command('list').description("list an application's endpoints").argument('<app>', 'application id or uid'))).action(
    run(async (app: string, flags: ListFlags & ApiFlags) => {
      await printList(clientFrom(flags), `/api/v1/app/${seg(app)}/endpoint`, flags, COLUMNS, { noun: 'endpoints' });
    }),
  );

  const collect = (v: string, all: string[] = []) => [...all, v];
  withApiFlags(
    endpoints
      .command('create')
      .description('create an endpoint; prints its id')
      .argument('<app>', 'application id or uid')
      .argument('<url>', 'https:// URL to deliver to (http:// only if the server allows it)')
      .option('--description <text>', 'free text shown in the dashboard')
      .option('--event-types <a,b>', 'only these event types (default: all)')
      .option('--uid <uid>', 'your own id for it')
      .option('--disabled', 'create it paused')
      .option('--secret <whsec>', 'signing secret to use (default: Herald generates one)')
      .option('--rate-limit <per-second>', 'most deliveries per second to it')
      .option('--metadata <json|@file>', 'JSON object of string values')
      .option('--header <"Name: value">', 'custom header sent with every delivery; repeatable', collect)
      .option('--idempotency-key <key>', 'retrying with the same key creates it once')
      .option('--json', 'print the created endpoint as JSON')
      .addHelpText('after', '\nExample:\n  herald endpoints create acme https://acme.example/hooks --event-types order.paid,order.refunded'),
  ).action(
    run(async (app: string, url: string, flags: CreateFlags) => {
      const body = {
        url,
        description: flags.description,
        filterTypes: commaList(flags.eventTypes),
        uid: flags.uid,
        disabled: flags.disabled,
        secret: flags.secret,
        rateLimit: flags.rateLimit === undefined ? undefined : intArg(flags.rateLimit, '--rate-limit', 1, 1_000_000),
        metadata: await metadataArg(flags.metadata),
        headers: headersArg(flags.header ?? []),
      };
      const ep = await clientFrom(flags).request<EndpointOut>('POST', `/api/v1/app/${seg(app)}/endpoint`, {
        body,
        idempotencyKey: flags.idempotencyKey,
      });
      printCreated(ep as unknown as Record<string, unknown>, flags, `created endpoint ${ep.id} → ${ep.url}`);
    }),
  );

  withApiFlags(
    endpoints
      .command('delete')
      .description('delete an endpoint; its pending deliveries are dropped')
      .argument('<app>', 'application id or uid')
      .argument('<endpoint>', 'endpoint id or uid'),
  ).action(
    run(async (app: string, endpoint: string, flags: ApiFlags) => {
      await clientFrom(flags).request('DELETE', `/api/v1/app/${seg(app)}/endpoint/${seg(endpoint)}`);
      note(`deleted endpoint ${endpoint}`);
    }),
  );

  withApiFlags(
    endpoints
      .command('secret')
      .description("print an endpoint's signing secret (needs the update permission; the server may forbid it)")
      .argument('<app>', 'application id or uid')
      .argument('<endpoint>', 'endpoint id or uid')
      .option('--json', 'print { key } as JSON'),
  ).action(
    run(async (app: string, endpoint: string, flags: ApiFlags & { json?: boolean }) => {
      const out = await clientFrom(flags).request<{ key: string }>('GET', `/api/v1/app/${seg(app)}/endpoint/${seg(endpoint)}/secret`);
      if (flags.json) printJson(out);
      else process.stdout.write(`${out.key}\n`);
    }),
  );
}
