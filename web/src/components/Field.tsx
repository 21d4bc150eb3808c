/**
 * A labelled form field with its hint and error wired to the control through aria-describedby, so
 * API errors appear beside the field they concern (issue 4) and are read out with it.
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
