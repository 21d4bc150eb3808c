/**
 * For receivers: verify a Herald delivery (Standard Webhooks signature) against the raw request body.
 *
 * ```ts
 * import { verifyWebhook } from 'herald/verify';
 * const result = verifyWebhook({ secrets: [webhookSecret], headers: req.headers, body: rawBody });
 * if (!result.ok) return res.status(400).send(result.detail);
 * ```
 */
import { verifySignature, type VerifyResult } from '../core/signing.js';

/** What {@link verifyWebhook} needs. */
export interface VerifyWebhookInput {
  /** Your endpoint's secret(s), `whsec_…`; pass two during a rotation. */
  secrets: string[];
  /** Request headers (any casing; arrays allowed). */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body bytes, before any JSON parsing. */
  body: Buffer | string;
  /** Largest accepted clock difference in seconds (default 300). */
  toleranceSeconds?: number;
}

/** Verifies signature and timestamp; `ok: false` carries a reason and a sentence saying what to check. */
export function verifyWebhook(input: VerifyWebhookInput): VerifyResult {
  return verifySignature({ ...input, nowSeconds: Math.floor(Date.now() / 1000) });
}

export type { VerifyResult };
