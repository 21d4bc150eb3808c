/**
 * Receiver code for a signature profile, with a Copy button: what a customer pastes to verify
 * deliveries (web/src/lib/receiver-snippet.ts). It holds YOUR_SECRET, never the real secret; for
 * Ed25519 it fetches the public keys from their public URL instead.
 */
import { publicKeysUrl, receiverSnippet } from '../lib/receiver-snippet';
import type { DeliveryHeaders, SignatureProfile } from '../lib/signature';
import { CopyButton } from './CopyButton';

/** Props of ReceiverSnippet. */
export interface ReceiverSnippetProps {
  /** The profile to verify; null = not known yet (shows why instead). */
  profile: SignatureProfile | null;
  /** The delivery headers in force. */
  deliveryHeaders?: DeliveryHeaders | null;
  /** The webhook's id, once it exists (the Ed25519 key URL names it). */
  endpointId?: string;
  /** Shown instead of the code while the profile cannot be used, e.g. a field needs fixing. */
  unavailable?: string;
}

/** "Receiver code" block. */
export function ReceiverSnippet({ profile, deliveryHeaders, endpointId, unavailable }: ReceiverSnippetProps) {
  const keysUrl = publicKeysUrl(window.location.origin, endpointId);
  const code = profile && !unavailable ? receiverSnippet(profile, { deliveryHeaders, publicKeysUrl: keysUrl }) : null;
  return (
    <section className="receiver-snippet" aria-labelledby="receiver-snippet-title">
      <h3 id="receiver-snippet-title">Receiver code (Node.js)</h3>
      {profile?.scheme === 'ed25519' ? (
        <p className="field-hint">
          Receivers verify with the webhook’s public key, published without authentication at <code className="break" data-testid="public-key-url">{keysUrl}</code>
          {!endpointId && ' (its id is known once the webhook is created)'}. No secret is needed.
        </p>
      ) : (
        <p className="field-hint">Replace YOUR_SECRET with the webhook’s signing secret{profile?.scheme === 'hmac-sha256' && profile.key === 'hex' ? ' (a hex string: the key is the bytes it encodes)' : ''}. The code verifies the raw body before parsing it.</p>
      )}
      {code ? (
        <div className="code-block" data-testid="receiver-snippet">
          <pre>{code}</pre>
          <CopyButton value={code} label="Copy code" />
        </div>
      ) : (
        <p className="muted">{unavailable ?? 'The application’s signature profile is not known here; choose a profile to see the code.'}</p>
      )}
    </section>
  );
}
