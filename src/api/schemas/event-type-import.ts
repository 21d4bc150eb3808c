/** Svix's event-type import shapes: `EventTypeImportOpenApiIn` and `EventTypeImportOpenApiOut`. */
import { z } from 'zod';
import { EventTypeName } from './common.js';

/** Svix `EventTypeImportOpenApiIn`. */
export const EventTypeImportOpenApiIn = z
  .object({
    spec: z
      .record(z.string(), z.unknown())
      .nullish()
      .describe('The OpenAPI document, as a JSON object. Give this or specRaw, not both.'),
    specRaw: z
      .string()
      .nullish()
      .describe('The OpenAPI document as text. Herald reads JSON text only: send a YAML document converted to JSON, or parsed, as spec.'),
    replaceAll: z.boolean().default(false).describe('Archive every event type the document does not name.'),
    dryRun: z.boolean().default(false).describe('Answer with what would change, and change nothing.'),
  })
  .meta({ id: 'EventTypeImportOpenApiIn' });

/** Svix `EventTypeFromOpenApi`. */
export const EventTypeFromOpenApiOut = z
  .object({
    name: z.string().describe("The webhook's name, the event type's name."),
    description: z.string().describe("The operation's description (or summary)."),
    schemas: z.record(z.string(), z.unknown()).nullable().describe('{"1": the JSON body schema, references resolved}.'),
    deprecated: z.boolean().describe("The operation's deprecated flag."),
    groupName: EventTypeName.nullable().describe('x-svix-group-name of the operation.'),
    featureFlags: z.array(z.string()).nullable().describe('x-svix-feature-flags of the operation.'),
  })
  .meta({ id: 'EventTypeFromOpenApi' });

/** Svix `EventTypeImportOpenApiOutData`. */
export const EventTypeImportOpenApiOutData = z
  .object({
    modified: z.array(z.string()).describe('Event types created, updated or archived (or that would be, in a dry run).'),
    to_modify: z.array(EventTypeFromOpenApiOut).nullable().describe("The document's event types that differ from the catalogue (a dry run only)."),
  })
  .meta({ id: 'EventTypeImportOpenApiOutData' });

/** Svix `EventTypeImportOpenApiOut`. */
export const EventTypeImportOpenApiOut = z.object({ data: EventTypeImportOpenApiOutData }).meta({ id: 'EventTypeImportOpenApiOut' });
