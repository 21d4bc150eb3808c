/**
 * A dialog that asks before one action: Cancel and an action button whose label says while it runs.
 * A failed action leaves the dialog open with the error for the body to show; the action itself closes
 * it on success (test event, recovery, deleting a webhook).
 */
import { useState, type ReactNode } from 'react';
import { errorMessage } from '../lib/api';
import { Dialog } from './Dialog';

/** Props of ActionDialog. */
export interface ActionDialogProps {
  /** Heading. */
  title: string;
  /** Called by Cancel, Esc, the close button or the backdrop. */
  onClose: () => void;
  /** The action; it throws to report an error. */
  run: () => Promise<void>;
  /** Action button label, and its label while the action runs. */
  label: string;
  busyLabel: string;
  /** The action cannot run yet. */
  disabled?: boolean;
  /** A destructive action: red button, and Cancel is locked while it runs. */
  danger?: boolean;
  /** The body, given the error of the last failed run. */
  children: (error: string | null) => ReactNode;
}

/** Confirm-and-run dialog. */
export function ActionDialog({ title, onClose, run, label, busyLabel, disabled = false, danger = false, children }: ActionDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const act = async () => {
    setBusy(true);
    setError(null);
    try {
      await run();
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={title}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose} disabled={danger && busy}>
            Cancel
          </button>
          <button type="button" className={danger ? 'button button-danger' : 'button button-primary'} disabled={disabled || busy} onClick={act}>
            {busy ? busyLabel : label}
          </button>
        </>
      }
    >
      {children(error)}
    </Dialog>
  );
}
