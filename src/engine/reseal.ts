/**
 * Re-sealing stored secrets: `herald secrets rotate-key` moves every sealed value under the first key
 * of HERALD_SECRET_KEY, after which the older keys can be removed; and a sweep at start seals custom
 * header values that rows from before migration 0014 still hold in clear.
 *
 * Both work in bounded batches (one read and one compare-and-set write each, src/store/sealed-values.ts)
 * and touch only rows not under the current key, so they can be interrupted at any point and run
 * again: the next run finds exactly what is left. Before an endpoint's clear header values are
 * sealed, the attempts logged with them are redacted, so no old attempt keeps the credential either.
 */
import { HeraldError } from '../core/errors.js';
import { headerAad, type StoredHeaders } from '../core/custom-headers.js';
import type { SecretBox } from '../core/secret-box.js';
import type { Logger } from '../logger.js';
import type { Queryable } from '../store/pool.js';
import {
  headersInClear,
  headersNotUnder,
  redactAttemptHeaders,
  responsesNotUnder,
  secretsNotUnder,
  writeHeaders,
  writeResponses,
  writeSecrets,
  type StoredHeadersRow,
} from '../store/sealed-values.js';

/** The kinds of sealed values, in the order rotation handles them. */
export type SealedKind = 'endpoint secrets' | 'custom headers' | 'idempotent responses';

/** Progress after a batch: how many values of a kind have been rewritten so far in this run. */
export interface ResealProgress {
  /** Which kind the batch was. */
  kind: SealedKind;
  /** Rows rewritten so far, this kind. */
  done: number;
}

/** Options of {@link rotateSealedValues}. */
export interface RotateOptions {
  /** Rows per batch (default 200). */
  batchSize?: number;
  /** Called after every batch. */
  onProgress?: (p: ResealProgress) => void;
  /** Stops between batches when aborted (what is done stays done). */
  signal?: AbortSignal;
}

/** Rows rewritten per kind. */
export type RotateResult = Record<SealedKind, number>;

/** Opens a value or says which row cannot be opened, without any of its content. */
function openOrExplain(box: SecretBox, sealed: string, aad: string, what: string): string {
  try {
    return box.open(sealed, aad);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new HeraldError('config', `${what} cannot be opened: ${why}. Nothing after it was changed; add the key it was sealed with to HERALD_SECRET_KEY (after the new first key) and run again`, { cause: e });
  }
}

/** Re-seals every stored sealed value under the current key; resumable, see the module comment. */
export async function rotateSealedValues(db: Queryable, box: SecretBox, opts: RotateOptions = {}): Promise<RotateResult> {
  const limit = opts.batchSize ?? 200;
  const kid = box.currentKeyId;
  const result: RotateResult = { 'endpoint secrets': 0, 'custom headers': 0, 'idempotent responses': 0 };
  const progress = (kind: SealedKind, n: number) => {
    result[kind] += n;
    opts.onProgress?.({ kind, done: result[kind] });
  };
  const stopped = () => opts.signal?.aborted === true;

  for (let after = 0; !stopped(); ) {
    const rows = await secretsNotUnder(db, kid, after, limit);
    if (rows.length === 0) break;
    const sealed = rows.map((r) => ({ id: r.id, old: r.sealed, sealed: box.seal(openOrExplain(box, r.sealed, r.endpointId, `the signing secret (row ${r.id}) of endpoint ${r.endpointId}`), r.endpointId) }));
    progress('endpoint secrets', await writeSecrets(db, sealed));
    after = rows.at(-1)!.id;
  }
  for (let after = ''; !stopped(); ) {
    const rows = await headersNotUnder(db, kid, after, limit);
    if (rows.length === 0) break;
    progress('custom headers', await sealEndpointHeaders(db, box, rows, limit, 'rotate'));
    after = rows.at(-1)!.id;
  }
  for (let after = { principalId: '', key: '' }; !stopped(); ) {
    const rows = await responsesNotUnder(db, kid, after, limit);
    if (rows.length === 0) break;
    const aad = (r: { principalId: string; key: string }) => `idempotency:${r.principalId}:${r.key}`;
    const sealed = rows.map((r) => ({ ...r, old: r.response, sealed: box.seal(openOrExplain(box, r.response, aad(r), `the stored idempotent response of key ${JSON.stringify(r.key.slice(0, 64))}`), aad(r)) }));
    progress('idempotent responses', await writeResponses(db, sealed));
    const last = rows.at(-1)!;
    after = { principalId: last.principalId, key: last.key };
  }
  return result;
}

/**
 * Seals each endpoint's clear header values, and with `rotate` re-seals the others not under the
 * current key. Clear values are first redacted from the endpoint's logged attempts, batch by batch, so
 * that if this stops half-way the endpoint still holds clear values and the next run redacts and
 * seals it again.
 */
async function sealEndpointHeaders(db: Queryable, box: SecretBox, rows: StoredHeadersRow[], limit: number, mode: 'rotate' | 'clear-only'): Promise<number> {
  const writes: { id: string; old: StoredHeaders; headers: StoredHeaders }[] = [];
  for (const row of rows) {
    const clear = Object.keys(row.headers).filter((name) => typeof row.headers[name] === 'string');
    if (clear.length > 0) await redactAllAttempts(db, row, clear, limit);
    const headers: StoredHeaders = {};
    for (const [name, value] of Object.entries(row.headers)) {
      const aad = headerAad(row.id, name);
      if (typeof value === 'string') headers[name] = { sealed: box.seal(value, aad) };
      else if (mode === 'rotate' && box.needsReseal(value.sealed)) headers[name] = { sealed: box.seal(openOrExplain(box, value.sealed, aad, `custom header "${name}" of endpoint ${row.id}`), aad) };
      else headers[name] = value;
    }
    writes.push({ id: row.id, old: row.headers, headers });
  }
  return writeHeaders(db, writes);
}

async function redactAllAttempts(db: Queryable, row: StoredHeadersRow, names: string[], limit: number): Promise<void> {
  // Far in the future: every attempt is at or before it, whatever the clocks of the nodes that wrote them.
  let before = new Date('9999-01-01T00:00:00Z');
  for (;;) {
    const batch = await redactAttemptHeaders(db, row.appId, row.id, names, before, limit);
    if (batch.count === 0 || batch.oldest === null) return;
    before = batch.oldest;
  }
}

/**
 * The start-up sweep: seals the custom header values that rows from before migration 0014 hold in
 * clear (found through a partial index, so a database with none costs one empty index probe).
 * Several nodes may run it at once: writes are compare-and-set, and redacting twice changes nothing.
 */
export async function sealClearHeaders(db: Queryable, box: SecretBox, log: Logger, opts: { batchSize?: number } = {}): Promise<number> {
  const limit = opts.batchSize ?? 100;
  let sealed = 0;
  for (let after = ''; ; ) {
    const rows = await headersInClear(db, after, limit);
    if (rows.length === 0) break;
    sealed += await sealEndpointHeaders(db, box, rows, limit, 'clear-only');
    after = rows.at(-1)!.id;
  }
  if (sealed > 0) log.info({ endpoints: sealed }, 'sealed custom header values stored in clear by an earlier version, and redacted them from logged attempts');
  return sealed;
}
