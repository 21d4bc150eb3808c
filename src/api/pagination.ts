/**
 * Svix-style cursor pagination: `?limit=&iterator=` in, `{ data, iterator, prevIterator, done }` out.
 * Iterators are ids (time-sortable), so a page is an index range scan, never an OFFSET.
 */
import { z } from 'zod';

/** Query parameters every list route accepts. */
export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(250).default(50).describe('Most items to return (1-250).'),
  iterator: z.string().max(256).optional().nullable().describe('Cursor from a previous page.'),
  order: z.enum(['ascending', 'descending']).optional().describe('Sort order (by creation).'),
});

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
