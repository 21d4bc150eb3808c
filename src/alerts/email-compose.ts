/**
 * The alert email: what happened to one endpoint since its last email, as plain text and HTML. Pure:
 * the sender gathers the facts (src/store/alerts.ts) and passes them in, with the time.
 *
 * Everything that came from users or receivers (application and endpoint names, URLs, error texts,
 * event types) is escaped in the HTML and stripped of line breaks in the subject, so a receiver's
 * error message cannot add markup, links or headers to an email Herald sends.
 */

/** Who an email is for: Herald's operators, or the application's own contact (the platform's customer). */
export type Audience = 'operators' | 'contact';

/** A message that failed, one of the most recent of the batch. */
export interface FailedMessage {
  /** msg_… */
  msgId: string;
  /** The message's event type (null when the message is gone). */
  eventType: string | null;
  /** What happened to it: failed permanently, or failing with retries left. */
  state: 'exhausted' | 'failing';
  /** When the event was recorded. */
  at: Date;
  /** Herald's reason for the last attempt's failure, in words a person can act on. */
  lastError: string | null;
  /** HTTP status of the last attempt, null when no response arrived. */
  status: number | null;
}

/** The endpoint an email is about, as it is now (null fields when it has been deleted since). */
export interface AlertEndpoint {
  /** ep_… */
  id: string;
  /** Its URL; null when the endpoint no longer exists. */
  url: string | null;
  /** Its description (the dashboard shows it as the name); empty = none. */
  description: string;
  /** Whether it is disabled now. */
  disabled: boolean;
  /** Who disabled it, when it is. */
  disabledBy: 'user' | 'auto' | null;
}

/** Everything one email says. */
export interface AlertEmailInput {
  /** Who it is for (changes the advice, the links and the prefix of the subject). */
  audience: Audience;
  /** Recipients, passed through to the result. */
  to: string[];
  /** The application: its id and name (null when it has been deleted). */
  app: { id: string; name: string | null };
  /** Whether the endpoint is one of Herald's own operational webhook endpoints. */
  operational: boolean;
  /** The endpoint. */
  endpoint: AlertEndpoint;
  /** Messages by their latest state in this batch. */
  counts: { exhausted: number; failing: number; recovered: number };
  /** Events this email covers. */
  events: number;
  /** When the first and the last of them happened. */
  period: { from: Date; to: Date };
  /** The most recent failed messages, newest first (a few). */
  recent: FailedMessage[];
  /** The latest automatic disable in the batch. */
  disabled: { at: Date; reason: string | null } | null;
  /** The latest re-enable in the batch (after an automatic disable). */
  enabled: { at: Date } | null;
  /** More events were waiting than one email covers; the next email tells the rest. */
  more: boolean;
  /** Link to the endpoint's page in the dashboard, or null (no public URL, or not for this audience). */
  link: string | null;
  /** The batching window, for the footer. */
  windowMs: number;
}

/** A composed email. */
export interface AlertEmail {
  /** Recipients. */
  to: string[];
  /** Subject line (one line, no control characters). */
  subject: string;
  /** Plain-text body. */
  text: string;
  /** HTML body. */
  html: string;
}

/** The dashboard's page of one endpoint (its deliveries): web/src/Dashboard.tsx `/apps/:app/webhooks/:ep`. */
export function endpointPageUrl(publicUrl: string, appId: string, endpointId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/apps/${encodeURIComponent(appId)}/webhooks/${encodeURIComponent(endpointId)}`;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** One line of at most `max` characters, control characters replaced by spaces. */
function oneLine(s: string, max: number): string {
  const flat = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `2026-01-01 03:10 UTC`. */
export function formatTime(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `15 minutes`, `1 hour`, `90 seconds`. */
export function formatWindow(ms: number): string {
  const units: [number, string][] = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1_000, 'second']];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${Math.round(ms / 1000)} seconds`;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** How the endpoint is named: its description, else its URL, else its id. */
function endpointLabel(e: AlertEndpoint): string {
  return oneLine(e.description || e.url || e.id, 80);
}

type Severity = 'disabled' | 'exhausted' | 'failing' | 'recovered';

function severityOf(i: AlertEmailInput): Severity {
  if (i.disabled && i.endpoint.disabled && i.endpoint.disabledBy === 'auto') return 'disabled';
  if (i.counts.exhausted > 0) return 'exhausted';
  if (i.counts.failing > 0) return 'failing';
  return 'recovered';
}

function subjectOf(i: AlertEmailInput, s: Severity): string {
  const where = `${endpointLabel(i.endpoint)} (${oneLine(i.app.name ?? i.app.id, 60)})`;
  const what = {
    disabled: `Webhook endpoint disabled: ${where}`,
    exhausted: `${plural(i.counts.exhausted, 'webhook message', 'webhook messages')} failed permanently: ${where}`,
    failing: `Webhook deliveries failing: ${where}`,
    recovered: `Webhook endpoint recovered: ${where}`,
  }[s];
  return oneLine(i.audience === 'operators' ? `[Herald] ${what}` : what, 250);
}

/** The summary lines: what happened, with counts. */
function factsOf(i: AlertEmailInput): string[] {
  const out: string[] = [];
  const { exhausted, failing, recovered } = i.counts;
  if (exhausted > 0) {
    out.push(`${plural(exhausted, 'message', 'messages')} failed permanently: every retry was used, and ${exhausted === 1 ? 'it is' : 'they are'} not sent again unless resent.`);
  }
  if (failing > 0) out.push(`${plural(failing, 'message is', 'messages are')} failing and still being retried.`);
  if (recovered > 0) out.push(`${plural(recovered, 'message was', 'messages were')} delivered after failing.`);
  if (i.disabled) {
    const why = i.disabled.reason ? `: ${oneLine(i.disabled.reason, 500)}` : '';
    out.push(`The endpoint was disabled automatically at ${formatTime(i.disabled.at)}${why}. It receives nothing until it is enabled again.`);
  }
  if (i.enabled) out.push(`The endpoint was enabled again at ${formatTime(i.enabled.at)}.`);
  if (i.more) out.push('More events are waiting than one email covers; the next email counts them.');
  return out;
}

function adviceOf(i: AlertEmailInput, s: Severity): string {
  const page = i.audience === 'operators' ? "on the endpoint's page" : 'in your webhook settings';
  return {
    disabled: `Fix the receiver (the last error above says what failed), then enable the endpoint again ${page} and resend the failed messages there ("Recover failed").`,
    exhausted: `Fix the receiver (the last error above says what failed), then resend the failed messages: "Recover failed" ${page}.`,
    failing: 'Herald keeps retrying on its schedule. Fix the receiver before the retries run out, or these messages fail permanently.',
    recovered: 'Nothing to do: deliveries to this endpoint succeed again.',
  }[s];
}

/** Where to look, as a sentence: the link when there is one. */
function whereToLook(i: AlertEmailInput): string {
  if (i.link) return `Delivery log of this endpoint: ${i.link}`;
  if (i.audience === 'contact') return 'Open your webhook settings where you manage this endpoint to see its delivery log.';
  const app = i.operational ? 'Operational webhooks' : `Applications > ${oneLine(i.app.name ?? i.app.id, 60)}`;
  return `In the Herald dashboard, open ${app} > ${endpointLabel(i.endpoint)} to see its delivery log (set HERALD_PUBLIC_URL to get a link here).`;
}

function recentLine(m: FailedMessage): string {
  const state = m.state === 'exhausted' ? 'failed permanently' : 'still retrying';
  return `${m.msgId}  ${oneLine(m.eventType ?? '(message deleted)', 100)}  ${state}  ${formatTime(m.at)}`;
}

function lastErrorOf(i: AlertEmailInput): { error: string; context: string } | null {
  const last = i.recent[0];
  if (!last) return null;
  const status = last.status !== null ? `HTTP ${last.status}` : 'no response';
  const error = oneLine(last.lastError ?? (last.status !== null ? `the receiver answered HTTP ${last.status}` : 'no reason recorded'), 1_000);
  return { error, context: `${last.msgId}, ${oneLine(last.eventType ?? 'message deleted', 100)}, ${status}, ${formatTime(last.at)}` };
}

/** Composes one alert email. */
export function composeAlertEmail(i: AlertEmailInput): AlertEmail {
  const s = severityOf(i);
  const subject = subjectOf(i, s);
  const facts = factsOf(i);
  const last = lastErrorOf(i);
  const endpointUrl = i.endpoint.url === null ? '(deleted)' : oneLine(i.endpoint.url, 2_000);
  const rows: [string, string][] = [
    ['Application', `${oneLine(i.app.name ?? '(deleted)', 256)} (${i.app.id})`],
    ['Endpoint', i.endpoint.description ? `${endpointUrl} (${oneLine(i.endpoint.description, 256)})` : endpointUrl],
    ['Endpoint id', i.endpoint.id],
    ['Period', `${formatTime(i.period.from)} to ${formatTime(i.period.to)}`],
  ];
  const footer = `This email covers ${plural(i.events, 'event', 'events')}. Herald sends at most one email per endpoint every ${formatWindow(i.windowMs)}, summarising what happened in between.`;
  const headline = subject.replace(/^\[Herald\] /, '');

  const text = [
    headline,
    '',
    ...rows.map(([k, v]) => `${`${k}:`.padEnd(13)}${v}`),
    '',
    ...facts.map((f) => `- ${f}`),
    ...(last ? ['', `Last error (${last.context}):`, `  ${last.error}`] : []),
    ...(i.recent.length > 0 ? ['', 'Most recent failed messages:', ...i.recent.map((m) => `  ${recentLine(m)}`)] : []),
    '',
    `What to do: ${adviceOf(i, s)}`,
    whereToLook(i),
    '',
    footer,
    '',
  ].join('\n');

  const e = escapeHtml;
  const look = i.link
    ? `<p><a href="${e(i.link)}">Open the delivery log of this endpoint</a></p>`
    : `<p>${e(whereToLook(i))}</p>`;
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;line-height:1.4">',
    `<h2 style="font-size:18px">${e(headline)}</h2>`,
    '<table style="border-collapse:collapse">',
    ...rows.map(([k, v]) => `<tr><th style="text-align:left;padding:2px 12px 2px 0">${e(k)}</th><td>${e(v)}</td></tr>`),
    '</table>',
    `<ul>${facts.map((f) => `<li>${e(f)}</li>`).join('')}</ul>`,
    ...(last ? [`<p><strong>Last error</strong> (${e(last.context)}):</p>`, `<pre style="white-space:pre-wrap">${e(last.error)}</pre>`] : []),
    ...(i.recent.length > 0 ? ['<p><strong>Most recent failed messages</strong></p>', `<ul>${i.recent.map((m) => `<li><code>${e(recentLine(m))}</code></li>`).join('')}</ul>`] : []),
    `<p><strong>What to do:</strong> ${e(adviceOf(i, s))}</p>`,
    look,
    `<p style="color:#666;font-size:12px">${e(footer)}</p>`,
    '</body></html>',
  ].join('\n');

  return { to: i.to, subject, text, html };
}
