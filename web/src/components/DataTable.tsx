/**
 * The app's data tables: a scrolling wrapper, a table that stacks into labelled cards on narrow
 * screens, column headers, and, where rows have buttons, a last column whose header ("Actions") only
 * screen readers hear.
 */
import type { ReactNode } from 'react';

/** `<thead>` with the given column labels. */
export function TableHead({ columns, actions = false }: { columns: ReactNode[]; actions?: boolean }) {
  return (
    <thead>
      <tr>
        {columns.map((label, i) => (
          <th scope="col" key={i}>
            {label}
          </th>
        ))}
        {actions && (
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        )}
      </tr>
    </thead>
  );
}

/** Props of DataTable. */
export interface DataTableProps {
  /** Column labels. */
  columns: ReactNode[];
  /** Rows end with an actions cell. */
  actions?: boolean;
  /** Caption for screen readers. */
  caption?: ReactNode;
  /** Note under the table. */
  note?: ReactNode;
  /** data-testid of the table. */
  testId?: string;
  /** The rows. */
  children: ReactNode;
}

/** A responsive table with its header row; `children` are the body rows. */
export function DataTable({ columns, actions, caption, note, testId, children }: DataTableProps) {
  return (
    <div className="table-wrap">
      <table className="table responsive-table" data-testid={testId}>
        {caption && <caption className="visually-hidden">{caption}</caption>}
        <TableHead columns={columns} actions={actions} />
        <tbody>{children}</tbody>
      </table>
      {note && <p className="table-note">{note}</p>}
    </div>
  );
}
