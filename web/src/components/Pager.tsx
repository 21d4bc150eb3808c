/**
 * Newer / Older paging over a Svix list: the page's cursor is the last of `cursors` (none on the
 * first page); Older pushes the list's `iterator`, Newer pops. Hidden when there is only one page.
 */

/** Props of Pager. */
export interface PagerProps {
  /** Cursors of the pages walked so far (empty on the first page). */
  cursors: string[];
  /** Sets them. */
  onChange: (cursors: string[]) => void;
  /** The current page, once loaded. */
  page: { iterator: string | null; done: boolean } | null | undefined;
  /** What is paged, for the navigation's name ("deliveries"). */
  what: string;
}

/** Pager below a list. */
export function Pager({ cursors, onChange, page, what }: PagerProps) {
  if (cursors.length === 0 && (!page || page.done)) return null;
  return (
    <nav className="pager" aria-label={`Pages of ${what}`}>
      <button type="button" className="button" disabled={cursors.length === 0} onClick={() => onChange(cursors.slice(0, -1))}>
        Newer
      </button>
      <span>Page {cursors.length + 1}</span>
      <button type="button" className="button" disabled={!page || page.done || !page.iterator} onClick={() => page?.iterator && onChange([...cursors, page.iterator])}>
        Older
      </button>
    </nav>
  );
}
