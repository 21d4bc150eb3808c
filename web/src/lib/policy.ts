/**
 * Delivery policy in the forms and on the webhook page: parsing what people type ("10s",
 * "1m, 5m, 30m"), the request body, and the words for the breaker and the pause. Pure, so it is
 * unit-tested in Node (test/e2e/web-logic.test.ts). The API checks the server's bounds and its
 * answer shows beside the field.
 */

/** The policy fields as a form holds them: text, '' = inherit. */
export interface PolicyDraft {
  /** Requests in flight at most. */
  maxInFlight: string;
  /** Per-attempt timeout, e.g. "10s". */
  timeout: string;
  /** Delays before each retry, e.g. "1m, 5m, 30m". */
  retrySchedule: string;
  /** Requests per second at most. */
  throttleRate: string;
  /** Endpoints only: parallel or strict. */
  ordering: 'parallel' | 'strict';
}

/** Overrides as the API answers them (null = inherited). */
export interface PolicyOverrides {
  maxInFlight?: number | null;
  timeoutMs?: number | null;
  retrySchedule?: number[] | null;
  throttleRate?: number | null;
  ordering?: 'parallel' | 'strict';
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "10s", "1.5m", "250ms" → milliseconds; null without a unit or when malformed. */
export function parseDurationText(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/i.exec(text);
  if (!m) return null;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!);
}

/** Seconds as people write them: 300 → "5m", 7200 → "2h", 86400 → "1d", 90 → "90s", 0.25 → "250ms". */
export function formatSeconds(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  if (s % 86_400 === 0) return `${s / 86_400}d`;
  if (s % 3_600 === 0) return `${s / 3_600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

/** Milliseconds as a duration: 15000 → "15s", 1500 → "1.5s". */
export function formatMs(ms: number): string {
  return formatSeconds(ms / 1000);
}

/** [60, 300] → "1m, 5m". */
export function formatSchedule(seconds: number[]): string {
  return seconds.map(formatSeconds).join(', ');
}

/** "1m, 5m, 30m" → [60, 300, 1800], or the problem; '' → null (inherit). */
export function parseRetrySchedule(text: string): { seconds: number[] | null } | { error: string } {
  if (text.trim() === '') return { seconds: null };
  const seconds: number[] = [];
  for (const part of text.split(',')) {
    const ms = parseDurationText(part);
    if (ms === null) return { error: `“${part.trim() || ' '}” is not a duration. Write delays with a unit, separated by commas: 1m, 5m, 30m, 2h.` };
    if (ms < 1000 || ms % 1000 !== 0) return { error: `Each delay is a whole number of seconds, at least 1s (“${part.trim()}”).` };
    seconds.push(ms / 1000);
  }
  return { seconds };
}

/** Form problems by field (timeout, maxInFlight, retrySchedule, throttleRate); empty when the draft can be sent. */
export function policyProblems(d: PolicyDraft): Partial<Record<'maxInFlight' | 'timeout' | 'retrySchedule' | 'throttleRate', string>> {
  const out: Partial<Record<'maxInFlight' | 'timeout' | 'retrySchedule' | 'throttleRate', string>> = {};
  const whole = (v: string) => /^\s*\d+\s*$/.test(v) && Number(v) >= 1;
  if (d.maxInFlight.trim() && !whole(d.maxInFlight)) out.maxInFlight = 'A whole number of requests, at least 1.';
  if (d.timeout.trim()) {
    const ms = parseDurationText(d.timeout);
    if (ms === null) out.timeout = 'A duration with a unit, e.g. 10s or 1m.';
    else if (ms < 1000) out.timeout = 'At least 1s.';
  }
  const schedule = parseRetrySchedule(d.retrySchedule);
  if ('error' in schedule) out.retrySchedule = schedule.error;
  if (d.throttleRate.trim() && (!whole(d.throttleRate) || Number(d.throttleRate) > 65_535)) out.throttleRate = 'A whole number of requests per second, 1 to 65535.';
  return out;
}

/** The draft of stored overrides ('' where inherited). */
export function draftOf(o: PolicyOverrides): PolicyDraft {
  return {
    maxInFlight: o.maxInFlight == null ? '' : String(o.maxInFlight),
    timeout: o.timeoutMs == null ? '' : formatMs(o.timeoutMs),
    retrySchedule: o.retrySchedule == null ? '' : formatSchedule(o.retrySchedule),
    throttleRate: o.throttleRate == null ? '' : String(o.throttleRate),
    ordering: o.ordering ?? 'parallel',
  };
}

/** The request fields of a valid draft; empty fields send null (inherit). Ordering only when `withOrdering`. */
export function policyBody(d: PolicyDraft, withOrdering: boolean) {
  const num = (v: string) => (v.trim() === '' ? null : Number(v));
  const schedule = parseRetrySchedule(d.retrySchedule);
  return {
    maxInFlight: num(d.maxInFlight),
    timeoutMs: d.timeout.trim() === '' ? null : parseDurationText(d.timeout),
    retrySchedule: 'seconds' in schedule ? schedule.seconds : null,
    throttleRate: num(d.throttleRate),
    ...(withOrdering ? { ordering: d.ordering } : {}),
  };
}

/** "Paused — 3 deliveries held". */
export function heldText(held: number): string {
  return `Paused — ${held} ${held === 1 ? 'delivery' : 'deliveries'} held`;
}

/** Badge word and tone of a breaker state. */
export function breakerBadge(state: 'closed' | 'open' | 'half-open'): { label: string; tone: 'ok' | 'bad' | 'warn' } {
  if (state === 'open') return { label: 'Open', tone: 'bad' };
  if (state === 'half-open') return { label: 'Half-open', tone: 'warn' };
  return { label: 'Closed', tone: 'ok' };
}

/** What a breaker state means, for the sentence beside its badge (`until` already formatted). */
export function breakerSentence(b: { state: 'closed' | 'open' | 'half-open'; consecutiveFailures: number }, until: string | null): string {
  const failures = `${b.consecutiveFailures} failed ${b.consecutiveFailures === 1 ? 'attempt' : 'attempts'} in a row`;
  if (b.state === 'open') return `${failures}. Nothing is attempted${until ? ` until ${until}` : ''}; waiting deliveries keep their place and lose no attempts.`;
  if (b.state === 'half-open') return `${failures}. One test delivery at a time; the first success closes the breaker.`;
  return b.consecutiveFailures > 0 ? `Sending normally (${failures}).` : 'Sending normally.';
}
