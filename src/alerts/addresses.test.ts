import { describe, expect, it } from 'vitest';
import { isEmailAddress, parseAddressList, parseMailbox } from './addresses.js';

describe('email addresses', () => {
  it('accepts one plain address, nothing else', () => {
    expect(isEmailAddress('ops@example.com')).toBe(true);
    expect(isEmailAddress('first.last+alerts@sub.example.co.uk')).toBe(true);
    for (const bad of ['', 'ops', 'ops@', '@example.com', 'a b@example.com', 'a@b.co, c@d.co', 'Ops <ops@example.com>', `${'x'.repeat(250)}@example.com`]) {
      expect(isEmailAddress(bad), bad).toBe(false);
    }
  });

  it('parses a sender with or without a display name', () => {
    expect(parseMailbox('alerts@example.com')).toEqual({ address: 'alerts@example.com', name: null });
    expect(parseMailbox('Herald alerts <alerts@example.com>')).toEqual({ address: 'alerts@example.com', name: 'Herald alerts' });
    expect(parseMailbox('"Herald" <alerts@example.com>')).toEqual({ address: 'alerts@example.com', name: 'Herald' });
    expect(parseMailbox('Herald <not-an-address>')).toBeNull();
    expect(parseMailbox('Evil\r\nBcc: x <alerts@example.com>')).toBeNull();
  });

  it('splits a list, drops empty entries and repeats, and names the first bad entry', () => {
    expect(parseAddressList(' a@example.com, ,b@example.org,A@example.com ')).toEqual({ ok: true, addresses: ['a@example.com', 'b@example.org'] });
    expect(parseAddressList('')).toEqual({ ok: true, addresses: [] });
    expect(parseAddressList('a@example.com;b@example.com')).toEqual({ ok: false, bad: 'a@example.com;b@example.com' });
  });
});
