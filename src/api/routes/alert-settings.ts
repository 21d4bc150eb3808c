/**
 * Alert settings (Herald extension): the operators' addresses, the batching window and the on/off
 * switch of alert emails, editable at run time (the dashboard's alert settings). Stored in the
 * database, so every Herald process's sender follows a change at its next pass; the environment
 * (HERALD_ALERT_EMAILS, HERALD_ALERT_WINDOW) gives the defaults until the first PUT. These concern
 * every customer, so only the operator token and global API keys reach them: an application's keys
 * and portal tokens get 403. An application's own contact is its `alertEmail` (PUT/PATCH /app).
 */
import { loadAlertSettings } from '../../alerts/alert-settings.js';
import { putAlertSettings } from '../../store/settings.js';
import { requireGlobal } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { AlertSettingsIn, AlertSettingsOut, storedAlertSettingsOf, toAlertSettingsOut } from '../schemas/alert-settings.js';
import { errorResponses } from '../schemas/common.js';

const tags = ['Operational Webhook'];

/** Registers GET and PUT /alert-settings. */
export default async function alertSettingsRoutes(app: Api, deps: ApiDeps): Promise<void> {
  const { herald } = deps;

  app.get('/alert-settings', {
    config: { permission: 'read' },
    schema: {
      operationId: 'v1.alert-settings.get',
      tags,
      summary: 'Get the alert email settings',
      description: 'Herald extension. The settings in force: the stored ones, else the environment\'s defaults.',
      response: { 200: AlertSettingsOut, ...errorResponses() },
    },
  }, async (req) => {
    requireGlobal(req, 'read');
    return toAlertSettingsOut(await loadAlertSettings(herald.pool, herald.config));
  });

  app.put('/alert-settings', {
    config: { permission: 'update' },
    schema: {
      operationId: 'v1.alert-settings.update',
      tags,
      summary: 'Replace the alert email settings',
      description: 'Herald extension. Applies to every Herald process within seconds. The SMTP server itself is set with HERALD_SMTP_URL only (it holds a password).',
      body: AlertSettingsIn,
      response: { 200: AlertSettingsOut, ...errorResponses(422) },
    },
  }, async (req) => {
    requireGlobal(req, 'update');
    await putAlertSettings(herald.pool, storedAlertSettingsOf(req.body), herald.clock.now());
    return toAlertSettingsOut(await loadAlertSettings(herald.pool, herald.config));
  });
}
