/**
 * The operator dashboard at `/`: sign-in, the shell (navigation, who is signed in, sign-out), and the
 * routes. A scoped API key lands on its one application; pages the token may not use are not linked.
 */
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { ToastHost } from './components/Toasts';
import { ErrorState, Loading } from './components/States';
import { HeraldClient, ok } from './lib/api';
import { AppContext, permissionCheck, type AppContextValue } from './lib/context';
import { Link, matchPath, navigate, useLocation } from './lib/router';
import { clearToken, readToken } from './lib/session';
import type { WhoAmI } from './lib/types';
import { useAsync } from './lib/use-async';
import { Alerts } from './pages/Alerts';
import { ApiKeys } from './pages/ApiKeys';
import { Applications } from './pages/Applications';
import { Deliveries } from './pages/Deliveries';
import { EventTypes } from './pages/EventTypes';
import { Health } from './pages/Health';
import { NotFound } from './pages/NotFound';
import { SignIn } from './pages/SignIn';
import { WebhookCreate } from './pages/WebhookCreate';
import { WebhookEdit } from './pages/WebhookEdit';
import { WebhookList } from './pages/WebhookList';

const EXPIRED = 'Your token is no longer accepted (it expired or was revoked). Sign in again.';

/** Dashboard root: signed out → SignIn; signed in → shell. */
export function Dashboard() {
  const [token, setToken] = useState<string | null>(() => readToken('dashboard'));
  const [notice, setNotice] = useState<string | null>(null);
  const [who, setWho] = useState<WhoAmI | null>(null);

  const signOut = (why: string | null) => {
    clearToken('dashboard');
    setToken(null);
    setWho(null);
    setNotice(why);
  };
  if (!token) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(t, w) => {
          setToken(t);
          setWho(w);
          setNotice(null);
        }}
      />
    );
  }
  return <SignedIn key={token} token={token} initialWho={who} onSignOut={signOut} />;
}

function SignedIn({ token, initialWho, onSignOut }: { token: string; initialWho: WhoAmI | null; onSignOut: (why: string | null) => void }) {
  const client = useMemo(() => new HeraldClient(token, () => onSignOut(EXPIRED)), [token]); // eslint-disable-line react-hooks/exhaustive-deps
  const whoami = useAsync(() => (initialWho ? Promise.resolve(initialWho) : ok(client.api.GET('/api/v1/auth/whoami'))), [client]);
  if (!whoami.data) {
    return <main id="main">{whoami.error ? <ErrorState error={whoami.error} onRetry={whoami.reload} /> : <Loading what="Signing in…" />}</main>;
  }
  const who = whoami.data;
  return (
    <ToastHost>
      {(toast) => {
        const ctx: AppContextValue = {
          client,
          who,
          mode: 'dashboard',
          can: permissionCheck(who),
          isOperator: who.appId === null && who.kind !== 'portal',
          appBase: (appId) => `/apps/${encodeURIComponent(appId)}`,
          toast,
          signOut: () => onSignOut('You have signed out.'),
        };
        return (
          <AppContext.Provider value={ctx}>
            <Shell ctx={ctx}>
              <Routes ctx={ctx} />
            </Shell>
          </AppContext.Provider>
        );
      }}
    </ToastHost>
  );
}

/** Who the token is, in a few words. */
function identity(who: WhoAmI): string {
  if (who.kind === 'admin') return 'Operator';
  const scope = who.appId ? `application ${who.appId}` : 'all applications';
  return `API key (${who.permissions.join(', ') || 'no permissions'}) · ${scope}`;
}

function Shell({ ctx, children }: { ctx: AppContextValue; children: ReactNode }) {
  const { pathname } = useLocation();
  const { who, isOperator } = ctx;
  const items: { to: string; label: string; show: boolean }[] = [
    { to: '/', label: 'Applications', show: isOperator },
    { to: who.appId ? ctx.appBase(who.appId) : '/', label: 'Webhooks', show: !!who.appId },
    { to: '/alerts', label: 'Alerts', show: true },
    { to: '/event-types', label: 'Event types', show: isOperator },
    { to: '/api-keys', label: 'API keys', show: isOperator },
    { to: '/health', label: 'Health', show: isOperator },
  ];
  const current = (to: string) => (to === '/' ? pathname === '/' || pathname.startsWith('/apps/') : pathname.startsWith(to));
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          <img src="/favicon.svg" alt="" width="24" height="24" /> Herald
        </Link>
        <nav aria-label="Main" className="nav">
          {items
            .filter((i) => i.show)
            .map((i) => (
              <Link key={i.label} to={i.to} aria-current={current(i.to) ? 'page' : undefined}>
                {i.label}
              </Link>
            ))}
        </nav>
        <div className="whoami">
          <span className="muted" data-testid="identity">
            {identity(who)}
          </span>
          <button type="button" className="button button-small" onClick={ctx.signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" className="main">
        {children}
      </main>
    </>
  );
}

function Routes({ ctx }: { ctx: AppContextValue }) {
  const { pathname } = useLocation();
  const { who, can, isOperator } = ctx;
  const home = who.appId ? ctx.appBase(who.appId) : '/';
  useEffect(() => {
    if (pathname === '/' && who.appId) navigate(home, { replace: true });
  }, [pathname, who.appId, home]);

  let m: Record<string, string> | null;
  if (pathname === '/') return who.appId ? null : <Applications />;
  if ((m = matchPath('/apps/:app', pathname))) return <WebhookList key={m.app} appId={m.app!} />;
  if ((m = matchPath('/apps/:app/webhooks/new', pathname))) return can('create') ? <WebhookCreate appId={m.app!} /> : <NotFound home={home} notAllowed />;
  if ((m = matchPath('/apps/:app/webhooks/:ep', pathname))) return <Deliveries key={m.ep} appId={m.app!} endpointId={m.ep!} />;
  if ((m = matchPath('/apps/:app/webhooks/:ep/edit', pathname))) return <WebhookEdit key={m.ep} appId={m.app!} endpointId={m.ep!} />;
  if ((m = matchPath('/apps/:app/alerts', pathname))) return <Alerts key={m.app} appId={m.app!} />;
  if (pathname === '/alerts') return <Alerts appId={who.appId ?? undefined} />;
  if (pathname === '/event-types') return isOperator ? <EventTypes /> : <NotFound home={home} notAllowed />;
  if (pathname === '/api-keys') return isOperator ? <ApiKeys /> : <NotFound home={home} notAllowed />;
  if (pathname === '/health') return isOperator ? <Health /> : <NotFound home={home} notAllowed />;
  return <NotFound home={home} />;
}
