/**
 * Short notifications ("Webhook resend is in progress", "Webhook deleted successfully"), announced
 * through an aria-live region and dismissed after a few seconds or by a click.
 */
import { useCallback, useRef, useState, type ReactNode } from 'react';

/** One notification. */
interface Toast {
  id: number;
  message: string;
  tone: 'ok' | 'bad';
}

/** Holds the toast list; `children` receives the function that adds one. */
export function ToastHost({ children }: { children: (toast: (message: string, tone?: 'ok' | 'bad') => void) => ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((list) => list.filter((t) => t.id !== id)), []);
  const toast = useCallback(
    (message: string, tone: 'ok' | 'bad' = 'ok') => {
      const id = next.current++;
      setToasts((list) => [...list.slice(-2), { id, message, tone }]);
      window.setTimeout(() => dismiss(id), tone === 'bad' ? 10_000 : 5_000);
    },
    [dismiss],
  );
  return (
    <>
      {children(toast)}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.tone}`}>
            <span>{t.message}</span>
            <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </>
  );
}
