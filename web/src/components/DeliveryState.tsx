/**
 * How a webhook is being sent right now, on its page: paused with the deliveries held (or disabled
 * automatically, which stops sending), the circuit breaker, and the delivery policy in force with
 * which values it sets itself and which it inherits.
 */
import { formatDateTime } from '../lib/format';
import { breakerBadge, breakerSentence, formatMs, formatSchedule, heldText } from '../lib/policy';
import type { EndpointOut } from '../lib/types';
import { Badge } from './Badge';

/** The notice above a paused or automatically disabled webhook's history; null while it is active. */
export function PauseNotice({ endpoint, canUpdate }: { endpoint: EndpointOut; canUpdate: boolean }) {
  if (!endpoint.disabled) return null;
  if (endpoint.paused ?? endpoint.disabledBy !== 'auto') {
    return (
      <p className="notice" role="status" data-testid="paused-notice">
        <strong>{heldText(endpoint.held ?? 0)}</strong>. New events are kept, not sent, while the webhook is paused; resuming it sends them in the order they were published.
        {canUpdate && ' Resume it with Edit, or Resume in the list. Test events, resend and recover wait until then.'}
      </p>
    );
  }
  return (
    <p className="notice notice-bad" role="status">
      <strong>Disabled automatically</strong>: nothing is being sent, and events published meanwhile are recorded as not sent.
      {canUpdate && ' Fix the receiver, resume the webhook (Edit), then use Recover failed to send them.'}
    </p>
  );
}

/** Breaker state and the policy in force. */
export function DeliveryState({ endpoint }: { endpoint: EndpointOut }) {
  const { breaker, effectivePolicy: eff } = endpoint;
  if (!breaker && !eff) return null; // a server without Herald's extras
  const own = (v: unknown) => (v == null ? <span className="muted"> (inherited)</span> : null);
  return (
    <section className="card delivery-state" aria-labelledby="delivery-state-title">
      <h2 id="delivery-state-title">Delivery</h2>
      <dl className="facts">
        {breaker && (
          <div className="fact-wide" data-testid="breaker">
            <dt>Circuit breaker</dt>
            <dd>
              <Badge tone={breakerBadge(breaker.state).tone}>{breakerBadge(breaker.state).label}</Badge>{' '}
              {breakerSentence(breaker, breaker.openUntil ? formatDateTime(breaker.openUntil) : null)}
            </dd>
          </div>
        )}
        {eff && (
          <>
            <div>
              <dt>Max in flight</dt>
              <dd>
                {eff.maxInFlight}
                {own(endpoint.maxInFlight)}
              </dd>
            </div>
            <div>
              <dt>Timeout</dt>
              <dd>
                {formatMs(eff.timeoutMs)}
                {own(endpoint.timeoutMs)}
              </dd>
            </div>
            <div>
              <dt>Throttle rate</dt>
              <dd>
                {eff.throttleRate === null ? 'No limit' : `${eff.throttleRate}/s`}
                {eff.throttleRate !== null && own(endpoint.throttleRate)}
              </dd>
            </div>
            <div>
              <dt>Ordering</dt>
              <dd>{endpoint.ordering === 'strict' ? 'Strict (in publish order)' : 'Parallel'}</dd>
            </div>
            <div className="fact-wide">
              <dt>Retry schedule</dt>
              <dd data-testid="retry-schedule">
                {eff.retrySchedule.length ? `${formatSchedule(eff.retrySchedule)} (${eff.retrySchedule.length + 1} attempts)` : 'No retries (1 attempt)'}
                {own(endpoint.retrySchedule)}
              </dd>
            </div>
          </>
        )}
      </dl>
    </section>
  );
}
