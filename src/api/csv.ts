/**
 * CSV writing (RFC 4180) for the exports of the API: cells, lines, and a stream of rows read a page at
 * a time. Receiver responses and error messages end up in these files, so every cell is treated as
 * untrusted text a spreadsheet program will open.
 */

/** A cell's value: text, a number, or empty. */
export type CsvValue = string | number | null | undefined;

/** A cell that starts with one of these is run as a formula by spreadsheet programs (OWASP's list). */
const FORMULA_START = /^[=+\-@\t\r]/;
/** A cell holding one of these must be quoted. */
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV cell: quoted when it holds a quote, comma or line break, quotes doubled. NUL characters are
 * dropped (spreadsheet programs cut a cell, or the whole file, at the first one). Text starting with
 * = + - @ (or tab / CR) gets a leading single quote, so it is shown as text instead of being run as a
 * formula (CSV injection). Numbers are written as they are, a negative one included.
 */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const clean = value.replaceAll('\u0000', '');
  const text = FORMULA_START.test(clean) ? `'${clean}` : clean;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV line, CRLF-terminated as RFC 4180 asks. */
export function csvLine(cells: CsvValue[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/**
 * A CSV document as a stream of text chunks: the header line, then one chunk per page of rows.
 * `pages` yields the rows a page at a time (keyset paging), so a long export holds no transaction and
 * little memory.
 */
export async function* csvDocument<Row>(
  columns: readonly string[],
  pages: AsyncIterable<Row[]>,
  cells: (row: Row) => CsvValue[],
): AsyncGenerator<string> {
  yield csvLine([...columns]);
  for await (const page of pages) {
    if (page.length > 0) yield page.map((row) => csvLine(cells(row))).join('');
  }
}
