import { describe, expect, it } from 'vitest';
import { generateToken, hashToken, parseToken } from './auth-tokens.js';

describe('token format', () => {
  it('generates kind-prefixed tokens whose lookup prefix and hash match', () => {
    for (const [kind, p] of [['api_key', 'hk'], ['portal', 'hp'], ['admin', 'ha']] as const) {
      const { token, prefix, hash } = generateToken(kind);
      expect(token).toMatch(new RegExp(`^${p}_${prefix}_[A-Za-z0-9_-]{43}$`));
      expect(parseToken(token)).toEqual({ kind, prefix });
      expect(hash.equals(hashToken(token))).toBe(true);
    }
  });

  it('is deterministic given the randomness, and different tokens never share a hash', () => {
    const fixed = (n: number) => new Uint8Array(n).fill(7);
    expect(generateToken('api_key', fixed).token).toBe(generateToken('api_key', fixed).token);
    expect(generateToken('api_key').hash.equals(generateToken('api_key').hash)).toBe(false);
  });

  it('refuses anything that is not a Herald token', () => {
    for (const t of ['', 'Bearer x', 'hk_short_x', `hx_0123456789ab_${'A'.repeat(43)}`, `hk_0123456789AB_${'A'.repeat(43)}`, `hk_0123456789ab_${'A'.repeat(42)}`]) {
      expect(parseToken(t)).toBeNull();
    }
  });
});
