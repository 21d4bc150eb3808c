/** The alert settings of the configuration: parsed, checked at start, and no credential echoed in an error. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const error = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('alert configuration', () => {
  it('parses the SMTP URL, sender, operator list and window', () => {
    const c = loadConfig({
      HERALD_SMTP_URL: 'smtps://herald:s3cret@smtp.example.com:465',
      HERALD_ALERT_FROM: 'Herald <alerts@example.com>',
      HERALD_ALERT_EMAILS: 'ops@example.com, oncall@example.com',
      HERALD_ALERT_WINDOW: '5m',
    });
    expect(c.HERALD_SMTP_URL).toBe('smtps://herald:s3cret@smtp.example.com:465');
    expect(c.HERALD_ALERT_FROM).toBe('Herald <alerts@example.com>');
    expect(c.HERALD_ALERT_EMAILS).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(c.HERALD_ALERT_WINDOW).toBe(300_000);
    const d = loadConfig({});
    expect(d.HERALD_SMTP_URL).toBeUndefined();
    expect(d.HERALD_ALERT_EMAILS).toEqual([]);
    expect(d.HERALD_ALERT_WINDOW).toBe(900_000);
  });

  it('stops at start on a bad address, naming it', () => {
    expect(error({ HERALD_ALERT_EMAILS: 'ops@example.com,oncall' })).toContain('HERALD_ALERT_EMAILS="ops@example.com,oncall": "oncall" is not an email address');
    expect(error({ HERALD_ALERT_FROM: 'Herald' })).toContain('HERALD_ALERT_FROM="Herald": must be an email address');
    expect(error({ HERALD_ALERT_WINDOW: '1s' })).toContain('HERALD_ALERT_WINDOW="1s": must be between 10s and 7d');
    expect(error({ HERALD_SMTP_URL: 'smtp://smtp.example.com' })).toContain('HERALD_ALERT_FROM="": is required with HERALD_SMTP_URL');
  });

  it('never prints the SMTP URL (it holds the password)', () => {
    const msg = error({ HERALD_SMTP_URL: 'https://herald:hunter2@smtp.example.com' });
    expect(msg).toContain('HERALD_SMTP_URL=(value not shown): must be a URL such as smtps://');
    expect(msg).not.toContain('hunter2');
  });
});
