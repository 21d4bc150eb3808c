/**
 * `herald keys create|list|revoke`: API keys over the Herald-only `/api/v1/api-key` routes. The full key
 * is printed once, by `create`; lists show only its public prefix.
 */
import type { Command } from 'commander';
import { ok, type Schemas } from '../api-client/index.js';
import { clientFrom, idempotencyHeader, withApiFlags, type ApiFlags } from './api-client.js';
import { run, UsageError } from './exit-codes.js';
import { commaList } from './input.js';
import { note, printJson, printList, withListFlags, type Column, type ListFlags } from './output.js';

/** What a key may do; each permission is needed by the matching kind of request. */
export const PERMISSIONS = ['read', 'create', 'update', 'delete'] as const;

/** An API key as the API lists it (never with the key itself). */
export type ApiKeyOut = Schemas['ApiKeyOut'];

/** One of PERMISSIONS. */
type Permission = Schemas['Permission'];

const COLUMNS: Column<ApiKeyOut>[] = [
  { header: 'id', value: (k) => k.id },
  { header: 'name', value: (k) => k.name },
  { header: 'prefix', value: (k) => k.prefix },
  { header: 'permissions', value: (k) => k.permissions },
  { header: 'app', value: (k) => k.appId ?? 'all' },
  { header: 'created', value: (k) => k.createdAt },
  { header: 'last used', value: (k) => k.lastUsedAt },
];

/** Parses `--permissions read,create` (or `all`). */
function permissionsArg(value: string): Permission[] {
  const list = value.trim() === 'all' ? [...PERMISSIONS] : (commaList(value) ?? []);
  const bad = list.filter((p) => !(PERMISSIONS as readonly string[]).includes(p));
  if (list.length === 0 || bad.length) {
    throw new UsageError(`--permissions takes a comma list of ${PERMISSIONS.join(', ')} (or "all")${bad.length ? `; unknown: ${bad.join(', ')}` : ''}`);
  }
  return [...new Set(list as Permission[])];
}

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('create, list and revoke API keys')
    .addHelpText('after', '\nExit codes: 0 ok, 1 API or network error, 2 usage error.');

  withApiFlags(
    keys
      .command('create')
      .description('create an API key; prints the key (shown only this once)')
      .requiredOption('--name <name>', 'label, e.g. "billing service"')
      .requiredOption('--permissions <list>', `comma list of ${PERMISSIONS.join(', ')}, or "all"`)
      .option('--app <app>', 'scope the key to this one application (id or uid); default: all applications')
      .option('--idempotency-key <key>', 'retrying with the same key creates it once')
      .option('--json', 'print the created key (with the key itself) as JSON')
      .addHelpText('after', '\nExample:\n  export HERALD_TOKEN=$(herald keys create --name ci --permissions read,create --app acme)'),
  ).action(
    run(async (flags: ApiFlags & { name: string; permissions: string; app?: string; idempotencyKey?: string; json?: boolean }) => {
      const body = { name: flags.name, permissions: permissionsArg(flags.permissions), appId: flags.app };
      const k = await ok(clientFrom(flags).api.POST('/api/v1/api-key', { body, headers: idempotencyHeader(flags.idempotencyKey) }));
      if (flags.json) printJson(k);
      else process.stdout.write(`${k.key}\n`);
      note(
        `created API key ${k.id} "${k.name}" (${k.permissions.join(', ')}; ${k.appId ? `application ${k.appId}` : 'all applications'}); store it now: it is not shown again`,
      );
    }),
  );

  withListFlags(withApiFlags(keys.command('list').description('list API keys (without the keys themselves)'))).action(
    run(async (flags: ListFlags & ApiFlags) => {
      const { api } = clientFrom(flags);
      await printList((query) => ok(api.GET('/api/v1/api-key', { params: { query } })), flags, COLUMNS, { noun: 'API keys' });
    }),
  );

  withApiFlags(keys.command('revoke').description('revoke an API key; it stops working at once').argument('<id>', 'key id (key_…)')).action(
    run(async (id: string, flags: ApiFlags) => {
      await ok(clientFrom(flags).api.DELETE('/api/v1/api-key/{key_id}', { params: { path: { key_id: id } } }));
      note(`revoked API key ${id}`);
    }),
  );
}
