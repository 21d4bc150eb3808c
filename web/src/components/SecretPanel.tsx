/**
 * The signing secret of a webhook: only `•••• abcd` by default; "Reveal" where the operator allows
 * reading secrets and the token may update (issue 3); "Rotate" with the warning that the old secret
 * stops working after its grace period (issue 4). The new secret is made here and shown once.
 */
import { useState } from 'react';
import { errorMessage } from '../lib/api';
import { useApp } from '../lib/context';
import { maskedSecret } from '../lib/format';
import { generateSecret } from '../lib/secret';
import type { EndpointOut } from '../lib/types';
import { CopyButton } from './CopyButton';
import { Dialog } from './Dialog';
import { SecretDialog } from './SecretDialog';

/** Grace periods offered, in seconds (24 h is Herald's default; 0 = at once). */
const GRACE_OPTIONS: { seconds: number; label: string }[] = [
  { seconds: 86_400, label: '24 hours (recommended)' },
  { seconds: 3_600, label: '1 hour' },
  { seconds: 0, label: 'Immediately' },
];

/** The warning shown before a rotation. */
export function rotationWarning(graceSeconds: number): string {
  if (graceSeconds === 0) {
    return 'The current secret stops working immediately: deliveries fail verification until your receiver uses the new secret.';
  }
  const label = GRACE_OPTIONS.find((o) => o.seconds === graceSeconds)?.label.replace(' (recommended)', '') ?? `${graceSeconds} seconds`;
  return `The current secret keeps signing deliveries (as a second signature) for ${label}, then stops working. Update your receiver with the new secret before then.`;
}

/** Secret card. */
export function SecretPanel({ endpointPath, endpoint, onRotated }: { endpointPath: string; endpoint: EndpointOut; onRotated: () => void }) {
  const { client, can, who, toast } = useApp();
  const [grace, setGrace] = useState(86_400);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [newSecret, setNewSecret] = useState<string | null>(null);
  const [revealed, setRevealed] = useState<string | null>(null);
  const canReveal = who.canReadSecrets && can('update');

  const rotate = async () => {
    setBusy(true);
    setError(null);
    const key = generateSecret();
    try {
      await client.post(`${endpointPath}/secret/rotate`, { key, gracePeriodSeconds: grace });
      setConfirming(false);
      setNewSecret(key);
      toast('Signing secret rotated');
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const reveal = async () => {
    try {
      setRevealed((await client.get<{ key: string }>(`${endpointPath}/secret`)).key);
    } catch (e) {
      toast(errorMessage(e), 'bad');
    }
  };

  return (
    <section className="card" aria-labelledby="secret-title">
      <h2 id="secret-title">Signing secret</h2>
      <p>
        <code className="secret-hint" data-testid="secret-hint">
          {maskedSecret(endpoint.secretHint)}
        </code>{' '}
        {canReveal && (
          <button type="button" className="button button-small" onClick={reveal}>
            Reveal
          </button>
        )}
      </p>
      {!who.canReadSecrets && <p className="muted">Secrets are shown once, when created or rotated, and cannot be read again.</p>}
      {can('update') && (
        <>
          <div className="field">
            <label htmlFor="grace">Old secret stops working</label>
            <select id="grace" value={grace} onChange={(e) => setGrace(Number(e.target.value))}>
              {GRACE_OPTIONS.map((o) => (
                <option key={o.seconds} value={o.seconds}>
                  {o.seconds === 0 ? o.label : `After ${o.label}`}
                </option>
              ))}
            </select>
            <p className="field-hint">{rotationWarning(grace)}</p>
          </div>
          <button type="button" className="button" onClick={() => setConfirming(true)}>
            Rotate secret
          </button>
        </>
      )}
      {confirming && (
        <Dialog
          title="Rotate signing secret"
          onClose={() => setConfirming(false)}
          footer={
            <>
              <button type="button" className="button" onClick={() => setConfirming(false)} disabled={busy}>
                Cancel
              </button>
              <button type="button" className="button button-primary" onClick={rotate} disabled={busy}>
                {busy ? 'Rotating…' : 'Rotate secret'}
              </button>
            </>
          }
        >
          <p>A new signing secret replaces the current one for “{endpoint.description || endpoint.url}”.</p>
          <p className="warning">{rotationWarning(grace)}</p>
          {error && (
            <p className="field-error" role="alert">
              {error}
            </p>
          )}
        </Dialog>
      )}
      {newSecret && (
        <SecretDialog
          title="New signing secret"
          secret={newSecret}
          intro={rotationWarning(grace)}
          onDone={() => {
            setNewSecret(null);
            onRotated();
          }}
        />
      )}
      {revealed && (
        <Dialog title="Signing secret" onClose={() => setRevealed(null)}>
          <div className="secret-box">
            <code>{revealed}</code>
            <CopyButton value={revealed} label="Copy secret" />
          </div>
        </Dialog>
      )}
    </section>
  );
}
