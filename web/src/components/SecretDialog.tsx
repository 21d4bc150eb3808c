/**
 * The one-time display of a signing secret ("Webhook created", or after a rotation): the full secret
 * with a copy button and the warning that it will not be shown again (Herald keeps no way to show it
 * later where reading secrets is off). Closing needs the button, not Esc, so it is not lost by accident.
 */
import { errorMessage, ok, pathKey, type EndpointPath } from '../lib/api';
import { useApp } from '../lib/context';
import { publicKeysUrl } from '../lib/receiver-snippet';
import { useAsync } from '../lib/use-async';
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

/**
 * After an Ed25519 webhook is created or gets a new key: its public key, which receivers verify with.
 * Herald keeps the private key (whsk_…) and never shows it: no receiver needs it. The public key is
 * not secret and stays on the edit page.
 */
export function PublicKeyDialog({ title, intro, endpointPath, endpointId, onDone }: { title: string; intro: string; endpointPath: EndpointPath; endpointId: string; onDone: () => void }) {
  const { client } = useApp();
  const keys = useAsync(() => ok(client.api.GET('/api/v1/app/{app_id}/endpoint/{endpoint_id}/public-key', { params: { path: endpointPath } })), [pathKey(endpointPath)]);
  const key = keys.data?.keys[0]?.key;
  return (
    <Dialog
      title={title}
      onClose={onDone}
      footer={
        <button type="button" className="button button-primary" onClick={onDone}>
          Done
        </button>
      }
    >
      <p>{intro}</p>
      <p className="label-like" id="public-key-label">
        Public key
      </p>
      {key ? (
        <div className="secret-box">
          <code aria-labelledby="public-key-label" data-testid="public-key">
            {key}
          </code>
          <CopyButton value={key} label="Copy public key" />
        </div>
      ) : keys.error ? (
        <p className="field-error">The public key could not be loaded: {errorMessage(keys.error)}. It is shown on the webhook’s edit page.</p>
      ) : (
        <p className="muted">Loading the public key…</p>
      )}
      <p className="field-hint">It is public, not secret: it is shown on the webhook’s edit page at any time and published at {publicKeysUrl(window.location.origin, endpointId)}.</p>
    </Dialog>
  );
}
