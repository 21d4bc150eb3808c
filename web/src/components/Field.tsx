/**
 * A labelled form field with its hint and error wired to the control through aria-describedby, so
 * API errors appear beside the field they concern (a user fixes the field without hunting for it) and are read out with it.
 */
import { cloneElement, type ReactElement } from 'react';

/** Props of Field. */
export interface FieldProps {
  /** Control id (the label's `for`). */
  id: string;
  /** Visible label. */
  label: string;
  /** Help text under the control. */
  hint?: string;
  /** Error text; marks the control invalid. */
  error?: string | null;
  /** The control: input, select or textarea. */
  children: ReactElement<Record<string, unknown>>;
}

/** Label + control + hint + error. */
export function Field({ id, label, hint, error, children }: FieldProps) {
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, { id, 'aria-describedby': described, 'aria-invalid': error ? true : undefined })}
      {hint && (
        <p className="field-hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** An error that belongs to no one field, announced when it appears. */
export function FormError({ message }: { message?: string | null }) {
  if (!message) return null;
  return (
    <p className="field-error" role="alert">
      {message}
    </p>
  );
}

/** A form's buttons: the primary submit, and Cancel where the form can be left without saving. */
export function FormActions({ submit, disabled, onCancel }: { submit: string; disabled: boolean; onCancel?: () => void }) {
  return (
    <div className="form-actions">
      <button type="submit" className="button button-primary" disabled={disabled}>
        {submit}
      </button>
      {onCancel && (
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      )}
    </div>
  );
}
