/**
 * A modal dialog on the native <dialog> element: the browser traps focus, Esc closes it, and focus
 * returns to the control that opened it. Used for confirmations, the one-time secret, and attempt logs.
 */
import { useEffect, useRef, type ReactNode } from 'react';

/** Props of Dialog. */
export interface DialogProps {
  /** Heading, also the dialog's accessible name. */
  title: string;
  /** Called on Esc, the close button, or a click on the backdrop. */
  onClose: () => void;
  /** Body. */
  children: ReactNode;
  /** Buttons at the bottom. */
  footer?: ReactNode;
  /** Wider layout for logs. */
  wide?: boolean;
  /** Closing by Esc or backdrop is refused (the one-time secret must be acknowledged). */
  requireAction?: boolean;
}

/** Modal dialog shown while mounted. */
export function Dialog({ title, onClose, children, footer, wide, requireAction }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useRef(`dlg-${Math.random().toString(36).slice(2, 9)}`).current;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal();
    return () => {
      dialog.close();
      opener?.focus?.();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className={wide ? 'dialog dialog-wide' : 'dialog'}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        if (!requireAction) onClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current && !requireAction) onClose();
      }}
    >
      <div className="dialog-inner">
        <header className="dialog-header">
          <h2 id={titleId}>{title}</h2>
          {!requireAction && (
            <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
              ×
            </button>
          )}
        </header>
        <div className="dialog-body">{children}</div>
        {footer && <footer className="dialog-footer">{footer}</footer>}
      </div>
    </dialog>
  );
}
