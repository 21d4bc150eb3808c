/** `herald publish <app> <eventType> <json|@file>`: sends a message (Svix `POST /api/v1/app/{app}/msg`). */
import type { Command } from 'commander';
import { ok } from '../api-client/index.js';
import { clientFrom, idempotencyHeader, withApiFlags, type ApiFlags } from './api-client.js';
import { run, UsageError } from './exit-codes.js';
import { commaList, readJsonArg } from './input.js';
import { note, printJson } from './output.js';

/** Options of `publish`. */
interface PublishFlags extends ApiFlags {
  eventId?: string;
  channels?: string;
  idempotencyKey?: string;
  json?: boolean;
}

export function registerPublish(program: Command): void {
  withApiFlags(
    program
      .command('publish')
      .description("publish a message: Herald delivers it to every endpoint of the application subscribed to its type; prints the message id")
      .argument('<app>', 'application id or uid')
      .argument('<eventType>', 'event type name, e.g. order.paid')
      .argument('<payload>', 'JSON object inline, @file, or @- for stdin')
      .option('--event-id <id>', 'your idempotency key: publishing the same id again sends nothing new')
      .option('--channels <a,b>', 'channels to tag the message with')
      .option('--idempotency-key <key>', 'Idempotency-Key header for this request')
      .option('--json', 'print the created message as JSON')
      .addHelpText(
        'after',
        `
Exit codes: 0 published, 1 API or network error, 2 usage error (e.g. payload is not a JSON object).

Examples:
  herald publish acme order.paid '{"orderId":"o_1","amount":4200}'
  herald publish acme order.paid @order.json --event-id order-o_1-paid
  jq -c . order.json | herald publish acme order.paid @-`,
      ),
  ).action(
    run(async (app: string, eventType: string, payloadArg: string, flags: PublishFlags) => {
      const payload = await readJsonArg(payloadArg, 'payload');
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
        throw new UsageError('payload must be a JSON object ({...}); wrap other values, e.g. {"items": [...]}');
      }
      const body = { eventType, payload: payload as Record<string, unknown>, eventId: flags.eventId, channels: commaList(flags.channels) };
      const params = { path: { app_id: app }, query: { with_content: flags.json ? undefined : false } };
      const msg = await ok(clientFrom(flags).api.POST('/api/v1/app/{app_id}/msg', { params, body, headers: idempotencyHeader(flags.idempotencyKey) }));
      if (flags.json) printJson(msg);
      else process.stdout.write(`${msg.id}\n`);
      note(`published ${msg.id} (${msg.eventType})${msg.eventId ? ` event id ${msg.eventId}` : ''}`);
    }),
  );
}
