/**
 * The top of every page: an optional back link, the h1 (focused after navigation so keyboard and
 * screen-reader users land on the new page), a subtitle, and the page's main actions.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import { Link, takeNavigationFocus } from '../lib/router';

/** Props of PageHeader. */
export interface PageHeaderProps {
  /** The h1. */
  title: ReactNode;
  /** Line under the title. */
  subtitle?: ReactNode;
  /** "Back to …" link. */
  back?: { to: string; label: string };
  /** Buttons on the right. */
  actions?: ReactNode;
}

/** Page heading block. */
export function PageHeader({ title, subtitle, back, actions }: PageHeaderProps) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    // Only after an in-app navigation, not on first load (the browser puts focus at the top then):
    // the link that was activated is gone, and focus would otherwise fall back to <body>.
    if (takeNavigationFocus()) h1.current?.focus({ preventScroll: true });
  }, []);
  return (
    <div className="page-header">
      {back && (
        <Link className="back-link" to={back.to}>
          <span aria-hidden="true">‹</span> {back.label}
        </Link>
      )}
      <div className="page-header-row">
        <div>
          <h1 ref={h1} tabIndex={-1}>
            {title}
          </h1>
          {subtitle && <div className="page-subtitle">{subtitle}</div>}
        </div>
        {actions && <div className="page-actions">{actions}</div>}
      </div>
    </div>
  );
}
