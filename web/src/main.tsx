/**
 * Entry point: the portal under `/portal`, the dashboard everywhere else. The portal's token is taken
 * out of the URL fragment before the first render, so it never lingers in the address bar.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Dashboard } from './Dashboard';
import { Portal, PORTAL_BASE } from './Portal';
import { adoptPortalTokenFromFragment } from './lib/session';
import './styles.css';

const isPortal = window.location.pathname === PORTAL_BASE || window.location.pathname.startsWith(`${PORTAL_BASE}/`);
if (isPortal) adoptPortalTokenFromFragment();
document.title = isPortal ? 'Webhooks' : 'Herald';

createRoot(document.getElementById('root')!).render(<StrictMode>{isPortal ? <Portal /> : <Dashboard />}</StrictMode>);
