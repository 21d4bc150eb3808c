/**
 * `herald endpoints list|create|get|update|delete|secret`: an application's endpoints over the API
 * (Svix `/api/v1/app/{app}/endpoint`). `get` shows the breaker, the pause, the delivery policy and the
 * signature profile in force (with the public-key URL for ed25519); `secret` prints the signing
 * secret, for `herald listen --secret`.
 */
import type { Command } from 'commander';
import { generateProfileSecret, type SignatureProfile } from '../core/signature-profile.js';
import { ok, type Schemas } from '../api-client/index.js';
import { clientFrom, idempotencyHeader, withApiFlags, type ApiClient, type ApiFlags } from './api-client.js';
import { metadataArg, policyBody, policyLines, printDetails, withPolicyFlags, type PolicyFlags } from './apps.js';
import {
  checkContractFlags,
  deliveryHeadersBody,
  describeDeliveryHeaders,
  describeProfile,
  needsCurrent,
  signatureBody,
  withContractFlags,
  type ContractFlags,
  type DeliveryHeadersOut,
} from './contract-flags.js';
import { run, UsageError } from './exit-codes.js';
import { commaList } from './input.js';
import { note, printCreated, printJson, printList, withListFlags, type Column, type ListFlags } from './output.js';

/** An endpoint as the API answers it (Svix `EndpointOut` and Herald's extras). */
export type EndpointOut = Schemas['EndpointOut'];

const COLUMNS: Column<EndpointOut>[] = [
  { header: 'id', value: (e) => e.id },
  { header: 'uid', value: (e) => e.uid },
  { header: 'url', value: (e) => e.url },
  { header: 'disabled', value: (e) => (e.disabled ? 'yes' : 'no') },
  { header: 'event types', value: (e) => (e.filterTypes?.length ? e.filterTypes : 'all') },
  { header: 'description', value: (e) => e.description },
];

/** Options of `endpoints create` and `update`. */
interface EndpointFlags extends ApiFlags, PolicyFlags, ContractFlags {
  description?: string;
  eventTypes?: string;
  uid?: string;
  disabled?: boolean;
  secret?: string;
  rateLimit?: string;
  ordering?: string;
  metadata?: string;
  header?: string[];
  idempotencyKey?: string;
  json?: boolean;
}

/** Options of `endpoints update` only. */
interface UpdateFlags extends EndpointFlags {
  newUrl?: string;
  pause?: boolean;
  resume?: boolean;
}

/** `--ordering`, checked here so a typo is a usage error. */
function orderingArg(v: string | undefined): 'parallel' | 'strict' | undefined {
  if (v === undefined || v === 'parallel' || v === 'strict') return v;
  throw new UsageError(`--ordering must be "parallel" or "strict" (got "${v}")`);
}

/** The fields create and update share: the policy flags, with `--rate-limit` kept as the old name of `--throttle-rate`. */
async function settingsBody(flags: EndpointFlags) {
  return {
    description: flags.description,
    filterTypes: commaList(flags.eventTypes),
    uid: flags.uid,
    metadata: await metadataArg(flags.metadata),
    ordering: orderingArg(flags.ordering),
    ...policyBody({ ...flags, throttleRate: flags.throttleRate ?? flags.rateLimit }),
  };
}

/** The state line of `endpoints get`. */
function statusOf(ep: EndpointOut): string {
  if (!ep.disabled) return 'active';
  const held = ep.held ?? 0;
  if (ep.paused) return `paused: ${held} ${held === 1 ? 'delivery' : 'deliveries'} held (resuming sends them in publish order)`;
  return `disabled automatically${ep.disabledReason ? `: ${ep.disabledReason}` : ''} (not sending; enable it, then recover)`;
}

/** The breaker line of `endpoints get`. */
function breakerOf(b: NonNullable<EndpointOut['breaker']>): string {
  const failures = `${b.consecutiveFailures} failed attempt${b.consecutiveFailures === 1 ? '' : 's'} in a row`;
  if (b.state === 'open') return `open until ${b.openUntil} (${failures}; nothing is attempted until then)`;
  if (b.state === 'half-open') return `half-open (${failures}; one probe at a time)`;
  return b.consecutiveFailures > 0 ? `closed (${failures})` : 'closed';
}

/** Where receivers fetch an endpoint's Ed25519 public keys, without a token. */
const publicKeysUrl = (client: ApiClient, id: string) => `${client.baseUrl}/api/v1/public/endpoint/${id}/keys`;

/** Prints one endpoint for people. */
function printEndpoint(ep: EndpointOut, client: ApiClient): void {
  const lines: [string, string][] = [
    ['id', ep.id],
    ['uid', ep.uid ?? '-'],
    ['url', ep.url],
    ['description', ep.description || '-'],
    ['event types', ep.filterTypes?.length ? ep.filterTypes.join(',') : 'all'],
    ['status', statusOf(ep)],
  ];
  if (ep.breaker) lines.push(['breaker', breakerOf(ep.breaker)]);
  if (ep.ordering) lines.push(['ordering', ep.ordering === 'strict' ? 'strict (one at a time, in publish order)' : 'parallel']);
  if (ep.effectivePolicy) lines.push(...policyLines(ep, ep.effectivePolicy));
  if (ep.effectiveSignature) {
    lines.push(['signature', `${describeProfile(ep.effectiveSignature)}${ep.signature == null ? ' (inherited)' : ''}`]);
    if (ep.effectiveSignature.scheme === 'ed25519') lines.push(['public keys', publicKeysUrl(client, ep.id)]);
  }
  if (ep.effectiveDeliveryHeaders) {
    lines.push(['delivery headers', `${describeDeliveryHeaders(ep.effectiveDeliveryHeaders)}${ep.deliveryHeaders == null ? ' (inherited)' : ''}`]);
  }
  printDetails(lines);
}

/**
 * `--secret generate` on update: a secret made here in the form the endpoint's profile after the
 * change needs (e.g. an Ed25519 pair when switching to ed25519), since the API checks a given one.
 */
async function generatedSecret(client: ApiClient, app: string, current: EndpointOut, signature: SignatureProfile | null | undefined): Promise<string> {
  let profile = signature ?? current.effectiveSignature ?? { scheme: 'standard' as const };
  if (signature === null) profile = (await ok(client.api.GET('/api/v1/app/{app_id}', { params: { path: { app_id: app } } }))).signature ?? { scheme: 'standard' };
  return generateProfileSecret(profile).secret;
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
    .description("list, create, show, change and delete an application's endpoints (the URLs webhooks are sent to)")
    .addHelpText('after', '\nExit codes: 0 ok, 1 API or network error, 2 usage error.');

  withListFlags(withApiFlags(endpoints.command('list').description("list an application's endpoints").argument('<app>', 'application id or uid'))).action(
    run(async (app: string, flags: ListFlags & ApiFlags) => {
      const { api } = clientFrom(flags);
      await printList((query) => ok(api.GET('/api/v1/app/{app_id}/endpoint', { params: { path: { app_id: app }, query } })), flags, COLUMNS, { noun: 'endpoints' });
    }),
  );

  const collect = (v: string, all: string[] = []) => [...all, v];
  withApiFlags(
    withContractFlags(
      withPolicyFlags(
        endpoints
          .command('create')
          .description('create an endpoint; prints its id')
          .argument('<app>', 'application id or uid')
          .argument('<url>', 'https:// URL to deliver to (http:// only if the server allows it)')
          .option('--description <text>', 'free text shown in the dashboard')
          .option('--event-types <a,b>', 'only these event types (default: all)')
          .option('--uid <uid>', 'your own id for it')
          .option('--disabled', 'create it paused (deliveries are held until it is resumed)')
          .option('--secret <value>', "signing secret to use, fitting the signature profile (default: Herald generates one); e.g. a customer's existing secret for hmac-sha256"),
        'it',
      ),
      'it',
    )
      .option('--rate-limit <per-second>', 'old name of --throttle-rate')
      .option('--ordering <parallel|strict>', 'strict = one delivery at a time, in publish order (default parallel)')
      .option('--metadata <json|@file>', 'JSON object of string values')
      .option('--header <"Name: value">', 'custom header sent with every delivery; repeatable', collect)
      .option('--idempotency-key <key>', 'retrying with the same key creates it once')
      .option('--json', 'print the created endpoint as JSON')
      .addHelpText(
        'after',
        '\nPolicy and signature settings left out (or `inherit`) come from the application, else the server default.\n' +
          '\nExamples:\n  herald endpoints create acme https://acme.example/hooks --event-types order.paid,order.refunded\n' +
          '  herald endpoints create acme https://erp.example/in --ordering strict --timeout 30s --retry-schedule 1m,5m,30m,2h,24h\n' +
          '  herald endpoints create acme https://legacy.example/in --signature hmac-sha256 --signature-header X-Acme-Signature --secret "$EXISTING_SECRET"',
      ),
  ).action(
    run(async (app: string, url: string, flags: EndpointFlags) => {
      checkContractFlags(flags);
      const body = {
        url,
        ...(await settingsBody(flags)),
        disabled: flags.disabled,
        secret: flags.secret,
        headers: headersArg(flags.header ?? []),
        signature: signatureBody(flags),
        deliveryHeaders: deliveryHeadersBody(flags),
      };
      const client = clientFrom(flags);
      const ep = await ok(client.api.POST('/api/v1/app/{app_id}/endpoint', { params: { path: { app_id: app } }, body, headers: idempotencyHeader(flags.idempotencyKey) }));
      printCreated(ep as unknown as Record<string, unknown>, flags, `created endpoint ${ep.id} → ${ep.url}`);
      if (ep.effectiveSignature?.scheme === 'ed25519') note(`receivers verify with the public key at ${publicKeysUrl(client, ep.id)}`);
    }),
  );

  withApiFlags(
    endpoints
      .command('get')
      .description('show an endpoint: status (paused with deliveries held, or disabled), circuit breaker, the delivery policy and signature profile in force')
      .argument('<app>', 'application id or uid')
      .argument('<endpoint>', 'endpoint id or uid')
      .option('--json', 'print the API answer as JSON'),
  ).action(
    run(async (app: string, endpoint: string, flags: ApiFlags & { json?: boolean }) => {
      const client = clientFrom(flags);
      const ep = await ok(client.api.GET('/api/v1/app/{app_id}/endpoint/{endpoint_id}', { params: { path: { app_id: app, endpoint_id: endpoint } } }));
      if (flags.json) printJson(ep);
      else printEndpoint(ep, client);
    }),
  );

  withApiFlags(
    withContractFlags(
      withPolicyFlags(
        endpoints
          .command('update')
          .description('change the given settings of an endpoint (PATCH); `inherit` puts a policy or signature setting back to the inherited value')
          .argument('<app>', 'application id or uid')
          .argument('<endpoint>', 'endpoint id or uid')
          .option('--new-url <url>', 'new URL to deliver to (--url is where Herald is)')
          .option('--description <text>', 'free text shown in the dashboard')
          .option('--event-types <a,b>', 'only these event types')
          .option('--uid <uid>', 'your own id for it')
          .option('--pause', 'stop sending; new deliveries are held and sent in publish order on --resume')
          .option('--resume', 'send again, starting with the held deliveries'),
        'it',
      ),
      'it',
    )
      .option('--rate-limit <per-second>', 'old name of --throttle-rate')
      .option('--ordering <parallel|strict>', 'strict = one delivery at a time, in publish order')
      .option('--metadata <json|@file>', 'JSON object of string values (replaces the old one)')
      .option('--secret <value|generate>', 'rotate to this secret (24 h grace), or `generate` one here that fits the new profile; printed on stdout')
      .option('--json', 'print the endpoint as JSON')
      .addHelpText(
        'after',
        '\nExamples:\n  herald endpoints update acme ep_2bX... --max-in-flight 4 --timeout 10s --retry-schedule 1m,5m,30m --throttle-rate inherit\n' +
          '  herald endpoints update acme ep_2bX... --signature ed25519 --secret generate   # a whsec_ secret cannot sign ed25519: switch and rotate at once',
      ),
  ).action(
    run(async (app: string, endpoint: string, flags: UpdateFlags) => {
      if (flags.pause && flags.resume) throw new UsageError('--pause and --resume contradict each other; give one');
      checkContractFlags(flags);
      const client = clientFrom(flags);
      const path = { app_id: app, endpoint_id: endpoint };
      const current =
        needsCurrent(flags) || flags.secret === 'generate' ? await ok(client.api.GET('/api/v1/app/{app_id}/endpoint/{endpoint_id}', { params: { path } })) : undefined;
      const signature = signatureBody(flags, current?.signature ?? current?.effectiveSignature);
      const secret = flags.secret === 'generate' ? await generatedSecret(client, app, current!, signature) : flags.secret;
      const body = {
        url: flags.newUrl,
        ...(await settingsBody(flags)),
        disabled: flags.pause ? true : flags.resume ? false : undefined,
        signature,
        deliveryHeaders: deliveryHeadersBody(flags, current?.deliveryHeaders ?? current?.effectiveDeliveryHeaders),
        secret,
      };
      if (Object.values(body).every((v) => v === undefined)) throw new UsageError('nothing to change: give at least one setting (see --help)');
      const ep = await ok(client.api.PATCH('/api/v1/app/{app_id}/endpoint/{endpoint_id}', { params: { path }, body }));
      const generated = flags.secret === 'generate' ? secret : undefined;
      if (flags.json) printJson(generated ? { ...ep, secret: generated } : ep);
      else {
        if (generated) process.stdout.write(`${generated}\n`);
        note(`updated endpoint ${ep.id} → ${ep.url}${generated ? '; the new signing secret is printed above, and the old one stopped if it could not sign under the new profile' : ''}`);
      }
      if (ep.effectiveSignature?.scheme === 'ed25519' && (signature !== undefined || flags.secret)) note(`receivers verify with the public key at ${publicKeysUrl(client, ep.id)}`);
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
      await ok(clientFrom(flags).api.DELETE('/api/v1/app/{app_id}/endpoint/{endpoint_id}', { params: { path: { app_id: app, endpoint_id: endpoint } } }));
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
      const path = { app_id: app, endpoint_id: endpoint };
      const out = await ok(clientFrom(flags).api.GET('/api/v1/app/{app_id}/endpoint/{endpoint_id}/secret', { params: { path } }));
      if (flags.json) printJson(out);
      else process.stdout.write(`${out.key}\n`);
    }),
  );
}
