/**
 * How commands print: aligned plain-text tables for people, `--json` for scripts. Data goes to stdout;
 * notes (empty list, "more pages") go to stderr so `--json | jq` and `| wc -l` see only data.
 */
import type { Command } from 'commander';
import { listPages, type ListOptions, type ListPage } from './api-client.js';
import { UsageError } from './exit-codes.js';

/** One column of a table. */
export interface Column<T> {
  /** Header text (printed upper-case). */
  header: string;
  /** The cell's value for a row; null and undefined print as `-`. */
  value: (row: T) => unknown;
}

/** Formats one cell: arrays comma-joined, objects as JSON, missing values as `-`, no line breaks. */
export function cell(v: unknown): string {
  if (v === null || v === undefined || v === '') return '-';
  if (Array.isArray(v)) return v.length ? v.map(cell).join(',') : '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v).replace(/[\r\n\t]+/g, ' ');
}

/** Renders rows as an aligned table with a header line. */
export function renderTable<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (parts: string[]) =>
    parts
      .map((p, i) => (i === parts.length - 1 ? p : p.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/** Prints a value as indented JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes a note for people on stderr. */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** The flags every listing command takes. */
export interface ListFlags {
  /** Print JSON instead of a table. */
  json?: boolean;
  /** Page size, as typed. */
  limit?: string;
  /** Cursor from a previous page. */
  iterator?: string;
  /** Fetch every page. */
  all?: boolean;
}

/** Adds `--json`, `--limit`, `--iterator` and `--all`. */
export function withListFlags(cmd: Command): Command {
  return cmd
    .option('--json', 'print the API response as JSON ({ data, iterator, prevIterator, done })')
    .option('--limit <n>', 'items per page, 1-250', '50')
    .option('--iterator <cursor>', 'start after this cursor (printed at the end of a partial list)')
    .option('--all', 'follow the cursor and print every page');
}

/** Parses the list flags into client options; a bad `--limit` is a usage error. */
export function listOptions(flags: ListFlags): ListOptions {
  const limit = Number(flags.limit ?? '50');
  if (!/^\d+$/.test(String(flags.limit ?? '50')) || limit < 1 || limit > 250) {
    throw new UsageError(`--limit must be a whole number from 1 to 250 (got "${flags.limit}")`);
  }
  return { limit, iterator: flags.iterator, all: flags.all };
}

/**
 * Fetches a list (`page` asks the API for the page at a cursor) and prints it: the API's envelope with
 * `--json`, else a table, a note when it is empty, and the cursor when more pages exist. `columns` may
 * depend on the rows printed (a column shown only when some row has a value for it).
 */
export async function printList<T>(
  page: (query: { limit: number; iterator?: string }) => Promise<ListPage<T>>,
  flags: ListFlags,
  columns: Column<T>[] | ((rows: T[]) => Column<T>[]),
  opts: { noun: string },
): Promise<void> {
  const result = await listPages(listOptions(flags), page);
  if (flags.json) {
    printJson(result);
    return;
  }
  if (result.data.length === 0) {
    note(`no ${opts.noun}`);
    return;
  }
  process.stdout.write(renderTable(result.data, typeof columns === 'function' ? columns(result.data) : columns));
  if (!result.done && result.iterator) note(`more ${opts.noun}: add --iterator ${result.iterator}, or --all`);
}

/**
 * Prints what a create returned: the whole object with `--json`, else only its id on stdout (so
 * `APP=$(herald apps create Acme)` works) and a sentence for people on stderr.
 */
export function printCreated(obj: Record<string, unknown>, flags: { json?: boolean }, sentence: string, idField = 'id'): void {
  if (flags.json) printJson(obj);
  else process.stdout.write(`${cell(obj[idField])}\n`);
  note(sentence);
}
