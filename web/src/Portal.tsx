/**
 * The customer portal at `/portal`: one application, opened with a short-lived portal token from
 * `app-portal-access`, embeddable in the platform's own site. The token arrives in the URL
 * fragment and is moved into sessionStorage before anything renders (main.tsx). An expired or revoked
 * token lands on a page that says so.
 */
import { useMemo, useState } from 'react';
import { ToastHost } from './components/Toasts';
import { ErrorState, Loading } from './components/States';
import { ApiError, HeraldClient, ok } from './lib/api';
import { AppContext, permissionCheck, type AppContextValue } from './lib/context';
import { matchPath, useLocation } from './lib/router';
import { clearToken, readToken } from './lib/session';
import { useAsync } from './lib/use-async';
import { Alerts } from './pages/Alerts';
import { Deliveries } from './pages/Deliveries';
import { NotFound } from './pages/NotFound';
import { WebhookCreate } from './pages/WebhookCreate';
import { WebhookEdit } from './pages/WebhookEdit';
import { WebhookList } from './pages/WebhookList';

/** Base path of the portal. */
export const PORTAL_BASE = '/portal';

/** Full-page message for a portal that cannot be shown. */
export function PortalMessage({ title, children }: { title: string; children: string }) {
  return (
    <main className="portal-message" id="main">
      <div className="card">
        <h1>{title}</h1>
        <p>{children}</p>
      </div>
    </main>
  );
}

/** Portal root. */
export function Portal() {
  const [token] = useState(() => readToken('portal'));
  const [expired, setExpired] = useState(false);
  const client = useMemo(
    () =>
      new HeraldClient(token ?? '', () => {
        clearToken('portal');
        setExpired(true);
      }),
    [token],
  );
  const whoami = useAsync(() => (token ? ok(client.api.GET('/api/v1/auth/whoami')) : Promise.resolve(null)), [client]);

  if (!token) {
    return <PortalMessage title="No access">This page opens from a portal link. Ask the platform you use for a link to manage your webhooks.</PortalMessage>;
  }
  if (expired || (whoami.error instanceof ApiError && whoami.error.status === 401)) {
    return <PortalMessage title="This link has expired">Your access link has expired or was revoked. Open the webhooks page again from the platform you use to get a new one.</PortalMessage>;
  }
  if (!whoami.data) {
    return <main id="main">{whoami.error ? <ErrorState error={whoami.error} onRetry={whoami.reload} /> : <Loading what="Opening your webhooks…" />}</main>;
  }
  const who = whoami.data;
  if (!who.appId) return <PortalMessage title="No access">This token is not a portal token for one application.</PortalMessage>;
  const appId = who.appId;
  return (
    <ToastHost>
      {(toast) => {
        const ctx: AppContextValue = {
          client,
          who,
          mode: 'portal',
          can: permissionCheck(who),
          isOperator: false,
          appBase: () => PORTAL_BASE,
          toast,
          signOut: () => {
            clearToken('portal');
            setExpired(true);
          },
        };
        return (
          <AppContext.Provider value={ctx}>
            <a className="skip-link" href="#main">
              Skip to content
            </a>
            <main id="main" className="main portal">
              <PortalRoutes appId={appId} />
            </main>
          </AppContext.Provider>
        );
      }}
    </ToastHost>
  );
}

function PortalRoutes({ appId }: { appId: string }) {
  const { pathname } = useLocation();
  let m: Record<string, string> | null;
  if (pathname === PORTAL_BASE || pathname === `${PORTAL_BASE}/`) return <WebhookList appId={appId} />;
  if (matchPath(`${PORTAL_BASE}/alerts`, pathname)) return <Alerts appId={appId} />;
  if (matchPath(`${PORTAL_BASE}/webhooks/new`, pathname)) return <WebhookCreate appId={appId} />;
  if ((m = matchPath(`${PORTAL_BASE}/webhooks/:ep`, pathname))) return <Deliveries key={m.ep} appId={appId} endpointId={m.ep!} />;
  if ((m = matchPath(`${PORTAL_BASE}/webhooks/:ep/edit`, pathname))) return <WebhookEdit key={m.ep} appId={appId} endpointId={m.ep!} />;
  return <NotFound home={PORTAL_BASE} />;
}
