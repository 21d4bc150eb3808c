/**
 * Event types as checkboxes with the catalogue's descriptions, grouped by their dotted prefix
 * (`order`, `draw`, `queue`…), plus "all event types" (Svix: no filter).
 */
import { groupEventTypes } from '../lib/format';
import type { EventTypeOut } from '../lib/types';

/** The selection: every type (no filter), or the ticked names. */
export type EventSelection = { all: true } | { all: false; names: string[] };

/** Whether a selection can be saved: all, or at least one type. */
export function selectionValid(sel: EventSelection): boolean {
  return sel.all || sel.names.length > 0;
}

/** The API's `filterTypes` for a selection (null = every type). */
export function toFilterTypes(sel: EventSelection): string[] | null {
  return sel.all ? null : [...sel.names].sort();
}

/** The selection for an endpoint's `filterTypes`. */
export function fromFilterTypes(filterTypes: string[] | null | undefined): EventSelection {
  return filterTypes?.length ? { all: false, names: [...filterTypes] } : { all: true };
}

/** Props of EventTypePicker. */
export interface EventTypePickerProps {
  /** The catalogue (archived types left out by the caller). */
  catalogue: EventTypeOut[];
  /** Current selection. */
  value: EventSelection;
  /** Called with the new selection. */
  onChange: (value: EventSelection) => void;
  /** Error beside the field. */
  error?: string | null;
  /** Id prefix for the inputs. */
  idPrefix?: string;
}

/** Checkbox groups of event types. */
export function EventTypePicker({ catalogue, value, onChange, error, idPrefix = 'et' }: EventTypePickerProps) {
  const selected = new Set(value.all ? [] : value.names);
  // Subscribed names missing from the catalogue (archived or deleted) stay visible so they can be unticked.
  const known = new Set(catalogue.map((t) => t.name));
  const extra = [...selected].filter((n) => !known.has(n)).map((name) => ({ name, description: 'Not in the event type catalogue (archived or removed).' }));
  const groups = groupEventTypes<{ name: string; description: string }>([...catalogue, ...extra]);
  const toggle = (name: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(name);
    else next.delete(name);
    onChange({ all: false, names: [...next] });
  };
  const toggleGroup = (names: string[], on: boolean) => {
    const next = new Set(selected);
    names.forEach((n) => (on ? next.add(n) : next.delete(n)));
    onChange({ all: false, names: [...next] });
  };
  const errorId = `${idPrefix}-error`;
  return (
    <fieldset className={error ? 'field event-picker field-invalid' : 'field event-picker'} aria-describedby={error ? errorId : undefined}>
      <legend>Event types</legend>
      <label className="check">
        <input type="checkbox" checked={value.all} onChange={(e) => onChange(e.target.checked ? { all: true } : { all: false, names: [] })} />
        <span>
          <strong>All event types</strong>
          <span className="check-desc">Including types added later.</span>
        </span>
      </label>
      {catalogue.length === 0 && extra.length === 0 && <p className="field-hint">No event types are defined yet, so this webhook receives every event.</p>}
      {!value.all &&
        groups.map((group) => {
          const names = group.types.map((t) => t.name);
          const allOn = names.every((n) => selected.has(n));
          return (
            <fieldset key={group.prefix} className="event-group">
              <legend>
                <label className="check check-group">
                  <input type="checkbox" checked={allOn} onChange={(e) => toggleGroup(names, e.target.checked)} aria-label={`All ${group.prefix} events`} />
                  <span>{group.prefix}</span>
                </label>
              </legend>
              {group.types.map((t) => (
                <label className="check" key={t.name}>
                  <input type="checkbox" name="eventTypes" value={t.name} checked={selected.has(t.name)} onChange={(e) => toggle(t.name, e.target.checked)} />
                  <span>
                    <code>{t.name}</code>
                    {t.description && <span className="check-desc">{t.description}</span>}
                  </span>
                </label>
              ))}
            </fieldset>
          );
        })}
      {!value.all && selected.size === 0 && <p className="field-hint">Tick at least one event type.</p>}
      {error && (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      )}
    </fieldset>
  );
}
