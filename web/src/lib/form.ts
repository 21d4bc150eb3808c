/**
 * What every form shares: API field errors mapped onto the form's fields, and the submit handler that
 * marks the form busy, clears old errors and shows new ones beside their fields.
 */
import { useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from './api';

/** Form errors by field; '' holds what belongs to no field. */
export type FormErrors = Record<string, string>;

/** API field names that forms call otherwise. */
const RENAMED: Record<string, string> = { filterTypes: 'eventTypes', description: 'name', timeoutMs: 'timeout', rateLimit: 'throttleRate' };
/** Object fields whose parts show their errors beside their own controls (`signature.header`). */
const NESTED = ['signature', 'deliveryHeaders'];
/** Fields forms show errors beside. */
const KNOWN_FIELDS = [
  'url', 'name', 'uid', 'alertEmail', 'emails', 'windowSeconds', 'eventTypes', 'headers', 'maxInFlight', 'timeout', 'retrySchedule', 'throttleRate', 'ordering', 'secret',
  'signature', 'signature.scheme', 'signature.header', 'signature.timestampHeader', 'signature.content', 'signature.encoding', 'signature.key',
  'deliveryHeaders', 'deliveryHeaders.eventType', 'deliveryHeaders.deliveryId', 'deliveryHeaders.userAgent',
  'payloadFilter', 'retentionPeriod',
];

/** Maps API field names onto the form fields (unknown fields go to ''). */
export function formFieldErrors(error: unknown): FormErrors {
  if (!(error instanceof ApiError)) return { '': errorMessage(error) };
  const raw = error.fieldErrors(NESTED);
  const out: FormErrors = {};
  for (const [key, msg] of Object.entries(raw)) {
    const field = RENAMED[key] ?? key;
    const known = KNOWN_FIELDS.includes(field);
    out[known ? field : ''] = out[known ? field : ''] ? `${out[known ? field : '']}; ${msg}` : msg;
  }
  if (Object.keys(out).length === 0) out[''] = error.message;
  return out;
}

/** Busy flag, field errors, and `onSubmit(valid, action)` that builds the form's submit handler. */
export function useFormSubmit(mapErrors: (error: unknown) => FormErrors = formFieldErrors) {
  const [errors, setErrors] = useState<FormErrors>({});
  const [busy, setBusy] = useState(false);
  const onSubmit = (valid: boolean, action: () => Promise<void>) => async (e: FormEvent) => {
    e.preventDefault();
    if (!valid) return;
    setBusy(true);
    setErrors({});
    try {
      await action();
    } catch (err) {
      setErrors(mapErrors(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, errors, onSubmit };
}
