/**
 * Operator: delivery health at a glance: queue depth, retries waiting, deliveries per minute,
 * and the endpoints that are failing or were disabled. Refreshes every few seconds.
 */
import { DataTable } from '../components/DataTable';
import { PageHeader } from '../components/PageHeader';
import { Empty, ErrorState, Loading } from '../components/States';
import { ok, seg } from '../lib/api';
import { useApp } from '../lib/context';
import { Link } from '../lib/router';
import { useAsync } from '../lib/use-async';

/** Health page. */
export function Health() {
  const { client, appBase } = useApp();
  const health = useAsync(() => ok(client.api.GET('/api/v1/stats/health')), [], { pollMs: 5_000 });
  const h = health.data;
  return (
    <section>
      <PageHeader title="Health" subtitle="Refreshes every 5 seconds." />
      {health.loading && !h ? (
        <Loading what="Loading health…" />
      ) : health.error && !h ? (
        <ErrorState error={health.error} onRetry={health.reload} />
      ) : h ? (
        <>
          <div className="stats">
            <div className="stat card">
              <span className="stat-label">Queue depth</span>
              <span className="stat-value" data-testid="queue-depth">
                {h.queueDepth}
              </span>
              <span className="muted">due now or being sent{h.inFlight !== undefined && ` (${h.inFlight} in flight)`}</span>
            </div>
            <div className="stat card">
              <span className="stat-label">Scheduled retries</span>
              <span className="stat-value">{h.scheduledRetries}</span>
              <span className="muted">waiting for their next attempt</span>
            </div>
            <div className="stat card">
              <span className="stat-label">Deliveries per minute</span>
              <span className="stat-value">{h.deliveriesPerMinute}</span>
              <span className="muted">
                average over the last 5 minutes
                {h.succeededLast5m !== undefined && ` (${h.succeededLast5m} succeeded, ${h.failedLast5m ?? 0} failed)`}
              </span>
            </div>
          </div>
          <h2 className="section-title">Failing endpoints</h2>
          {!h.failingEndpoints.length ? (
            <Empty>No endpoint is failing.</Empty>
          ) : (
            <DataTable columns={['Endpoint', 'Application', 'Failures in a row', 'Latest error', 'State']}>
              {h.failingEndpoints.map((f) => {
                const id = f.endpointId;
                return (
                  <tr key={`${f.appId}/${id}`}>
                    <td data-label="Endpoint" className="break">
                      <Link to={`${appBase(f.appId)}/webhooks/${seg(id)}`}>{f.url ?? id}</Link>
                    </td>
                    <td data-label="Application">
                      <code>{f.appId}</code>
                    </td>
                    <td data-label="Failures in a row">{f.consecutiveFailures ?? '—'}</td>
                    <td data-label="Latest error" className="break">
                      {f.lastError ?? '—'}
                    </td>
                    <td data-label="State">
                      {f.disabled ? 'Disabled' : 'Failing'}
                      {f.disabledReason && <div className="cell-sub reason">{f.disabledReason}</div>}
                    </td>
                  </tr>
                );
              })}
            </DataTable>
          )}
        </>
      ) : null}
    </section>
  );
}
