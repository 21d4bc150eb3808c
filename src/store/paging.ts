/**
 * Keyset pagination shared by the list queries, with Svix's iterator semantics: the iterator is the
 * last key of the previous page; a leading "-" asks for the page *before* a key (what `prevIterator`
 * holds). Keys are ids (time-sortable) or names, so every page is an index range scan, never an OFFSET.
 */
import { HeraldError } from '../core/errors.js';

/** Which page to read. */
export interface PageRequest {
  /** Most rows to return. */
  limit: number;
  /** Cursor: a key to continue after, or "-key" to go back before it. */
  iterator?: string | null;
  /** Sort order of the listing (by key). Default ascending. */
  order?: 'ascending' | 'descending' | null;
}

/** SQL pieces for one page over `column`; the cursor is bound as parameter `$n`. */
export interface Keyset {
  /** `column > $n` / `column < $n`, or `true` for the first page. */
  where: string;
  /** `column asc` / `column desc`: the scan direction. */
  orderBy: string;
  /** The cursor value to bind as `$n` (null on the first page). */
  cursor: string | null;
  /** True when scanning backwards (a "-" iterator): rows must be reversed before answering. */
  backwards: boolean;
}

/**
 * What no key of any list holds: characters PostgreSQL text cannot store (NUL), other control
 * characters, and lone surrogates (what invalid UTF-8 decodes to). The API's schemas refuse them
 * first; this keeps any other caller's cursor from becoming a database error (a 500) instead.
 */
const NOT_IN_ANY_KEY = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Builds the where/order of a page over `column` (a trusted identifier, never user input). */
export function keyset(column: string, req: PageRequest, n: number): Keyset {
  const descending = req.order === 'descending';
  const raw = req.iterator || null;
  if (raw !== null && NOT_IN_ANY_KEY.test(raw)) {
    const message = 'an iterator must be a value this list returned as iterator or prevIterator';
    throw new HeraldError('validation', message, { fields: [{ path: 'iterator', message, location: 'query' }] });
  }
  const backwards = raw !== null && raw.startsWith('-');
  const cursor = raw === null ? null : backwards ? raw.slice(1) : raw;
  // Walking forward in ascending order, or backward in descending order, both mean "greater keys".
  const greater = descending === backwards;
  return {
    where: cursor === null ? 'true' : `${column} ${greater ? '>' : '<'} $${n}`,
    orderBy: `${column} ${greater ? 'asc' : 'desc'}`,
    cursor,
    backwards,
  };
}

/** A page in Svix's envelope. */
export interface Page<T> {
  /** The items, in the requested order. */
  data: T[];
  /** Pass as `iterator` to get the next page. */
  iterator: string | null;
  /** Pass as `iterator` to get the previous page. */
  prevIterator: string | null;
  /** True when no rows follow this page in the direction walked (Svix: also for backward pages). */
  done: boolean;
}

/**
 * Builds a page from rows fetched with `limit + 1` in the keyset's scan order: the extra row only
 * tells whether more exist. Backward pages are reversed so `data` is always in the requested order.
 */
export function toPage<R, O>(rows: R[], ks: Keyset, limit: number, keyOf: (r: R) => string, map: (r: R) => O): Page<O> {
  const more = rows.length > limit;
  let items = more ? rows.slice(0, limit) : rows;
  if (ks.backwards) items = [...items].reverse();
  const first = items[0];
  const last = items[items.length - 1];
  return {
    data: items.map(map),
    iterator: last !== undefined ? keyOf(last) : null,
    prevIterator: first !== undefined ? `-${keyOf(first)}` : null,
    done: !more,
  };
}

/** Filters every message-based list shares: event types, channel, and a time window. */
export interface MessageWindowFilter {
  /** Only messages of these event types. */
  eventTypes?: string[] | null;
  /** Only messages with this channel. */
  channel?: string | null;
  /** Before this time. */
  before?: Date | null;
  /** After this time. */
  after?: Date | null;
}

/**
 * SQL for {@link MessageWindowFilter} over message alias `m`, with the window on `timeColumn`, using
 * four consecutive parameters from `$first`; pass {@link messageWindowParams} at that position.
 */
export function messageWindowSql(timeColumn: string, first: number): string {
  const [types, channel, before, after] = [first, first + 1, first + 2, first + 3].map((n) => `$${n}`);
  return `(${types}::text[] is null or m.event_type = any(${types})) and (${channel}::text is null or ${channel} = any(m.channels))
       and (${before}::timestamptz is null or ${timeColumn} < ${before}) and (${after}::timestamptz is null or ${timeColumn} > ${after})`;
}

/** The four parameters of {@link messageWindowSql}, in order. */
export function messageWindowParams(f: MessageWindowFilter): [string[] | null, string | null, Date | null, Date | null] {
  return [f.eventTypes?.length ? f.eventTypes : null, f.channel ?? null, f.before ?? null, f.after ?? null];
}
