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

/** The response envelope of a list, as a zod schema (for the OpenAPI document). */
export function listResponse<T extends z.ZodTypeAny>(item: T) {
  return z.object({
    data: z.array(item),
    iterator: z.string().nullable(),
    prevIterator: z.string().nullable().optional(),
    done: z.boolean(),
  });
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
