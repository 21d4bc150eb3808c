/**
 * The Signature and Delivery headers fieldsets of the webhook forms: a preset (Standard Webhooks,
 * Ed25519, two HMAC-SHA256 contracts platforms commonly have) or Custom with every field, or, on a
 * webhook, "Inherit from the application" (not on the application's own form); then the event type and delivery id header names and the
 * User-Agent. Form problems and the API's 422s (`signature.header`…) show beside their field.
 */
import { useState } from 'react';
import {
  chooseSignature,
  deliveryHeadersBody,
  deliveryHeadersDraftOf,
  deliveryHeadersProblems,
  describeDeliveryHeaders,
  profileHeaders,
  profileLabel,
  resolvedProfile,
  SIGNATURE_PRESETS,
  signatureBody,
  signatureDraftOf,
  signatureProblems,
  type DeliveryHeaders,
  type DeliveryHeadersDraft,
  type SignatureChoice,
  type SignatureDraft,
  type SignatureProfile,
} from '../lib/signature';
import { Field } from './Field';

/** What a webhook inherits from its application; undefined while unknown. */
export interface InheritedContract {
  /** The application's profile; null = Standard Webhooks. */
  signature: SignatureProfile | null;
  /** The application's delivery headers; null = none. */
  deliveryHeaders: DeliveryHeaders | null;
}

/** Props of SignatureFields. */
export interface SignatureFieldsProps {
  /** Control id prefix (unique per form). */
  idPrefix: string;
  /** The Signature fields. */
  signature: SignatureDraft;
  /** Called with new Signature fields. */
  onSignature: (value: SignatureDraft) => void;
  /** The Delivery headers fields. */
  headers: DeliveryHeadersDraft;
  /** Called with new Delivery headers fields. */
  onHeaders: (value: DeliveryHeadersDraft) => void;
  /** Offer "Inherit from the application" (webhooks), with what it would inherit where known. */
  inherit?: { from: InheritedContract | undefined };
  /** Form errors by field, the API's included. */
  errors: Record<string, string | undefined>;
}

/** A hint for each choice: what the receiver sees. */
function choiceHint(choice: SignatureChoice, inherited: SignatureProfile | null | undefined): string {
  switch (choice) {
    case 'inherit':
      return inherited === undefined ? 'The application’s profile.' : `The application’s profile: ${profileLabel(inherited ?? { scheme: 'standard' })}.`;
    case 'standard':
      return 'webhook-id, webhook-timestamp and webhook-signature headers; any Standard Webhooks library verifies them.';
    case 'ed25519':
      return 'Standard Webhooks headers with an Ed25519 signature: receivers verify with a public key Herald publishes, and hold no secret.';
    case 'hmac-hex-body':
      return 'The hex HMAC-SHA256 of the raw body, keyed with the secret’s text, in the header you name.';
    case 'hmac-hex-timestamp':
      return 'The hex HMAC-SHA256 of “{timestamp}.{body}”, keyed with the bytes of a hex secret; the timestamp goes in its own header.';
    case 'custom':
      return 'An HMAC-SHA256 contract of your own: every part below.';
  }
}

/** Signature and Delivery headers fieldsets. */
export function SignatureFields({ idPrefix, signature: sig, onSignature, headers, onHeaders, inherit, errors }: SignatureFieldsProps) {
  const problems = signatureProblems(sig);
  const set = (patch: Partial<SignatureDraft>) => onSignature({ ...sig, ...patch });
  const inheritedProfile = inherit?.from?.signature;
  const inForce = resolvedProfile(sig, inheritedProfile);
  const hmac = sig.choice === 'hmac-hex-body' || sig.choice === 'hmac-hex-timestamp' || sig.choice === 'custom';
  const showTimestamp = sig.choice === 'hmac-hex-timestamp' || sig.choice === 'custom';
  const choices = [...(inherit ? (['inherit'] as const) : []), ...(Object.keys(SIGNATURE_PRESETS) as (keyof typeof SIGNATURE_PRESETS)[])];
  const e = (k: string) => errors[`signature.${k}`];
  return (
    <>
      <fieldset className="field policy-fields signature-fields">
        <legend>Signature</legend>
        <p className="field-hint">How Herald signs each delivery, so the receiver can tell it came from Herald. To keep a contract your receivers already verify, pick its preset or Custom.</p>
        <Field id={`${idPrefix}-scheme`} label="Signature scheme" hint={choiceHint(sig.choice, inheritedProfile)} error={errors.signature ?? e('scheme')}>
          <select value={sig.choice} onChange={(ev) => onSignature(chooseSignature(sig, ev.target.value as SignatureChoice))}>
            {choices.map((c) => (
              <option key={c} value={c}>
                {c === 'inherit' ? 'Inherit from the application' : SIGNATURE_PRESETS[c].label}
              </option>
            ))}
          </select>
        </Field>
        {hmac && (
          <div className="policy-grid">
            <Field id={`${idPrefix}-header`} label="Signature header" hint="Carries the digest, e.g. X-Acme-Signature." error={e('header') ?? problems.header}>
              <input type="text" value={sig.header} spellCheck={false} autoComplete="off" onChange={(ev) => set({ header: ev.target.value })} />
            </Field>
            {showTimestamp && (
              <Field
                id={`${idPrefix}-ts-header`}
                label="Timestamp header"
                hint={sig.content === 'timestamp.body' ? 'Carries the signed Unix seconds.' : 'Optional: the Unix seconds, not signed.'}
                error={e('timestampHeader') ?? problems.timestampHeader}
              >
                <input type="text" value={sig.timestampHeader} spellCheck={false} autoComplete="off" onChange={(ev) => set({ timestampHeader: ev.target.value })} />
              </Field>
            )}
            {sig.choice === 'custom' && (
              <>
                <Field id={`${idPrefix}-content`} label="Signed content" error={e('content')}>
                  <select value={sig.content} onChange={(ev) => set({ content: ev.target.value as SignatureDraft['content'] })}>
                    <option value="body">The raw body</option>
                    <option value="timestamp.body">{'{timestamp}.{body}'}</option>
                  </select>
                </Field>
                <Field id={`${idPrefix}-encoding`} label="Digest encoding" error={e('encoding')}>
                  <select value={sig.encoding} onChange={(ev) => set({ encoding: ev.target.value as SignatureDraft['encoding'] })}>
                    <option value="hex">Hex</option>
                    <option value="base64">Base64</option>
                  </select>
                </Field>
                <Field id={`${idPrefix}-key`} label="Key" error={e('key')}>
                  <select value={sig.key} onChange={(ev) => set({ key: ev.target.value as SignatureDraft['key'] })}>
                    <option value="utf8">The secret’s text (UTF-8)</option>
                    <option value="hex">The bytes of a hex secret</option>
                  </select>
                </Field>
              </>
            )}
          </div>
        )}
      </fieldset>
      <DeliveryHeadersFields idPrefix={idPrefix} value={headers} onChange={onHeaders} taken={profileHeaders(inForce)} inherit={inherit} errors={errors} />
    </>
  );
}

function DeliveryHeadersFields({ idPrefix, value, onChange, taken, inherit, errors }: { idPrefix: string; value: DeliveryHeadersDraft; onChange: (v: DeliveryHeadersDraft) => void; taken: string[]; inherit: SignatureFieldsProps['inherit']; errors: SignatureFieldsProps['errors'] }) {
  const problems = deliveryHeadersProblems(value, taken);
  const set = (patch: Partial<DeliveryHeadersDraft>) => onChange({ ...value, ...patch });
  const e = (k: string) => errors[`deliveryHeaders.${k}`];
  const from = inherit?.from;
  return (
    <fieldset className="field policy-fields">
      <legend>Delivery headers</legend>
      <p className="field-hint">Headers a platform’s receivers may already read: the event type, a delivery id (the same on every retry, for de-duplication) and the User-Agent. An empty field is not sent.</p>
      {inherit && (
        <Field
          id={`${idPrefix}-dh-mode`}
          label="Delivery header settings"
          hint={value.own ? 'Only these are sent; the application’s are not used.' : from ? `The application’s: ${describeDeliveryHeaders(from.deliveryHeaders)}.` : 'The application’s.'}
          error={errors.deliveryHeaders}
        >
          <select value={value.own ? 'own' : 'inherit'} onChange={(ev) => set({ own: ev.target.value === 'own' })}>
            <option value="inherit">Inherit from the application</option>
            <option value="own">Set for this webhook</option>
          </select>
        </Field>
      )}
      {!inherit && errors.deliveryHeaders && <p className="field-error">{errors.deliveryHeaders}</p>}
      {value.own && (
        <div className="policy-grid">
          <Field id={`${idPrefix}-dh-event`} label="Event type header" hint="e.g. X-Acme-Event" error={e('eventType') ?? problems.eventType}>
            <input type="text" value={value.eventType} spellCheck={false} autoComplete="off" onChange={(ev) => set({ eventType: ev.target.value })} />
          </Field>
          <Field id={`${idPrefix}-dh-id`} label="Delivery id header" hint="e.g. X-Acme-Delivery" error={e('deliveryId') ?? problems.deliveryId}>
            <input type="text" value={value.deliveryId} spellCheck={false} autoComplete="off" onChange={(ev) => set({ deliveryId: ev.target.value })} />
          </Field>
          <Field id={`${idPrefix}-dh-ua`} label="User-Agent" hint="Empty: Herald’s own." error={e('userAgent') ?? problems.userAgent}>
            <input type="text" value={value.userAgent} spellCheck={false} autoComplete="off" placeholder="Herald-Webhooks/…" onChange={(ev) => set({ userAgent: ev.target.value })} />
          </Field>
        </div>
      )}
    </fieldset>
  );
}

/** Whether the Signature and Delivery headers fields can be sent. */
export function signatureFieldsValid(sig: SignatureDraft, headers: DeliveryHeadersDraft, inherited: SignatureProfile | null | undefined): boolean {
  return Object.keys(signatureProblems(sig)).length === 0 && Object.keys(deliveryHeadersProblems(headers, profileHeaders(resolvedProfile(sig, inherited)))).length === 0;
}

/** A webhook's own signing contract as stored (null fields = inherited). */
interface OwnContract {
  signature?: SignatureProfile | null;
  deliveryHeaders?: DeliveryHeaders | null;
}

/**
 * The state of a webhook form's Signature and Delivery headers fields: the props for
 * SignatureFields, the profile in force (null while it would inherit one not known yet), whether
 * the fields can be sent, and the request fields. With `canInherit: false` (the application's own
 * form) there is no "Inherit" choice: Standard Webhooks and no delivery headers are sent as null.
 */
export function useSignatureForm(own: OwnContract, inherited: InheritedContract | undefined, { canInherit = true }: { canInherit?: boolean } = {}) {
  const [signature, setSignature] = useState(() => signatureDraftOf(own.signature, canInherit));
  const [headers, setHeaders] = useState(() => deliveryHeadersDraftOf(own.deliveryHeaders, canInherit));
  const headersBody = () => {
    const h = deliveryHeadersBody(headers);
    return !canInherit && h && h.eventType === null && h.deliveryId === null && h.userAgent === null ? null : h;
  };
  return {
    fields: { signature, onSignature: setSignature, headers, onHeaders: setHeaders, inherit: canInherit ? { from: inherited } : undefined },
    profile: signature.choice === 'inherit' && !inherited ? null : resolvedProfile(signature, inherited?.signature),
    /** The delivery headers the receiver will see. */
    deliveryHeaders: headers.own ? headersBody() : inherited?.deliveryHeaders,
    valid: signatureFieldsValid(signature, headers, inherited?.signature),
    body: () => ({ signature: !canInherit && signature.choice === 'standard' ? null : signatureBody(signature), deliveryHeaders: headersBody() }),
    /** Back to what the server stored (after a save). */
    reset: (stored: OwnContract) => {
      setSignature(signatureDraftOf(stored.signature, canInherit));
      setHeaders(deliveryHeadersDraftOf(stored.deliveryHeaders, canInherit));
    },
  };
}
