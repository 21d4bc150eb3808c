/** `herald event-types list|create|update|delete`: the event type catalogue over the API (Svix `/api/v1/event-type`). */
import type { Command } from 'commander';
import { ok, type Schemas } from '../api-client/index.js';
import { clientFrom, idempotencyHeader, withApiFlags, type ApiFlags } from './api-client.js';
import { envelopeBody, withEnvelopeFlags, type EnvelopeFlags } from './contract-flags.js';
import { run, UsageError } from './exit-codes.js';
import { readJsonArg } from './input.js';
import { note, printCreated, printJson, printList, withListFlags, type Column, type ListFlags } from './output.js';

/** An event type as the API answers it (Svix `EventTypeOut`). */
export type EventTypeOut = Schemas['EventTypeOut'];

const COLUMNS: Column<EventTypeOut>[] = [
  { header: 'name', value: (t) => t.name },
  { header: 'archived', value: (t) => (t.archived ? 'yes' : 'no') },
  { header: 'description', value: (t) => t.description },
];

export function registerEventTypes(program: Command): void {
  const types = program
    .command('event-types')
    .description('list, create, change and delete (archive) event types')
    .addHelpText('after', '\nExit codes: 0 ok, 1 API or network error, 2 usage error.');

  withListFlags(
    withApiFlags(types.command('list').description('list event types').option('--include-archived', 'list archived types too')),
  ).action(
    run(async (flags: ListFlags & ApiFlags & { includeArchived?: boolean }) => {
      const { api } = clientFrom(flags);
      const filter = { include_archived: flags.includeArchived ? true : undefined };
      await printList((page) => ok(api.GET('/api/v1/event-type', { params: { query: { ...filter, ...page } } })), flags, COLUMNS, { noun: 'event types' });
    }),
  );

  withApiFlags(
    withEnvelopeFlags(
      types
        .command('create')
        .description('create an event type; prints its name')
        .argument('<name>', 'letters, digits, "-", "_" and "." only, e.g. order.paid')
        .option('--description <text>', 'what the event means, shown to your customers', '')
        .option('--schema <json|@file>', 'JSON Schema of the payload, stored as Svix schemas {"1": schema}'),
      "this type's (instead of the application's envelope)",
      false,
    )
      .option('--idempotency-key <key>', 'retrying with the same key creates it once')
      .option('--json', 'print the created event type as JSON'),
  ).action(
    run(async (name: string, flags: ApiFlags & EnvelopeFlags & { description: string; schema?: string; idempotencyKey?: string; json?: boolean }) => {
      const schemas = flags.schema === undefined ? undefined : { '1': await readJsonArg(flags.schema, '--schema') };
      const body = { name, description: flags.description, schemas, envelope: await envelopeBody(flags) };
      const t = await ok(clientFrom(flags).api.POST('/api/v1/event-type', { body, headers: idempotencyHeader(flags.idempotencyKey) }));
      printCreated(t as unknown as Record<string, unknown>, flags, `created event type ${t.name}`, 'name');
    }),
  );

  withApiFlags(
    withEnvelopeFlags(
      types
        .command('update')
        .description('change the given settings of an event type (PATCH)')
        .argument('<name>', 'event type name')
        .option('--description <text>', 'what the event means, shown to your customers')
        .option('--schema <json|@file>', 'JSON Schema of the payload, stored as Svix schemas {"1": schema}'),
      "this type's (instead of the application's envelope)",
      true,
    ).option('--json', 'print the event type as JSON'),
  ).action(
    run(async (name: string, flags: ApiFlags & EnvelopeFlags & { description?: string; schema?: string; json?: boolean }) => {
      const schemas = flags.schema === undefined ? undefined : { '1': await readJsonArg(flags.schema, '--schema') };
      const body = { description: flags.description, schemas, envelope: await envelopeBody(flags) };
      if (Object.values(body).every((v) => v === undefined)) throw new UsageError('nothing to change: give at least one setting (see --help)');
      const t = await ok(clientFrom(flags).api.PATCH('/api/v1/event-type/{event_type_name}', { params: { path: { event_type_name: name } }, body }));
      if (flags.json) printJson(t);
      else note(`updated event type ${t.name}`);
    }),
  );

  withApiFlags(
    types
      .command('delete')
      .description('archive an event type (existing subscriptions keep working); --expunge deletes it for good')
      .argument('<name>', 'event type name')
      .option('--expunge', 'delete it instead of archiving'),
  ).action(
    run(async (name: string, flags: ApiFlags & { expunge?: boolean }) => {
      const params = { path: { event_type_name: name }, query: { expunge: flags.expunge ? true : undefined } };
      await ok(clientFrom(flags).api.DELETE('/api/v1/event-type/{event_type_name}', { params }));
      note(`${flags.expunge ? 'deleted' : 'archived'} event type ${name}`);
    }),
  );
}
