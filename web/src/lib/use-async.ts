/**
 * Loading data for a page: `{ data, error, loading, reload }`, with optional polling while the tab is
 * visible (the delivery history shows new attempts without a reload). A newer load always
 * wins over an older one that finishes late.
 */
import { useCallback, useEffect, useRef, useState } from 'react';

/** State of an async load. */
export interface AsyncState<T> {
  /** Latest successful result (kept while reloading, so the page does not flash). */
  data: T | undefined;
  /** Error of the latest load, if it failed. */
  error: unknown;
  /** True until the first load finishes, and during an explicit reload. */
  loading: boolean;
  /** Loads again now. */
  reload: () => void;
}

/** Runs `load` when `deps` change, and every `pollMs` while the page is visible when given. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[], opts: { pollMs?: number } = {}): AsyncState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const seq = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback((quiet: boolean) => {
    const mine = ++seq.current;
    if (!quiet) setState((s) => ({ ...s, loading: true }));
    loadRef.current().then(
      (data) => mine === seq.current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => mine === seq.current && setState((s) => ({ data: quiet ? s.data : undefined, error, loading: false })),
    );
  }, []);

  useEffect(() => {
    setState({ data: undefined, error: undefined, loading: true });
    run(true);
    if (!opts.pollMs) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') run(true);
    }, opts.pollMs);
    return () => window.clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, opts.pollMs]);

  const reload = useCallback(() => run(false), [run]);
  return { ...state, reload };
}
