/**
 * The one-time display of a signing secret ("Webhook created", or after a rotation): the full secret
 * with a copy button and the warning that it will not be shown again (issue 4; the compliance
 * platform's "Webhook Created" modal). Closing needs the button, not Esc, so it is not lost by accident.
 */
import { CopyButton } from './CopyButton';
import { Dialog } from './Dialog';

/** Props of SecretDialog. */
export interface SecretDialogProps {
  /** Dialog title, e.g. "Webhook created". */
  title: string;
  /** The full secret. */
  secret: string;
  /** Sentence above the secret. */
  intro: string;
  /** Called by the acknowledge button. */
  onDone: () => void;
}

/** Shows a secret once. */
export function SecretDialog({ title, secret, intro, onDone }: SecretDialogProps) {
  return (
    <Dialog
      title={title}
      onClose={onDone}
      requireAction
      footer={
        <button type="button" className="button button-primary" onClick={onDone}>
          OK, I have stored it
        </button>
      }
    >
      <p>{intro}</p>
      <p className="label-like" id="secret-label">
        Signing secret
      </p>
      <div className="secret-box">
        <code aria-labelledby="secret-label" data-testid="full-secret">
          {secret}
        </code>
        <CopyButton value={secret} label="Copy secret" />
      </div>
      <p className="warning" role="note">
        <strong>Store this secret in a safe place now.</strong> It will only be shown once and cannot be retrieved later; lists show only its last four characters.
      </p>
    </Dialog>
  );
}
