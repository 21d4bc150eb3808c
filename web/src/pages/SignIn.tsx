/**
 * Dashboard sign-in: an API key or the operator token, checked against /auth/whoami and then kept in
 * sessionStorage for this tab only (never a cookie, never a URL).
 */
import { useState, type FormEvent } from 'react';
import { ApiError, errorMessage, HeraldClient, ok } from '../lib/api';
import { saveToken } from '../lib/session';
import type { WhoAmI } from '../lib/types';

/** Sign-in page; `notice` explains why the user is here again (expired, signed out). */
export function SignIn({ notice, onSignedIn }: { notice?: string | null; onSignedIn: (token: string, who: WhoAmI) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return;
    setBusy(true);
    setError(null);
    try {
      const who = await ok(new HeraldClient(t).api.GET('/api/v1/auth/whoami'));
      saveToken('dashboard', t);
      onSignedIn(t, who);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'That token was not accepted: it is wrong, expired or revoked.' : errorMessage(err));
      setBusy(false);
    }
  };
  return (
    <main className="signin" id="main">
      <form className="card signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <div className="brand brand-large">
          <img src="/favicon.svg" alt="" width="32" height="32" /> Herald
        </div>
        <h1 id="signin-title">Sign in</h1>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <div className={error ? 'field field-invalid' : 'field'}>
          <label htmlFor="token">API key or operator token</label>
          <input
            id="token"
            type="password"
            value={token}
            autoComplete="off"
            spellCheck={false}
            autoFocus
            aria-describedby={error ? 'token-error token-hint' : 'token-hint'}
            aria-invalid={error ? true : undefined}
            onChange={(e) => setToken(e.target.value)}
          />
          <p className="field-hint" id="token-hint">
            Kept in this browser tab only, and forgotten when you sign out or close it.
          </p>
          {error && (
            <p className="field-error" id="token-error" role="alert">
              {error}
            </p>
          )}
        </div>
        <button type="submit" className="button button-primary button-block" disabled={!token.trim() || busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
