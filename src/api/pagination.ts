/**
 * Svix-style cursor pagination: `?limit=&iterator=` in, `{ data, iterator, prevIterator, done }` out.
 * Iterators are ids (time-sortable), so a page is an index range scan, never an OFFSET.
 */
import { z } from 'zod';
import { isId, type IdPrefix } from '../core/ids.js';

/**
 * Every character any list's keys are made of: ids (`prefix_` and Crockford base32), event type
 * names (`[A-Za-z0-9._-]`) and operational event numbers; a leading "-" walks back ("-" alone is
 * nothing; no lookahead, so clients generated in any language can use the pattern). Anything else
 * (NUL, control bytes, invalid UTF-8 as decoded, spaces) is no position in any list: a 422, before
 * it reaches a statement (issue 13: a NUL was a PostgreSQL error, answered 500).
 */
const ITERATOR_PATTERN = /^(?:[A-Za-z0-9._]|-[A-Za-z0-9._-])[A-Za-z0-9._-]*$/;

/** What a malformed iterator's 422 says. */
const ITERATOR_HINT = 'an iterator must be a value this list returned as iterator or prevIterator';

/** An empty `iterator=` is the first page, as if absent (what forms and some clients send). */
const emptyAsAbsent = (v: unknown) => (v === '' ? undefined : v);

/**
 * The `iterator` query parameter of a list keyed on anything: a position in the key order, so any
 * well-formed key (e.g. an event type name that does not exist) is a valid position, as in Svix.
 */
export const Iterator = z.preprocess(
  emptyAsAbsent,
  z.string().max(257, `${ITERATOR_HINT} (at most 257 characters)`).regex(ITERATOR_PATTERN, ITERATOR_HINT).nullish(),
);

/**
 * The `iterator` of a list keyed on ids of `prefix`: such an id, or "-" and one. An id of another
 * kind (an endpoint id given to the application list) is refused instead of paging from nowhere.
 */
export function idIterator(prefix: IdPrefix) {
  const hint = `${ITERATOR_HINT} (a ${prefix}_ id, or "-" and one)`;
  return z.preprocess(
    emptyAsAbsent,
    z
      .string()
      .refine((v) => isId(prefix, v.startsWith('-') ? v.slice(1) : v), hint)
      .nullish(),
  );
}

/** Query parameters every list route accepts. */
export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(250).default(50).describe('Most items to return (1-250).'),
  iterator: Iterator.describe('Cursor from a previous page.'),
  order: z.enum(['ascending', 'descending']).optional().describe('Sort order (by creation).'),
});

/** {@link ListQuery} of a list keyed on ids of `prefix` (applications, endpoints, API keys). */
export function listQuery(prefix: IdPrefix) {
  return ListQuery.extend({ iterator: idIterator(prefix).describe('Cursor from a previous page.') });
}

/** List envelopes already made, so each item schema gets one `ListResponse_<Item>_` component. */
const listResponses = new Map<z.ZodType, z.ZodType>();

/**
 * The response envelope of a list, named `ListResponse_<Item>_` as in Svix's document. The item schema
 * must be registered with an id (`.meta({ id })`); its list is made once and shared by every route.
 */
export function listResponse<T extends z.ZodType>(item: T) {
  const make = (id: string) =>
    z
      .object({
        data: z.array(item),
        iterator: z.string().nullable().describe('Cursor of the next page (pass it as `iterator`); null when the page is empty.'),
        prevIterator: z.string().nullable().optional().describe('Cursor of the previous page.'),
        done: z.boolean().describe('True when this is the last page.'),
      })
      .meta({ id: `ListResponse_${id}_` });
  const existing = listResponses.get(item) as ReturnType<typeof make> | undefined;
  if (existing) return existing;
  const id = z.globalRegistry.get(item)?.id;
  if (!id) throw new Error('listResponse: register the item schema with an id first, e.g. .meta({ id: "EndpointOut" })');
  const list = make(id);
  listResponses.set(item, list);
  return list;
}

/**
 * Builds a page from rows fetched with `limit + 1`: the extra row only tells whether more exist.
 * `idOf` gives the cursor of a row.
 */
export function page<R, O>(rows: R[], limit: number, idOf: (r: R) => string, map: (r: R) => O) {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return {
    data: items.map(map),
    iterator: items.length ? idOf(items[items.length - 1]!) : null,
    prevIterator: items.length ? `-${idOf(items[0]!)}` : null,
    done: !more,
  };
}
