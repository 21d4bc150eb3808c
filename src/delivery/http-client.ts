/**
 * The guarded HTTP client that delivers webhooks: keep-alive connection pools (one per endpoint "lane",
 * plus a shared Agent for requests without one), an SSRF guard that pins the checked address for the
 * connection, one hard deadline per attempt, and bounded, storable responses.
 *
 * Why each guard exists (a receiver, and the URL pointing at it, are chosen by people Herald cannot trust):
 * - DNS pinning: the connector resolves the name itself, refuses the connection if ANY record is a refused
 *   address, and hands exactly those checked records to the socket as its lookup result. There is no
 *   second resolution that a rebinding DNS server could answer differently. TLS still verifies the
 *   certificate for the host name (SNI = name), and the Host header is the URL's.
 * - Redirects are never followed (undici's Agent does not unless a redirect interceptor is added; we add
 *   none): a 301 to 169.254.169.254 is just a 301 in the delivery log.
 * - One deadline covers DNS, connect, TLS, headers and body, so a receiver that drips a byte a second
 *   cannot hold a worker longer than `timeoutMs`.
 * - The stored body is capped after decompression with streaming decoders, so a gzip bomb costs at most
 *   the cap in memory; response headers are capped by undici's `maxHeaderSize`.
 * - Everything taken from the receiver (body, header names and values, error messages quoting it) goes
 *   through core/storable-text, so NUL, invalid UTF-8 and lone surrogates become U+FFFD (`bodyLossy`)
 *   instead of failing the PostgreSQL write of the result, and of every other result in its batch.
 *
 * Lanes (lane-pools.ts): a request with `lane` goes through an undici Pool of its own for (lane key,
 * origin), sized to the endpoint's in-flight cap. The delivery worker never has more than
 * `lane.connections` requests of one lane in flight, so a lane request never waits in undici's queue
 * behind another request: it gets a free or a new connection at once. That is why the deadline can start
 * at dispatch and still be fair to the receiver: all of it is DNS, connect, TLS and the receiver's
 * answer, none of it queueing inside Herald. A request whose deadline passed before it had a socket (a
 * hanging connect) retires its lane's pool, so the next request does not queue behind that connect.
 */
import { performance } from 'node:perf_hooks';
import type { Transform } from 'node:stream';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { Agent, Pool, type Dispatcher } from 'undici';
import type { SendResult } from '../core/outcome.js';
import { incompleteUtf8Tail, storableString, storableText, type StorableText } from '../core/storable-text.js';
import type { Cidr } from './address-policy.js';
import { validateEndpointUrl } from './endpoint-url.js';
import { LanePools, type LaneStats, type SendLane } from './lane-pools.js';
import { describeFailure, MAX_RESPONSE_HEADER_BYTES, NON_PUBLIC, visibleAddress } from './failure-message.js';
import { createPinnedConnector, defaultLookup, originKey, REFUSED, type LookupFn, type TaggedError } from './pinned-connector.js';
import type { Logger } from '../logger.js';

export type { LookupFn, SendLane };

/** How the client is built; one client serves all endpoints of a worker. */
export interface HttpClientOptions {
  /** Accept plain `http:` URLs (HERALD_ALLOW_HTTP). */
  allowHttp: boolean;
  /** Private networks the operator allowed on purpose (HERALD_ALLOWED_NETWORKS). */
  allowedNetworks: Cidr[];
  /**
   * Largest response body kept, in bytes, measured after decompression and before unstorable bytes are
   * replaced (each U+FFFD is 3 bytes of UTF-8, so stored text can be up to 3 times this). Default 64 KiB.
   */
  maxResponseBytes?: number;
  /** DNS resolver, injectable for tests. Default: `dns.promises.lookup(name, { all: true })`. */
  lookup?: LookupFn;
  /** Keep-alive connections per origin (scheme + host + port) for requests without a lane. Default 16. */
  connectionsPerOrigin?: number;
  /** A lane's pool is closed after this long without requests. Default 60000 ms. */
  laneIdleMs?: number;
  /** Most lane pools kept; past it the least recently used idle ones are closed. Default 10000. */
  maxLanePools?: number;
  /** How long an idle keep-alive connection is kept when the server gives no hint. Default 4000 ms. */
  keepAliveTimeoutMs?: number;
  /**
   * Upper bound for opening one connection (DNS + TCP + TLS), independent of any request's deadline:
   * it reclaims sockets whose request already timed out. Default 10000 ms.
   */
  connectTimeoutMs?: number;
  /** Extra PEM CA certificates to trust besides Node's bundled roots (private PKI; tests). */
  extraCaCerts?: string[];
  /**
   * The operator's log. A delivery refused because its host name resolved to a non-public address is
   * logged here at warn with that address; the tenant's delivery log only says it was non-public.
   */
  log?: Pick<Logger, 'warn'>;
}

/** One delivery attempt. */
export interface SendRequest {
  /** Endpoint URL; checked again against the URL policy before sending. */
  url: string;
  /** Always POST for webhooks. */
  method?: 'POST';
  /** Request headers. `host` cannot be set: it always matches the checked URL. */
  headers: Record<string, string>;
  /** Request body. */
  body: Buffer | string;
  /** Hard deadline covering DNS, connect, TLS, headers and body, in milliseconds; starts at dispatch. */
  timeoutMs: number;
  /** Send through the endpoint's own connection pool instead of the shared one (see the file comment). */
  lane?: SendLane;
}

/** Counters for the worker's health checks and tests (see LaneStats). */
export type HttpClientStats = LaneStats;

/** Sends webhooks; never throws for network or receiver problems, it reports them as results. */
export interface HttpClient {
  /** Makes one attempt; resolves within about `timeoutMs`. */
  send(req: SendRequest): Promise<SendResult>;
  /** Lane pool counters. */
  stats(): HttpClientStats;
  /** Waits for in-flight sends, then closes every connection and pool. */
  close(): Promise<void>;
}

export { MAX_RESPONSE_HEADER_BYTES };

/** What had arrived when an attempt ended; failures report it too. */
interface Progress {
  status?: number;
  headers?: Record<string, string>;
  /** True when a header name or value needed replacing to be storable. */
  headersLossy?: boolean;
  chunks: Buffer[];
}

/** Creates the client. Close it to release its connections. */
export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const maxBytes = opts.maxResponseBytes ?? 64 * 1024;
  const policy = { allowHttp: opts.allowHttp, allowedNetworks: opts.allowedNetworks };
  const connector = createPinnedConnector({
    allowed: opts.allowedNetworks,
    lookup: opts.lookup ?? defaultLookup,
    timeoutMs: opts.connectTimeoutMs ?? 10_000,
    ca: opts.extraCaCerts?.length ? [...tls.rootCertificates, ...opts.extraCaCerts] : undefined,
  });
  const dispatcherOptions = {
    connect: connector.connect,
    // Pipelining > 1 lets one slow response delay the ones queued behind it on the same socket.
    pipelining: 1,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 4_000,
    maxHeaderSize: MAX_RESPONSE_HEADER_BYTES,
  };
  const agent = new Agent({ ...dispatcherOptions, connections: opts.connectionsPerOrigin ?? 16 });
  const lanes = new LanePools({
    createPool: (origin, connections) => new Pool(origin, { ...dispatcherOptions, connections }),
    idleMs: opts.laneIdleMs ?? 60_000,
    maxPools: opts.maxLanePools ?? 10_000,
  });
  const sending = new Set<Promise<SendResult>>();

  async function attempt(req: SendRequest): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const refuse = (message: string): SendResult => ({ ok: false, stage: 'blocked', message, durationMs: elapsed() });
    const checked = validateEndpointUrl(req.url, policy);
    if (!checked.ok) return refuse(checked.reason);
    if (Object.keys(req.headers).some((h) => h.toLowerCase() === 'host')) {
      return refuse('the host header cannot be set; it always matches the endpoint URL');
    }
    const url = checked.url;
    const lane = req.lane ? lanes.acquire(req.lane, url.origin) : undefined;
    const exchange = new Exchange(maxBytes);
    const timer = setTimeout(() => exchange.abort(DEADLINE), req.timeoutMs);
    try {
      const path = `${url.pathname}${url.search}`;
      const dispatcher: Dispatcher = lane?.pool ?? agent;
      dispatcher.dispatch({ origin: url.origin, path, method: req.method ?? 'POST', headers: req.headers, body: req.body }, exchange);
      return { ok: true, ...(await exchange.done), durationMs: elapsed() };
    } catch (err) {
      const { progress } = exchange;
      if (err === DEADLINE) {
        // No socket yet: undici keeps the request queued until the hanging connect ends, and the next
        // request of the lane would wait behind it. A fresh pool lets it connect on its own.
        if (lane && !exchange.started) lanes.retire(lane);
        return { ok: false, ...partial(progress), stage: 'timeout', message: timeoutMessage(url, req.timeoutMs, exchange), durationMs: elapsed() };
      }
      const error = (err instanceof Error ? err : new Error(String(err))) as TaggedError;
      const refused = error[REFUSED];
      if (refused) {
        opts.log?.warn(
          { endpointId: req.lane?.key, host: refused.host, port: url.port || (url.protocol === 'https:' ? '443' : '80'), address: refused.address, reason: refused.reason },
          `delivery blocked: ${refused.reason}; to deliver there on purpose, add a CIDR that covers ${refused.address} to HERALD_ALLOWED_NETWORKS`,
        );
      }
      return { ok: false, ...partial(progress), ...describeFailure(error), durationMs: elapsed() };
    } finally {
      clearTimeout(timer);
      if (lane) lanes.release(lane);
    }
  }

  function timeoutMessage(url: URL, timeoutMs: number, exchange: Exchange): string {
    const limit = `within the ${timeoutMs} ms deadline`;
    const { progress } = exchange;
    if (progress.status !== undefined) return `the response body did not finish ${limit} (status ${progress.status} had arrived)`;
    // Written on a connection already: connection attempts still under way to this origin are other requests'.
    if (exchange.started) return `no response headers arrived ${limit}`;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const a = connector.progressOf(originKey(url.protocol, host, Number(url.port) || (url.protocol === 'https:' ? 443 : 80)));
    if (a?.phase === 'dns') return `the DNS lookup of ${a.host} did not finish ${limit}`;
    // The address only when a tenant may see it (failure-message.ts).
    const shown = a && visibleAddress(a.host, a.address);
    if (a?.phase === 'connect') return `could not connect to ${shown === NON_PUBLIC ? `${a.host}:${a.port} (${NON_PUBLIC})` : `${shown}:${a.port}`} ${limit}`;
    if (a?.phase === 'tls') return `the TLS handshake with ${a.host} (${shown === NON_PUBLIC ? `${NON_PUBLIC}, port ${a.port}` : `${shown}:${a.port}`}) did not finish ${limit}`;
    return `no response headers arrived ${limit}`;
  }

  return {
    send(req) {
      const p = attempt(req)
        .catch((err: unknown): SendResult => {
          // Only a bug gets here; report it as a failed attempt rather than crash the worker.
          return { ok: false, stage: 'response', message: `Herald failed to send: ${String(err)}`, durationMs: 0 };
        })
        // Messages quote receivers (a TLS alert, a parser error's bytes) and must be storable too.
        .then((r): SendResult => (r.ok ? r : { ...r, message: storableString(r.message).text }));
      sending.add(p);
      void p.then(() => sending.delete(p));
      return p;
    },
    stats: () => lanes.stats(),
    async close() {
      await Promise.allSettled([...sending]);
      connector.destroyPending();
      await Promise.all([agent.destroy(), lanes.destroy()]);
    },
  };
}

type Received = { status: number; headers: Record<string, string>; body: string; bodyTruncated: boolean; bodyLossy: boolean };

const DEADLINE = new Error('deadline passed');
const CUT = new Error('response body cut at the size limit');

/**
 * One request/response as an undici dispatch handler. Driving `agent.dispatch` rather than
 * `agent.request()` saves an AbortSignal, a body stream and a wrapper per delivery: measured on a 2-core
 * machine against a local receiver, ~7,600 deliveries/s through `request()` + signal, ~13,000-15,000
 * through this handler, the same as bare `agent.request()` with no deadline at all.
 * The body is kept up to `maxBytes` after decoding its content-encoding; beyond that the request is
 * aborted, so the rest (an endless stream, a gzip bomb's output) is never read.
 */
class Exchange implements Dispatcher.DispatchHandler {
  /** Settles once: the response, or the error that ended the exchange. */
  readonly done: Promise<Received>;
  /** What has arrived so far; failures report it too. */
  readonly progress: Progress = { chunks: [] };
  private resolve!: (r: Received) => void;
  private reject!: (e: Error) => void;
  private controller: Dispatcher.DispatchController | null = null;
  private abortReason: Error | null = null;
  private decoders: Transform[] = [];
  private size = 0;
  private settled = false;

  constructor(private readonly maxBytes: number) {
    this.done = new Promise((resolve, reject) => Object.assign(this, { resolve, reject }));
  }

  /** True once undici has written the request on a connection (it had a socket). */
  get started(): boolean {
    return this.controller !== null;
  }

  /**
   * Ends the exchange now. undici only aborts a request once it has a socket (a request queued behind
   * a hanging TLS handshake is aborted when that handshake ends), so the promise is rejected here.
   */
  abort(reason: Error): void {
    this.abortReason ??= reason;
    this.controller?.abort(reason);
    this.fail(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, raw: Record<string, string | string[] | undefined>): void {
    if (status < 200 || this.settled) return; // 1xx interim responses: the final one follows
    const headers: Record<string, string> = {};
    let headersLossy = false;
    for (const [rawName, rawValue] of Object.entries(raw)) {
      if (rawValue === undefined) continue;
      const name = storableString(rawName.toLowerCase());
      const value = storableString(Array.isArray(rawValue) ? rawValue.join(', ') : rawValue);
      headers[name.text] = value.text;
      headersLossy ||= name.lossy || value.lossy;
    }
    Object.assign(this.progress, { status, headers, headersLossy });
    this.decoders = decodersFor(headers['content-encoding']);
    this.decoders.forEach((d, i) => {
      d.on('error', () => this.finish(true)); // undecodable: keep what decoded, the status stands
      this.decoders[i + 1] ? d.pipe(this.decoders[i + 1]!) : d.on('data', (c: Buffer) => this.collect(c)).on('end', () => this.finish(false));
    });
    this.decoders[0]?.on('drain', () => controller.resume());
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    const first = this.decoders[0];
    if (!first) this.collect(chunk);
    else if (!first.write(chunk)) controller.pause(); // zlib is behind: let TCP backpressure hold the rest
  }

  onResponseEnd(): void {
    if (this.settled) return;
    if (this.decoders[0]) this.decoders[0].end();
    else this.finish(false);
  }

  onResponseError(_controller: unknown, err: Error): void {
    this.fail(err);
  }

  private collect(chunk: Buffer): void {
    if (this.settled) return;
    const room = this.maxBytes - this.size;
    if (chunk.length > room) {
      if (room > 0) this.progress.chunks.push(chunk.subarray(0, room));
      return this.finish(true);
    }
    this.progress.chunks.push(chunk);
    this.size += chunk.length;
  }

  private finish(truncated: boolean): void {
    if (this.settled) return;
    this.settled = true;
    if (truncated) this.controller?.abort(CUT); // drops the connection instead of reading the rest
    for (const d of this.decoders) d.destroy();
    const { status = 0, headers = {}, headersLossy = false, chunks } = this.progress;
    const body = bodyText(chunks, truncated);
    this.resolve({ status, headers, body: body.text, bodyTruncated: truncated, bodyLossy: headersLossy || body.lossy });
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    for (const d of this.decoders) d.destroy();
    this.reject(err);
  }
}

function decodersFor(header: string | undefined): Transform[] {
  // Codings are listed in the order they were applied (RFC 9110 §8.4); undo them in reverse.
  const codings = (header ?? '').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
  const flush = { finishFlush: zlib.constants.Z_SYNC_FLUSH }; // accept a cut-off stream, as browsers do
  const make: Record<string, () => Transform> = {
    gzip: () => zlib.createGunzip(flush),
    'x-gzip': () => zlib.createGunzip(flush),
    deflate: () => zlib.createInflate(flush),
    br: () => zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }),
  };
  if (!codings.every((c) => c in make)) return [];
  return codings.reverse().map((c) => make[c]!());
}

/**
 * The body as storable text. A body cut short (at the size limit, a deadline, a broken connection) may
 * end inside a multi-byte character; that unfinished character is dropped rather than counted as lossy.
 */
function bodyText(chunks: Buffer[], cut: boolean): StorableText {
  const bytes = Buffer.concat(chunks);
  return storableText(cut ? bytes.subarray(0, bytes.length - incompleteUtf8Tail(bytes)) : bytes);
}

function partial(progress: Progress): { status?: number; headers?: Record<string, string>; body?: string; bodyLossy?: boolean } {
  if (progress.status === undefined) return {};
  const body = bodyText(progress.chunks, true);
  return { status: progress.status, headers: progress.headers, body: body.text, bodyLossy: (progress.headersLossy ?? false) || body.lossy };
}
