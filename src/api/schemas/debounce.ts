/** The `debounce` settings of an event type (Herald extension; docs/debounce.md). */
import { z } from 'zod';
import { DEFAULT_MAX_DELAY_SECONDS, DEFAULT_QUIET_PERIOD_SECONDS, parsePointer, type DebounceSettings } from '../../core/debounce.js';

/** Longest pointer: a path into a payload, not a document. */
const MAX_POINTER_LENGTH = 256;

/** An RFC 6901 JSON pointer naming a field of the payload. */
const FieldPointer = z
  .string()
  .max(MAX_POINTER_LENGTH)
  .refine((p) => (parsePointer(p)?.length ?? 0) > 0, 'must be a JSON pointer (RFC 6901) to a field of the payload, such as "/agencyId" ("~0" stands for "~", "~1" for "/")');

/** Debounce settings as the API takes them; null or absent = every message is sent at once. */
export const EventTypeDebounce = z
  .object({
    quietPeriodSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(DEFAULT_QUIET_PERIOD_SECONDS)
      .describe('A window is sent this many seconds after its latest change (1 to 86400; default 60).'),
    maxDelaySeconds: z
      .number()
      .int()
      .min(1)
      .max(604_800)
      .default(DEFAULT_MAX_DELAY_SECONDS)
      .describe('...and at the latest this many seconds after its first change, however often changes keep coming (at least quietPeriodSeconds, at most 604800; default 600).'),
    groupBy: FieldPointer.nullish().describe('JSON pointer to the grouping value, e.g. "/agencyId": one consolidated message per group. Absent = one group per application.'),
    entityKey: FieldPointer.describe("JSON pointer to the entity's key, e.g. \"/agentId\": each entity appears once, with its latest state."),
    state: FieldPointer.nullish().describe("JSON pointer to the entity's state, e.g. \"/status\"; absent = the whole payload. Only the fields that changed are sent."),
  })
  .refine((d) => d.maxDelaySeconds >= d.quietPeriodSeconds, { path: ['maxDelaySeconds'], message: 'must be at least quietPeriodSeconds: it caps how long changes wait' })
  .meta({ id: 'EventTypeDebounce' })
  .describe(
    'Herald: debounce this type. Messages published while a window is open (per application and group) are merged, each entity with its latest state, ' +
      'and one consolidated message listing what changed since the last one is sent when the quiet period or the cap passes (docs/debounce.md).',
  );

/** The settings as the API returns them. */
export const EventTypeDebounceOut = z
  .object({
    quietPeriodSeconds: z.number().int().describe('Seconds after the latest change before a window is sent.'),
    maxDelaySeconds: z.number().int().describe('Seconds after the first change by which a window is sent at the latest.'),
    groupBy: z.string().nullable().describe('JSON pointer to the grouping value; null = one group per application.'),
    entityKey: z.string().describe("JSON pointer to the entity's key."),
    state: z.string().nullable().describe("JSON pointer to the entity's state; null = the whole payload."),
  })
  .meta({ id: 'EventTypeDebounceOut' });

/** Body value → stored settings. */
export function debounceInput(d: z.output<typeof EventTypeDebounce> | null | undefined): DebounceSettings | null {
  if (!d) return null;
  return { quietPeriodSeconds: d.quietPeriodSeconds, maxDelaySeconds: d.maxDelaySeconds, groupBy: d.groupBy ?? null, entityKey: d.entityKey, state: d.state ?? null };
}
