/**
 * The rows of the delivery history: date, time (viewer's zone), event type and message id, attempt
 * number, status badge, HTTP status or error, duration, and the Logs / Resend actions. Resend is
 * greyed out once the message was delivered (resending what arrived would only duplicate it) or once
 * its payload is known to be purged by retention (nothing is left to send), and hidden without the
 * update permission.
 */
import { useMemo } from 'react';
import { useApp } from '../lib/context';
import { attemptResult, attemptStatusName, formatDate, formatDuration, formatTime, statusTone, zoneLabel, zoneShort } from '../lib/format';
import type { AttemptOut } from '../lib/types';
import { Badge } from './Badge';
import { CopyableId } from './CopyButton';
import { DataTable } from './DataTable';

/** Props of AttemptTable. */
export interface AttemptTableProps {
  /** Attempts, newest first. */
  rows: AttemptOut[];
  /** Opens the logs of an attempt. */
  onInspect: (a: AttemptOut) => void;
  /** Resends the attempt's message. */
  onResend: (a: AttemptOut) => void;
  /** Attempt whose resend is in flight. */
  resending: string | null;
  /** The endpoint is paused or disabled: nothing can be resent. */
  resendDisabled?: boolean;
  /** Messages known to have had their payload purged by retention (learnt from their logs or a refused resend). */
  purged?: ReadonlySet<string>;
  /** Note under the table. */
  note: string;
}

/** Delivery history table. */
export function AttemptTable({ rows, onInspect, onResend, resending, resendDisabled, purged, note }: AttemptTableProps) {
  const { can } = useApp();
  const delivered = useMemo(() => new Set(rows.filter((a) => a.status === 0).map((a) => a.msgId)), [rows]);
  const zone = zoneLabel();
  return (
    <DataTable columns={['Date', `Time (${zoneShort()})`, 'Event', 'Attempt', 'Status', 'Response', 'Duration']} actions caption={`Delivery attempts, newest first; times in ${zone}`} note={`Times in ${zone}. ${note}`} testId="deliveries">
      {rows.map((a) => {
        const name = attemptStatusName(a.status);
        const done = delivered.has(a.msgId);
        const gone = purged?.has(a.msgId) ?? false;
        return (
          <tr key={a.id} data-testid="attempt-row" data-status={name} data-msg-id={a.msgId}>
            <td data-label="Date">{formatDate(a.timestamp)}</td>
            <td data-label="Time">{formatTime(a.timestamp)}</td>
            <td data-label="Event">
              <code className="tag">{a.eventType ?? a.msg?.eventType ?? '—'}</code>
              <div className="cell-sub">
                <CopyableId id={a.msgId} />
              </div>
              {gone && <div className="cell-sub muted">Payload purged (retention)</div>}
            </td>
            <td data-label="Attempt">
              {a.attemptNumber ?? '—'}
              {a.triggerType === 1 && <span className="muted"> (manual)</span>}
            </td>
            <td data-label="Status">
              <Badge tone={statusTone(a.status)}>{name}</Badge>
            </td>
            <td data-label="Response" className="break" data-testid="attempt-result">
              {attemptResult(a)}
            </td>
            <td data-label="Duration">{formatDuration(a.responseDurationMs)}</td>
            <td data-label="Actions" className="actions-cell">
              <div className="row-actions">
                <button type="button" className="button button-small" onClick={() => onInspect(a)} aria-label={`Logs of attempt ${a.attemptNumber ?? ''} of ${a.msgId}`}>
                  Logs
                </button>
                {can('update') && (
                  <button
                    type="button"
                    className="button button-small"
                    disabled={done || gone || resendDisabled || resending === a.id}
                    title={done ? 'Already delivered successfully' : gone ? 'Its payload was purged by retention: publish it again instead' : resendDisabled ? 'Resume the webhook first' : undefined}
                    aria-label={`Resend ${a.msgId}`}
                    onClick={() => onResend(a)}
                  >
                    Resend
                  </button>
                )}
              </div>
            </td>
          </tr>
        );
      })}
    </DataTable>
  );
}
