/** Coloured status words: webhook status, attempt status, archived, permissions. */
import type { ReactNode } from 'react';

/** A badge; `tone` picks the colour, the text always carries the meaning (not colour alone). */
export function Badge({ tone, children, title }: { tone: 'ok' | 'bad' | 'warn' | 'muted' | 'info'; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}
