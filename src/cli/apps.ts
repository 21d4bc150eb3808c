/** `herald apps list|create|delete`: applications (tenants) over the API (Svix `/api/v1/app`). */
import type { Command } from 'commander';
import { clientFrom, seg, withApiFlags, type ApiFlags } from './api-client.js';
import { run, UsageError } from './exit-codes.js';
import { readJsonArg } from './input.js';
import { note, printCreated, printList, withListFlags, type Column, type ListFlags } from './output.js';

/** The fields of Svix `ApplicationOut` the CLI shows. */
export interface ApplicationOut {
  /** app_… */
  id: string;
  /** The caller's own id, if set. */
  uid?: string | null;
  /** Display name. */
  name: string;
  /** Free-form string map. */
  metadata?: Record<string, string>;
  /** Creation time (ISO 8601). */
  createdAt: string;
  /** Last change (ISO 8601). */
  updatedAt?: string;
}

const COLUMNS: Column<ApplicationOut>[] = [
  { header: 'id', value: (a) => a.id },
  { header: 'uid', value: (a) => a.uid },
  { header: 'name', value: (a) => a.name },
  { header: 'created', value: (a) => a.createdAt },
];

/** Parses `--metadata`: a JSON object of string values (Svix metadata). */
export async function metadataArg(value: string | undefined): Promise<Record<string, string> | undefined> {
  if (value === undefined) return undefined;
  const m = await readJsonArg(value, '--metadata');
  if (m === null || typeof m !== 'object' || Array.isArray(m) || Object.values(m).some((v) => typeof v !== 'string')) {
    throw new UsageError('--metadata must be a JSON object of string values, e.g. \'{"plan":"pro"}\'');
  }
  return m as Record<string, string>;
}

export function registerApps(program: Command): void {
  const apps = program
    .command('apps')
    .description('list, create and delete applications (one per customer you send webhooks to)')
    .addHelpText('after', '\nExit codes: 0 ok, 1 API or network error, 2 usage error.');

  withListFlags(withApiFlags(apps.command('list').description('list applications'))).action(
    run(async (flags: ListFlags & ApiFlags) => {
      await printList(clientFrom(flags), '/api/v1/app', flags, COLUMNS, { noun: 'applications' });
    }),
  );

  withApiFlags(
    apps
      .command('create')
      .description('create an application; prints its id')
      .argument('<name>', 'display name')
      .option('--uid <uid>', 'your own id for it (letters, digits, - _ .); usable wherever the id is')
      .option('--metadata <json|@file>', 'JSON object of string values')
      .option('--idempotency-key <key>', 'retrying with the same key creates it once')
      .option('--json', 'print the created application as JSON'),
  ).action(
    run(async (name: string, flags: ApiFlags & { uid?: string; metadata?: string; idempotencyKey?: string; json?: boolean }) => {
      const body = { name, uid: flags.uid, metadata: await metadataArg(flags.metadata) };
      const app = await clientFrom(flags).request<ApplicationOut>('POST', '/api/v1/app', { body, idempotencyKey: flags.idempotencyKey });
      printCreated(app as unknown as Record<string, unknown>, flags, `created application ${app.id} "${app.name}"`);
    }),
  );

  withApiFlags(
    apps.command('delete').description('delete an application with its endpoints, messages and delivery log').argument('<app>', 'application id or uid'),
  ).action(
    run(async (app: string, flags: ApiFlags) => {
      await clientFrom(flags).request('DELETE', `/api/v1/app/${seg(app)}`);
      note(`deleted application ${app}`);
    }),
  );
}
