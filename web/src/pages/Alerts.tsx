/**
 * Alerts: what went wrong with integrations, newest first, from the operational event list: messages
 * failing or failed for good, endpoints disabled, recoveries, and (on request) endpoint changes. Each
 * row says what happened, when, to which endpoint and why, and links to that endpoint's delivery log.
 * Operators see every application and edit the alert emails (AlertSettings); the portal shows its own
 * application's alerts only (the API scopes a portal token to it).
 */
import { useState } from 'react';
import { AlertSettings } from '../components/AlertSettings';
import { Badge } from '../components/Badge';
import { DataTable } from '../components/DataTable';
import { PageHeader } from '../components/PageHeader';
import { Pager } from '../components/Pager';
import { Empty, ErrorState, Loading } from '../components/States';
import { ok, seg } from '../lib/api';
import { useApp } from '../lib/context';
import { formatDateTime } from '../lib/format';
import { Link } from '../lib/router';
import type { OperationalEventOut } from '../lib/types';
import { useAsync } from '../lib/use-async';

/** Rows per page. */
const PAGE_SIZE = 50;

/** What each event means, in a few words, and how it looks. */
const KINDS: Record<OperationalEventOut['type'], { label: string; tone: 'ok' | 'bad' | 'warn' | 'muted' | 'info' }> = {
  'message.attempt.exhausted': { label: 'Failed for good', tone: 'bad' },
  'message.attempt.failing': { label: 'Failing', tone: 'warn' },
  'message.attempt.recovered': { label: 'Recovered', tone: 'ok' },
  'endpoint.disabled': { label: 'Endpoint disabled', tone: 'bad' },
  'endpoint.enabled': { label: 'Endpoint enabled', tone: 'ok' },
  'endpoint.created': { label: 'Endpoint created', tone: 'muted' },
  'endpoint.updated': { label: 'Endpoint changed', tone: 'muted' },
  'endpoint.deleted': { label: 'Endpoint deleted', tone: 'muted' },
};

/** The filter's choices: problems (the default), one kind, or everything. */
const FILTERS: { value: string; label: string; types: OperationalEventOut['type'][] | null }[] = [
  { value: 'problems', label: 'Problems and recoveries', types: ['message.attempt.exhausted', 'message.attempt.failing', 'message.attempt.recovered', 'endpoint.disabled', 'endpoint.enabled'] },
  { value: 'exhausted', label: 'Failed for good', types: ['message.attempt.exhausted'] },
  { value: 'failing', label: 'Failing', types: ['message.attempt.failing'] },
  { value: 'disabled', label: 'Endpoints disabled', types: ['endpoint.disabled'] },
  { value: 'changes', label: 'Endpoint changes', types: ['endpoint.created', 'endpoint.updated', 'endpoint.deleted'] },
  { value: 'all', label: 'Everything', types: null },
];

/** Why it happened, in the words Herald recorded. */
function detailOf(e: OperationalEventOut): string {
  const d = e.data as { lastError?: string | null; reason?: string | null; trigger?: string; lastAttempt?: { responseStatusCode?: number } | null; attempts?: number };
  if (e.type === 'endpoint.disabled') return d.trigger === 'manual' ? 'Disabled by a person.' : (d.reason ?? 'Disabled by Herald after repeated failures.');
  if (e.type === 'message.attempt.recovered') return `Delivered after ${d.attempts ? d.attempts - 1 : 'several'} failed attempts.`;
  if (e.type === 'endpoint.enabled') return 'Enabled again.';
  return d.lastError ?? '';
}

/** Alerts page; `appId` limits it to one application (the portal's, or a scoped key's). */
export function Alerts({ appId }: { appId?: string }) {
  const { client, appBase, isOperator } = useApp();
  const [filter, setFilter] = useState('problems');
  const [cursors, setCursors] = useState<string[]>([]);
  const types = FILTERS.find((f) => f.value === filter)?.types ?? null;
  const iterator = cursors[cursors.length - 1];
  const events = useAsync(
    () => ok(client.api.GET('/api/v1/operational-event', { params: { query: { limit: PAGE_SIZE, iterator, type: types ?? undefined, appId } } })),
    [filter, iterator, appId],
    { pollMs: cursors.length === 0 ? 10_000 : undefined },
  );
  const rows = events.data?.data ?? [];
  const endpointLink = (e: OperationalEventOut) =>
    e.appId && e.endpointId && e.type !== 'endpoint.deleted' ? `${appBase(e.appId)}/webhooks/${seg(e.endpointId)}` : null;

  return (
    <section>
      <PageHeader
        title="Alerts"
        subtitle={isOperator ? 'Broken integrations across every application, newest first.' : 'Problems with your webhooks, newest first.'}
      />
      {isOperator && <AlertSettings />}
      <div className="filters" role="group" aria-label="Filter alerts">
        <div className="field field-inline">
          <label htmlFor="f-alerts">Show</label>
          <select id="f-alerts" value={filter} onChange={(e) => (setFilter(e.target.value), setCursors([]))}>
            {FILTERS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      {events.loading && !events.data ? (
        <Loading what="Loading alerts…" />
      ) : events.error && !events.data ? (
        <ErrorState error={events.error} onRetry={events.reload} />
      ) : rows.length === 0 ? (
        <Empty>{filter === 'problems' ? 'Nothing has gone wrong: no delivery failed and no endpoint was disabled.' : 'No alerts match this filter.'}</Empty>
      ) : (
        <DataTable testId="alerts" columns={['When', 'What', ...(isOperator ? ['Application'] : []), 'Endpoint', 'Details']}>
          {rows.map((e) => {
            const kind = KINDS[e.type];
            const link = endpointLink(e);
            const msgId = (e.data as { msgId?: string }).msgId;
            return (
              <tr key={e.id} data-testid="alert-row">
                <td data-label="When">{formatDateTime(e.createdAt)}</td>
                <td data-label="What">
                  <Badge tone={kind.tone}>{kind.label}</Badge>
                </td>
                {isOperator && (
                  <td data-label="Application">
                    <code>{e.appId}</code>
                  </td>
                )}
                <td data-label="Endpoint" className="break">
                  {link ? <Link to={link}>Deliveries of {e.endpointId}</Link> : <code>{e.endpointId}</code>}
                </td>
                <td data-label="Details" className="break">
                  {detailOf(e)}
                  {msgId && (
                    <div className="cell-sub">
                      message <code>{msgId}</code>
                    </div>
                  )}
                </td>
              </tr>
            );
          })}
        </DataTable>
      )}
      <Pager cursors={cursors} onChange={setCursors} page={events.data} what="alerts" />
    </section>
  );
}
