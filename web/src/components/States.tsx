/**
 * Loading, error and empty states, the same on every page (issue 4: "loading, error and empty states
 * on every page").
 */
import type { ReactNode } from 'react';
import { errorMessage } from '../lib/api';

/** "Loading…" announced to screen readers. */
export function Loading({ what = 'Loading…' }: { what?: string }) {
  return (
    <p className="state state-loading" role="status">
      <span className="spinner" aria-hidden="true" /> {what}
    </p>
  );
}

/** An error with a retry button. */
export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <p>{errorMessage(error)}</p>
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Nothing to show, with an optional action. */
export function Empty({ children, action }: { children: ReactNode; action?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p>{children}</p>
      {action}
    </div>
  );
}
