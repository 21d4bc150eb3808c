/**
 * The signing secret of a webhook: only `•••• abcd` by default; "Reveal" where the operator allows
 * reading secrets and the token may update; "Rotate" with the warning that the old secret
 * stops working after its grace period. The new secret is made here, in the form the
 * webhook's signature profile signs with, and shown once. An Ed25519 webhook's private key is never
 * shown (Herald makes it; receivers need only the public key, shown after the rotation).
 */
import { useState } from 'react';
import { errorMessage, ok, type EndpointPath } from '../lib/api';
import { useApp } from '../lib/context';
import { maskedSecret } from '../lib/format';
import { secretForProfile } from '../lib/secret';
import type { EndpointOut, SignatureProfile } from '../lib/types';
import { CopyButton } from './CopyButton';
import { Dialog } from './Dialog';
import { PublicKeyDialog, SecretDialog } from './SecretDialog';

/** Grace periods offered, in seconds (24 h is Herald's default; 0 = at once). */
const GRACE_OPTIONS: { seconds: number; label: string }[] = [
  { seconds: 86_400, label: '24 hours (recommended)' },
  { seconds: 3_600, label: '1 hour' },
  { seconds: 0, label: 'Immediately' },
];

/** The warning shown before a rotation; an HMAC-SHA256 header holds one digest, so the switch there is at the end of the grace period. */
export function rotationWarning(graceSeconds: number, scheme: SignatureProfile['scheme'] = 'standard'): string {
  const what = scheme === 'ed25519' ? 'key' : 'secret';
  if (graceSeconds === 0) {
    return `The current ${what} stops working immediately: deliveries fail verification until your receiver uses the new ${scheme === 'ed25519' ? 'public key' : 'secret'}.`;
  }
  const label = GRACE_OPTIONS.find((o) => o.seconds === graceSeconds)?.label.replace(' (recommended)', '') ?? `${graceSeconds} seconds`;
  if (scheme === 'hmac-sha256') {
    return `Deliveries stay signed with the current secret for ${label}, then with the new one only. Let your receiver accept both secrets before then.`;
  }
  if (scheme === 'ed25519') {
    return `The current key keeps signing deliveries (as a second signature) for ${label}, then stops working. Give your receiver the new public key before then.`;
  }
  return `The current secret keeps signing deliveries (as a second signature) for ${label}, then stops working. Update your receiver with the new secret before then.`;
}

/** Secret card. */
export function SecretPanel({ endpointPath, endpoint, onRotated }: { endpointPath: EndpointPath; endpoint: EndpointOut; onRotated: () => void }) {
  const { client, can, who, toast } = useApp();
  const [grace, setGrace] = useState(86_400);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [newSecret, setNewSecret] = useState<string | null>(null);
  const [revealed, setRevealed] = useState<string | null>(null);
  const [newKey, setNewKey] = useState(false);
  const scheme = endpoint.effectiveSignature?.scheme ?? 'standard';
  // An Ed25519 private key is Herald's alone: nobody needs to read it back.
  const canReveal = who.canReadSecrets && can('update') && scheme !== 'ed25519';

  const rotate = async () => {
    setBusy(true);
    setError(null);
    try {
      // Ed25519: Herald makes the pair, and the public key is what gets shown.
      const key = scheme === 'ed25519' ? null : await secretForProfile(endpoint.effectiveSignature ?? { scheme: 'standard' });
      await ok(client.api.POST('/api/v1/app/{app_id}/endpoint/{endpoint_id}/secret/rotate', { params: { path: endpointPath }, body: { ...(key ? { key } : {}), gracePeriodSeconds: grace } }));
      setConfirming(false);
      if (key) setNewSecret(key);
      else setNewKey(true);
      toast(scheme === 'ed25519' ? 'Signing key rotated' : 'Signing secret rotated');
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const reveal = async () => {
    try {
      setRevealed((await ok(client.api.GET('/api/v1/app/{app_id}/endpoint/{endpoint_id}/secret', { params: { path: endpointPath } }))).key);
    } catch (e) {
      toast(errorMessage(e), 'bad');
    }
  };

  return (
    <section className="card" aria-labelledby="secret-title">
      <h2 id="secret-title">{scheme === 'ed25519' ? 'Signing key' : 'Signing secret'}</h2>
      {/* Not even the end of an Ed25519 private key is shown: the public key identifies it. */}
      {scheme !== 'ed25519' && (
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
      )}
      {scheme === 'ed25519' ? (
        <p className="muted">Herald keeps this webhook’s Ed25519 private key and never shows it; receivers verify with the public key under Signature.</p>
      ) : (
        !who.canReadSecrets && <p className="muted">Secrets are shown once, when created or rotated, and cannot be read again.</p>
      )}
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
            <p className="field-hint">{rotationWarning(grace, scheme)}</p>
          </div>
          <button type="button" className="button" onClick={() => setConfirming(true)}>
            {scheme === 'ed25519' ? 'Rotate key' : 'Rotate secret'}
          </button>
        </>
      )}
      {confirming && (
        <Dialog
          title={scheme === 'ed25519' ? 'Rotate signing key' : 'Rotate signing secret'}
          onClose={() => setConfirming(false)}
          footer={
            <>
              <button type="button" className="button" onClick={() => setConfirming(false)} disabled={busy}>
                Cancel
              </button>
              <button type="button" className="button button-primary" onClick={rotate} disabled={busy}>
                {busy ? 'Rotating…' : scheme === 'ed25519' ? 'Rotate key' : 'Rotate secret'}
              </button>
            </>
          }
        >
          <p>
            A new signing {scheme === 'ed25519' ? 'key' : 'secret'} replaces the current one for “{endpoint.description || endpoint.url}”.
          </p>
          <p className="warning">{rotationWarning(grace, scheme)}</p>
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
          intro={rotationWarning(grace, scheme)}
          onDone={() => {
            setNewSecret(null);
            onRotated();
          }}
        />
      )}
      {newKey && (
        <PublicKeyDialog
          title="New signing key"
          intro={rotationWarning(grace, scheme)}
          endpointPath={endpointPath}
          endpointId={endpoint.id}
          onDone={() => {
            setNewKey(false);
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
