/**
 * Loading, error and empty states, the same on every page, so a user can always tell "still loading",
 * "failed" and "nothing here" apart.
 */
import type { ReactNode } from 'react';
import { errorMessage } from '../lib/api';
import type { AsyncState } from '../lib/use-async';

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

/**
 * A page's list while it loads: the loading line until the first result, the error with a retry if
 * that failed, the empty state when there is nothing, and otherwise `children(data)`.
 */
export function AsyncView<T>({ state, loading, isEmpty, empty, emptyAction, children }: {
  /** The load, from useAsync. */
  state: AsyncState<T>;
  /** The loading line. */
  loading: string;
  /** Whether the loaded data has nothing to show. */
  isEmpty: (data: T) => boolean;
  /** Empty-state text and its optional action. */
  empty: ReactNode;
  emptyAction?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (state.loading && !state.data) return <Loading what={loading} />;
  if (state.error && !state.data) return <ErrorState error={state.error} onRetry={state.reload} />;
  if (state.data === undefined || isEmpty(state.data)) return <Empty action={emptyAction}>{empty}</Empty>;
  return <>{children(state.data)}</>;
}
