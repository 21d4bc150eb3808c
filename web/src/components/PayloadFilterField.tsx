/**
 * A webhook's payload filter: a JSON field checked as you type with the very parser the server uses
 * (src/core/payload-filter.ts, imported as is), and "Test against a sample": paste a message body and
 * see whether it would be delivered, and each condition with what the body holds there.
 */
import { useState, type ReactNode } from 'react';
import { explainPayloadFilter, parsePayloadFilter, type FilterNode } from '../../../src/core/payload-filter';
import { Field } from './Field';

/** The filter as the form holds it: text, and what it parses to. */
export interface PayloadFilterForm {
  /** JSON text; empty = no filter. */
  text: string;
  setText: (text: string) => void;
  /** Why the text is not a filter, or null. */
  problem: string | null;
  /** The parsed filter (null: none), when valid. */
  filter: FilterNode | null;
  /** The request field: the filter object, or null for none. */
  body: () => { payloadFilter: Record<string, unknown> | null };
}

/** Parses JSON text into a value, or says why it is not JSON. */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, message: `Not valid JSON: ${(e as Error).message}` };
  }
}

/** The form state of a filter, starting from the webhook's current one. */
export function usePayloadFilterForm(initial: Record<string, unknown> | null | undefined): PayloadFilterForm {
  const [text, setText] = useState(initial ? JSON.stringify(initial, null, 2) : '');
  const trimmed = text.trim();
  let problem: string | null = null;
  let filter: FilterNode | null = null;
  let value: Record<string, unknown> | null = null;
  if (trimmed) {
    const json = parseJson(trimmed);
    if (!json.ok) problem = json.message;
    else {
      const parsed = parsePayloadFilter(json.value);
      if (parsed.ok) {
        filter = parsed.filter;
        value = json.value as Record<string, unknown>;
      } else {
        problem = parsed.problems.map((p) => `${p.path.replace(/^payloadFilter\.?/, '') || 'The filter'}: ${p.message}`).join('; ');
      }
    }
  }
  return { text, setText, problem, filter, body: () => ({ payloadFilter: problem === null ? value : null }) };
}

/** The field and its sample tester. */
export function PayloadFilterField({ idPrefix, form, error }: { idPrefix: string; form: PayloadFilterForm; error?: string | null }) {
  return (
    <fieldset className="payload-filter">
      <legend>Payload filter (optional)</legend>
      <Field
        id={`${idPrefix}-filter`}
        label="Only deliver messages whose body matches"
        hint='MongoDB-style conditions, e.g. {"total_pence": {"$gte": 1000}, "customer.country": {"$in": ["GB", "IE"]}}. Also $eq, $ne, $nin, $gt, $lt, $lte, $exists, $and, $or, $not. Empty = every message.'
        error={error ?? form.problem}
      >
        <textarea rows={4} value={form.text} onChange={(e) => form.setText(e.target.value)} spellCheck={false} autoComplete="off" />
      </Field>
      <SampleTester idPrefix={idPrefix} form={form} />
    </fieldset>
  );
}

/** "Test against a sample": a pasted body, and whether the filter matches it and why. */
function SampleTester({ idPrefix, form }: { idPrefix: string; form: PayloadFilterForm }) {
  const [sample, setSample] = useState('');
  const json = sample.trim() ? parseJson(sample.trim()) : null;
  let result: ReactNode = null;
  if (json && !json.ok) result = <p className="field-error">{json.message}</p>;
  else if (json?.ok && form.problem) result = <p className="field-hint">Fix the filter above to test it.</p>;
  else if (json?.ok) {
    const r = explainPayloadFilter(form.filter, json.value);
    result = (
      <div className="filter-result" role="status" data-testid="filter-result">
        <p className={r.matches ? 'filter-verdict filter-match' : 'filter-verdict filter-no-match'}>
          {r.matches ? 'Match: this message would be delivered.' : 'No match: this message would not be delivered.'}
        </p>
        {form.filter === null && <p className="field-hint">No filter: every message is delivered.</p>}
        {r.unreadable && <p className="field-hint">The body holds a NUL character or a lone surrogate, which no filter matches.</p>}
        {r.checks.length > 0 && (
          <ul className="filter-checks">
            {r.checks.map((c, i) => (
              <li key={i} className={c.holds ? 'filter-check-holds' : 'filter-check-fails'}>
                <span aria-hidden="true">{c.holds ? '✓' : '✗'}</span> <code>{c.condition}</code> — found <code>{c.found}</code>
              </li>
            ))}
          </ul>
        )}
        {/"\$(or|not)"/.test(form.text) && <p className="field-hint">With $or or $not, the filter can match although some conditions fail.</p>}
      </div>
    );
  }
  return (
    <div className="filter-sample">
      <Field id={`${idPrefix}-sample`} label="Test against a sample" hint="Paste a message body as your endpoint receives it (envelope included, if any).">
        <textarea rows={4} value={sample} onChange={(e) => setSample(e.target.value)} spellCheck={false} autoComplete="off" placeholder='{"total_pence": 1500, "customer": {"country": "GB"}}' />
      </Field>
      {result}
    </div>
  );
}
