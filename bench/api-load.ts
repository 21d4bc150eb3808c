/**
 * Load on Herald's publish API from the bench process, in two shapes:
 *  - closed loop: N publishers, each sending its next request when the last one is answered (the
 *    most a given number of clients gets through; Herald's speed sets the rate);
 *  - open loop: requests at a fixed arrival rate, each sent at its due time whether or not earlier
 *    ones were answered, over many connections (a platform's traffic does not slow down because
 *    Herald does, so a slow Herald shows up as latency instead of a lower offered rate).
 * Every payload carries `t`, the time the request was due (epoch ms, the receiver's clock: same
 * machine), from which the receiver measures publish-to-arrival latency.
 */
import type { HeraldApi } from './api-client.js';
import { now, sleep } from './harness.js';

/** What a closed-loop run got through. */
export interface ClosedLoopResult {
  /** Messages Herald accepted (202). */
  accepted: number;
  /** Messages whose request was refused, failed or timed out. */
  failed: number;
  /** Requests sent. */
  requests: number;
  /** When the first request was sent, epoch ms. */
  start: number;
  /** When the last answer came, epoch ms. */
  end: number;
  /** True when the time limit ended it before `messages` were sent. */
  cutShort: boolean;
}

/** Options of {@link closedLoop}. */
export interface ClosedLoopOptions {
  /** Concurrent publishers, each with a connection of its own. */
  publishers: number;
  /** Messages per request: 1 is POST …/msg, more is POST …/msg/batch. */
  batch: number;
  /** Stop after this many messages (default: no count, only the time limit). */
  messages?: number;
  /** Stop sending after this many seconds (the phase length, or a bound on a counted run). */
  seconds: number;
  /** Stop at once when this answers true (the Herald under test has exited). */
  abort?: () => boolean;
}

/** Publishes with `publishers` closed-loop clients until `messages` are sent or `seconds` pass. */
export async function closedLoop(api: HeraldApi, appId: string, opts: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const limit = opts.messages ?? Infinity;
  let next = 0;
  let accepted = 0;
  let failed = 0;
  let requests = 0;
  const start = now();
  const stopAt = start + opts.seconds * 1000;
  await Promise.all(
    Array.from({ length: opts.publishers }, async () => {
      while (next < limit && now() < stopAt && !opts.abort?.()) {
        const first = next;
        const n = Math.min(opts.batch, limit - first);
        next += n;
        requests++;
        const t = now();
        const payloads = Array.from({ length: n }, (_, k) => ({ t, i: first + k, orderId: `ord_${first + k}`, total: 4900 }));
        try {
          const ok = opts.batch === 1 ? Number(await api.publish(appId, payloads[0]!)) : await api.publishBatch(appId, payloads);
          accepted += ok;
          failed += n - ok;
        } catch {
          failed += n;
          await sleep(10); // a Herald that is down must not turn this into a busy loop
        }
      }
    }),
  );
  return { accepted, failed, requests, start, end: now(), cutShort: next < limit && Number.isFinite(limit) };
}

/** What an open-loop run offered and got through. */
export interface OpenLoopResult {
  /** Requests scheduled (one message each). */
  scheduled: number;
  /** Accepted (202). */
  accepted: number;
  /** Refused, failed or timed out. */
  failed: number;
  /** Not answered within the wait after the last due time. */
  unanswered: number;
  /** First due time and last answer, epoch ms. */
  start: number;
  end: number;
  /** Accepted messages per second, from the first due time to the last answer. */
  achieved: number;
  /** How far behind its schedule the generator itself fell at worst, ms (its own limit, not Herald's). */
  maxLag: number;
}

/**
 * Sends `rate` single-message publishes per second for `seconds`, each at its due time, and waits at
 * most `answerMs` after the last due time for the answers.
 */
export async function openLoop(api: HeraldApi, appId: string, rate: number, seconds: number, answerMs: number): Promise<OpenLoopResult> {
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  let accepted = 0;
  let failed = 0;
  let settled = 0;
  let maxLag = 0;
  let end = 0;
  const start = now() + 5;
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    maxLag = Math.max(maxLag, now() - due);
    // Not awaited: the next request is due at its time whatever happens to this one.
    void api
      .publish(appId, { t: due, i, orderId: `ord_${i}`, total: 4900 })
      .then(
        (ok) => (ok ? accepted++ : failed++),
        () => failed++,
      )
      .finally(() => {
        settled++;
        end = now();
      });
  }
  const until = now() + answerMs;
  while (settled < total && now() < until) await sleep(10);
  const unanswered = total - settled;
  const last = end || now();
  return { scheduled: total, accepted, failed, unanswered, start, end: last, achieved: accepted / ((last - start) / 1000), maxLag };
}
