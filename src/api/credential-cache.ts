/**
 * A short-lived cache of authenticated credentials, so a platform publishing thousands of messages a
 * second with one API key pays one token lookup per second instead of one per request.
 *
 * Keyed by sha256 of the token (the token itself is never kept). An entry lives at most `ttlMs`
 * (1 s) and never past the token's own expiry, so a token revoked on another Herald node stops working
 * within a second; one revoked through this node is forgotten at once. Failed lookups are not cached:
 * a wrong token always costs its lookup, and cannot fill the cache. The cache is bounded (oldest
 * entries go first).
 */
import type { Credential } from '../engine/auth-tokens.js';

interface Entry {
  credential: Credential;
  /** performance.now() after which the entry is stale: freshness runs on real time, even under a fake clock. */
  freshUntil: number;
}

export class CredentialCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs = 1_000,
    private readonly maxEntries = 10_000,
  ) {}

  /** The credential of a token hash, if cached, fresh, and its token not expired at `now` (Herald's clock). */
  get(hash: Buffer, now: Date): Credential | undefined {
    const key = hash.toString('base64');
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.freshUntil > performance.now() && (e.credential.expiresAt === null || e.credential.expiresAt > now)) return e.credential;
    this.entries.delete(key);
    return undefined;
  }

  /** Remembers a credential for the cache's time to live. */
  set(hash: Buffer, credential: Credential): void {
    if (this.ttlMs <= 0) return;
    const key = hash.toString('base64');
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { credential, freshUntil: performance.now() + this.ttlMs });
  }

  /** Forgets everything (after a token is revoked through this node). */
  clear(): void {
    this.entries.clear();
  }
}
