/**
 * Pure formatting and classification used by the pages. No DOM and no clock: the time zone and locale
 * are parameters (defaulting to the viewer's), so this is unit-testable in Node.
 */

/** Status of a delivery attempt as a word, from Svix's MessageStatus number. */
export type AttemptStatusName = 'success' | 'pending' | 'failed' | 'sending' | 'canceled';

/** Svix MessageStatus numbers by name (for the `status` filter). */
export const ATTEMPT_STATUS_CODES: Record<AttemptStatusName, 0 | 1 | 2 | 3 | 4> = { success: 0, pending: 1, failed: 2, sending: 3, canceled: 4 };

/** The word for a MessageStatus number. */
export function attemptStatusName(status: number): AttemptStatusName {
  return (['success', 'pending', 'failed', 'sending', 'canceled'] as const)[status] ?? 'failed';
}

/** Badge colour of a status. */
export function statusTone(status: number): 'ok' | 'bad' | 'warn' | 'info' | 'muted' {
  return (['ok', 'warn', 'bad', 'info', 'muted'] as const)[status] ?? 'bad';
}

/** The viewer's IANA time zone, e.g. `Europe/London`. */
export function viewerTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** "Europe/London (GMT+1)": the zone every time on the page is shown in, at the given instant. */
export function zoneLabel(timeZone = viewerTimeZone(), at: Date = new Date(), locale?: string): string {
  const offset = new Intl.DateTimeFormat(locale ?? 'en', { timeZone, timeZoneName: 'shortOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName')?.value;
  return offset && offset !== timeZone ? `${timeZone} (${offset})` : timeZone;
}

/** Just the offset, e.g. `GMT+1`, for column headings. */
export function zoneShort(timeZone = viewerTimeZone(), at: Date = new Date()): string {
  return new Intl.DateTimeFormat('en', { timeZone, timeZoneName: 'shortOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? timeZone;
}

/** Date part of an ISO timestamp in the zone, e.g. `14 May 2026`. */
export function formatDate(iso: string, timeZone = viewerTimeZone(), locale?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return new Intl.DateTimeFormat(locale, { timeZone, year: 'numeric', month: 'short', day: 'numeric' }).format(d);
}

/** Time part of an ISO timestamp in the zone, 24-hour with seconds, e.g. `18:32:01`. */
export function formatTime(iso: string, timeZone = viewerTimeZone(), locale?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(d);
}

/** Date and time with the zone's short name, e.g. `14 May 2026, 18:32:01 GMT+1`. */
export function formatDateTime(iso: string, timeZone = viewerTimeZone(), locale?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).format(d);
}

/** `87 ms`, `1.4 s`, `2 min 5 s`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** `•••• abcd` from the secret's last four characters: enough to tell two secrets apart, not to use one. */
export function maskedSecret(hint: string | null | undefined): string {
  return hint ? `•••• ${hint}` : '••••';
}

/** One group of the event type picker. */
export interface EventTypeGroup<T extends { name: string }> {
  /** Dotted prefix, e.g. `order`; `other` for names without a dot. */
  prefix: string;
  /** Types of the group, sorted by name. */
  types: T[];
}

/** Groups event types by the part of the name before the first dot (`order.paid` → `order`). */
export function groupEventTypes<T extends { name: string }>(types: T[]): EventTypeGroup<T>[] {
  const groups = new Map<string, T[]>();
  for (const t of types) {
    const dot = t.name.indexOf('.');
    const prefix = dot > 0 ? t.name.slice(0, dot) : 'other';
    groups.set(prefix, [...(groups.get(prefix) ?? []), t]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === 'other' ? 1 : b === 'other' ? -1 : a.localeCompare(b)))
    .map(([prefix, list]) => ({ prefix, types: list.sort((a, b) => a.name.localeCompare(b.name)) }));
}

/** The status column of the webhooks list. */
export interface EndpointStatus {
  /** Word shown in the badge. */
  label: 'Active' | 'Paused' | 'Disabled automatically';
  /** Badge colour class. */
  tone: 'ok' | 'muted' | 'bad';
  /** Why it is disabled, when Herald said. */
  reason: string | null;
}

/** Active, Paused (a person did it) or Disabled automatically (with Herald's reason). */
export function endpointStatus(ep: { disabled?: boolean; disabledBy?: 'user' | 'auto' | null; disabledReason?: string | null }): EndpointStatus {
  if (!ep.disabled) return { label: 'Active', tone: 'ok', reason: null };
  if (ep.disabledBy === 'auto') return { label: 'Disabled automatically', tone: 'bad', reason: ep.disabledReason ?? null };
  return { label: 'Paused', tone: 'muted', reason: null };
}

/** "HTTP 503" when a response arrived, else the error (or its stage). */
export function attemptResult(a: { responseStatusCode: number; errorMessage?: string | null; errorStage?: string | null; status: number }): string {
  if (a.responseStatusCode > 0) return `HTTP ${a.responseStatusCode}`;
  if (a.errorMessage) return a.errorMessage;
  if (a.errorStage) return `${a.errorStage} error`;
  return a.status === 1 || a.status === 3 ? 'Not sent yet' : 'No response';
}

/**
 * Checks a webhook URL the way the API will: absolute, http(s), no credentials. Returns the problem
 * or null. Plain http is let through here because an operator may allow it (HERALD_ALLOW_HTTP); the
 * API's answer then shows beside the field.
 */
export function urlProblem(value: string): string | null {
  const v = value.trim();
  if (!v) return 'Enter the URL that should receive deliveries.';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'Enter a full URL starting with https://';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'The URL must start with https://';
  if (u.username || u.password) return 'Remove the user name and password from the URL.';
  return null;
}

/** Event type names as the API accepts them (letters, digits, `-`, `_`, `.`). */
export function eventTypeNameProblem(value: string): string | null {
  if (!value) return 'Enter a name such as order.paid.';
  if (value.length > 256) return 'At most 256 characters.';
  if (!/^[a-zA-Z0-9\-_.]+$/.test(value)) return 'Use letters, digits, dots, dashes and underscores only.';
  return null;
}
