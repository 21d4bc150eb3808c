/**
 * The signature in force on a webhook's edit page (dashboard and portal): the profile and delivery
 * headers as Herald sends them, saying when they come from the application; for Ed25519 the public
 * key(s) receivers verify with, each with a Copy button, and the public URL that lists them.
 */
import { errorMessage, ok, pathKey, type EndpointPath } from '../lib/api';
import { useApp } from '../lib/context';
import { formatDateTime } from '../lib/format';
import { publicKeysUrl } from '../lib/receiver-snippet';
import { describeDeliveryHeaders, describeProfile, profileLabel } from '../lib/signature';
import type { EndpointOut } from '../lib/types';
import { useAsync } from '../lib/use-async';
import { CopyButton } from './CopyButton';
import { ReceiverSnippet } from './ReceiverSnippet';

/** Props of SignatureSummary. */
export interface SignatureSummaryProps {
  /** The webhook's API path. */
  endpointPath: EndpointPath;
  /** The webhook. */
  endpoint: EndpointOut;
  /** Show the receiver code here (when the settings form, which has its own, is not shown). */
  withSnippet: boolean;
}

const inheritedNote = <span className="muted"> (inherited from the application)</span>;

/** "Signature" card. */
export function SignatureSummary({ endpointPath, endpoint, withSnippet }: SignatureSummaryProps) {
  const profile = endpoint.effectiveSignature;
  if (!profile) return null; // a server without signature profiles
  return (
    <section className="card delivery-state" aria-labelledby="signature-title" data-testid="effective-signature">
      <h2 id="signature-title">Signature</h2>
      <dl className="facts">
        <div className="fact-wide">
          <dt>Profile in force</dt>
          <dd>
            <strong>{profileLabel(profile)}</strong>
            {endpoint.signature == null && inheritedNote}
            <br />
            <span className="muted">{describeProfile(profile)}</span>
          </dd>
        </div>
        <div className="fact-wide">
          <dt>Delivery headers</dt>
          <dd>
            {describeDeliveryHeaders(endpoint.effectiveDeliveryHeaders)}
            {endpoint.deliveryHeaders == null && inheritedNote}
          </dd>
        </div>
        {profile.scheme === 'ed25519' && <PublicKeys endpointPath={endpointPath} endpoint={endpoint} />}
      </dl>
      {withSnippet && <ReceiverSnippet profile={profile} deliveryHeaders={endpoint.effectiveDeliveryHeaders} endpointId={endpoint.id} />}
    </section>
  );
}

function PublicKeys({ endpointPath, endpoint }: { endpointPath: EndpointPath; endpoint: EndpointOut }) {
  const { client } = useApp();
  // Loaded again whenever the webhook is (after a save or a rotation).
  const keys = useAsync(() => ok(client.api.GET('/api/v1/app/{app_id}/endpoint/{endpoint_id}/public-key', { params: { path: endpointPath } })), [pathKey(endpointPath), endpoint]);
  const url = publicKeysUrl(window.location.origin, endpoint.id);
  return (
    <div className="fact-wide" data-testid="public-keys">
      <dt>Public key</dt>
      <dd>
        {keys.error ? (
          <span className="field-error">The public key could not be loaded: {errorMessage(keys.error)}</span>
        ) : !keys.data ? (
          <span className="muted">Loading…</span>
        ) : keys.data.keys.length === 0 ? (
          <span className="muted">None yet: rotate the secret to make an Ed25519 key.</span>
        ) : (
          <ul className="key-list">
            {keys.data.keys.map((k) => (
              <li key={k.key} className="secret-box">
                <code>{k.key}</code>
                {k.expiresAt && <span className="muted-on-dark">until {formatDateTime(k.expiresAt)}</span>}
                <CopyButton value={k.key} label="Copy public key" />
              </li>
            ))}
          </ul>
        )}
        <p className="field-hint">
          Also listed, without authentication, at <code className="break">{url}</code> <CopyButton value={url} label="Copy URL" className="button button-tiny" />
        </p>
      </dd>
    </div>
  );
}
