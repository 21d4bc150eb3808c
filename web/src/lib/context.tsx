/**
 * What every page needs: the API client, who the token is, what it may do, where the current
 * application's pages live (dashboard `/apps/:app`, portal `/portal`), and the toast function.
 */
import { createContext, useContext } from 'react';
import type { HeraldClient } from './api';
import type { Mode } from './session';
import type { Permission, WhoAmI } from './types';

/** The value of AppContext. */
export interface AppContextValue {
  /** Client bound to the session's token. */
  client: HeraldClient;
  /** Who the token is. */
  who: WhoAmI;
  /** Dashboard or portal. */
  mode: Mode;
  /**
   * Whether the token may do something; controls it may not use are hidden, not shown to fail.
   * `publish` (Send test event) is create for API keys, and for a portal token create plus the
   * platform's grant (`canPublish` from whoami).
   */
  can: (permission: Permission | 'publish') => boolean;
  /** A global token (operator token or unscoped API key): every application, catalogue, keys, health. */
  isOperator: boolean;
  /** Base path of an application's webhook pages. */
  appBase: (appId: string) => string;
  /** Shows a short confirmation or error. */
  toast: (message: string, tone?: 'ok' | 'bad') => void;
  /** Ends the session. */
  signOut: () => void;
}

/** Provided by the dashboard and portal shells. */
export const AppContext = createContext<AppContextValue | null>(null);

/** The app context; pages are always rendered inside a shell. */
export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside AppContext');
  return value;
}

/** Builds `can` from a WhoAmI. */
export function permissionCheck(who: WhoAmI): (permission: Permission | 'publish') => boolean {
  const granted = new Set(who.permissions);
  return (permission) => (permission === 'publish' ? who.canPublish : granted.has(permission));
}
