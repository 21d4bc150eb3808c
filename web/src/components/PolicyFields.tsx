/**
 * The delivery-policy fields of the webhook forms and the application settings: in-flight cap,
 * timeout, retry schedule, throttle rate and (webhooks only) ordering. An empty field inherits; its
 * placeholder says what it would inherit. Errors, the form's own or the API's, show beside each field.
 */
import { formatMs, formatSchedule, policyProblems, type PolicyDraft } from '../lib/policy';
import type { EffectivePolicy } from '../lib/types';
import { Field } from './Field';

/** Props of PolicyFields. */
export interface PolicyFieldsProps {
  /** Control id prefix (unique per form). */
  idPrefix: string;
  /** The fields' values. */
  value: PolicyDraft;
  /** Called with the new values. */
  onChange: (value: PolicyDraft) => void;
  /** What an empty field inherits (placeholders), field by field where known. */
  inherited?: Partial<EffectivePolicy>;
  /** Whose default this is, for the legend's hint: "this webhook" or "this application's webhooks". */
  subject: string;
  /** Where an empty field's value comes from, e.g. "the application" or "the server". */
  inheritsFrom: string;
  /** API errors by field. */
  errors: Record<string, string | undefined>;
  /** Offer strict ordering (webhooks only). */
  ordering?: boolean;
}

/** Delivery policy fieldset. */
export function PolicyFields({ idPrefix, value, onChange, inherited, subject, inheritsFrom, errors, ordering }: PolicyFieldsProps) {
  const problems = policyProblems(value);
  const set = (patch: Partial<PolicyDraft>) => onChange({ ...value, ...patch });
  const placeholder = (shown: string | undefined) => (shown ? `Inherited: ${shown}` : 'Inherited');
  return (
    <fieldset className="field policy-fields">
      <legend>Delivery policy</legend>
      <p className="field-hint">How Herald sends to {subject}. Leave a field empty to use the value of {inheritsFrom}.</p>
      <div className="policy-grid">
        <Field id={`${idPrefix}-max`} label="Max in flight" hint="Requests sent at once, at most." error={errors.maxInFlight ?? problems.maxInFlight}>
          <input type="text" inputMode="numeric" value={value.maxInFlight} placeholder={placeholder(inherited?.maxInFlight?.toString())} onChange={(e) => set({ maxInFlight: e.target.value })} />
        </Field>
        <Field id={`${idPrefix}-timeout`} label="Timeout" hint="Per attempt, e.g. 10s or 1m." error={errors.timeout ?? problems.timeout}>
          <input type="text" value={value.timeout} spellCheck={false} placeholder={placeholder(inherited?.timeoutMs === undefined ? undefined : formatMs(inherited.timeoutMs))} onChange={(e) => set({ timeout: e.target.value })} />
        </Field>
        <Field id={`${idPrefix}-rate`} label="Throttle rate" hint="Requests per second, at most." error={errors.throttleRate ?? problems.throttleRate}>
          <input
            type="text"
            inputMode="numeric"
            value={value.throttleRate}
            placeholder={inherited?.throttleRate === undefined ? 'Inherited' : inherited.throttleRate === null ? 'No limit' : `Inherited: ${inherited.throttleRate}/s`}
            onChange={(e) => set({ throttleRate: e.target.value })}
          />
        </Field>
      </div>
      <Field
        id={`${idPrefix}-retries`}
        label="Retry schedule"
        hint="Delays before each retry after the first attempt, separated by commas: 1m, 5m, 30m, 2h, 24h means 6 attempts."
        error={errors.retrySchedule ?? problems.retrySchedule}
      >
        <input type="text" value={value.retrySchedule} spellCheck={false} placeholder={placeholder(inherited?.retrySchedule === undefined ? undefined : formatSchedule(inherited.retrySchedule))} onChange={(e) => set({ retrySchedule: e.target.value })} />
      </Field>
      {ordering && (
        <Field
          id={`${idPrefix}-ordering`}
          label="Ordering"
          hint={value.ordering === 'strict' ? 'One delivery at a time, in publish order: a failing delivery holds back the ones after it.' : 'Several deliveries at once (up to Max in flight); they may arrive out of order.'}
          error={errors.ordering}
        >
          <select value={value.ordering} onChange={(e) => set({ ordering: e.target.value as PolicyDraft['ordering'] })}>
            <option value="parallel">Parallel</option>
            <option value="strict">Strict (in publish order)</option>
          </select>
        </Field>
      )}
    </fieldset>
  );
}

/** Whether a draft can be sent (no form problems). */
export function policyValid(value: PolicyDraft): boolean {
  return Object.keys(policyProblems(value)).length === 0;
}
