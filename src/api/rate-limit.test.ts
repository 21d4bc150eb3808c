import { describe, expect, it } from 'vitest';
import { takeToken } from './rate-limit.js';

describe('takeToken', () => {
  it('allows a burst of twice the rate, then refuses until tokens refill', () => {
    let bucket;
    let allowed = 0;
    for (let i = 0; i < 25; i++) {
      const step = takeToken(bucket, 0, 10);
      bucket = step.bucket;
      if (step.ok) allowed++;
    }
    expect(allowed).toBe(20);
    const refused = takeToken(bucket, 0, 10);
    expect(refused).toMatchObject({ ok: false, retryAfterSeconds: 1 });
    expect(takeToken(refused.bucket, 100, 10).ok).toBe(true); // 100 ms at 10/s refills one token
  });

  it('never stores more than the burst', () => {
    const step = takeToken({ tokens: 0, updatedMs: 0 }, 3_600_000, 5);
    expect(step.bucket.tokens).toBe(9);
  });
});
