/**
 * A small typed client for Herald's management API, used by every CLI command that talks to a running
 * Herald (possibly a remote one). Errors come back as ApiError carrying the API's `{ code, detail }`,
 * so commands print what the server said. The token is sent as a bearer header and never printed.
 */
import type { Command } from 'commander';
import { loadCliEnv } from '../config.js';
import { HERALD_VERSION } from '../version.js';
import { CommandFailed, UsageError } from './exit-codes.js';

/** Where the CLI looks for Herald when neither `--url` nor HERALD_URL is set: `herald serve`'s default. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';
/** Longest wait for one API response; the API answers in milliseconds, so this only catches a hang. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Stops `--all` from looping forever on a server whose iterator does not advance. */
const MAX_PAGES = 10_000;

/** One page of a list, as every Svix-shaped list route answers. */
export interface ListPage<T> {
  /** The items of this page. */
  data: T[];
  /** Cursor for the next page; null when the page is empty. */
  iterator: string | null;
  /** Cursor for the previous page. */
  prevIterator?: string | null;
  /** True when there are no more pages. */
  done: boolean;
}

/** One field error of a 422 answer. */
export interface FieldDetail {
  /** Path of the bad value, e.g. `["body", "url"]`. */
  loc: (string | number)[];
  /** What is wrong with it. */
  msg: string;
  /** Kind of error. */
  type: string;
}

/** The API refused or failed a request, or could not be reached (status 0). Exits 1. */
export class ApiError extends CommandFailed {
  override name = 'ApiError';
  constructor(
    /** HTTP status; 0 when no response arrived. */
    readonly status: number,
    /** The API's error code (`not_found`, `validation`, ...), or `network` / `bad_response`. */
    readonly code: string,
    /** The API's `detail`: a sentence, or a list of field errors. */
    readonly detail: string | FieldDetail[],
  ) {
    super(formatApiError(status, code, detail));
  }
}

function formatApiError(status: number, code: string, detail: string | FieldDetail[]): string {
  if (status === 0) return detail as string;
  const where = `(HTTP ${status}, ${code})`;
  if (Array.isArray(detail)) {
    const lines = detail.map((d) => `  ${d.loc.join('.')}: ${d.msg}`);
    return `the request was rejected ${where}:\n${lines.join('\n')}`;
  }
  const hint =
    status === 401
      ? '\n  check HERALD_TOKEN / --token: it must be the operator token or an API key that has not been revoked'
      : status === 403
        ? '\n  the token lacks the permission (read, create, update, delete) or application scope this needs'
        : '';
  return `${detail} ${where}${hint}`;
}

/** Turns an error body into ApiError, tolerating bodies that are not Herald's `{ code, detail }`. */
function errorFromBody(status: number, body: unknown): ApiError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; detail?: unknown };
  const code = typeof b.code === 'string' ? b.code : status === 422 ? 'validation' : 'error';
  const detail = Array.isArray(b.detail)
    ? (b.detail as FieldDetail[]).map((d) => ({ loc: Array.isArray(d.loc) ? d.loc : [], msg: String(d.msg), type: String(d.type) }))
    : typeof b.detail === 'string'
      ? b.detail
      : JSON.stringify(body).slice(0, 300);
  return new ApiError(status, code, detail);
}

/** Options of one request. */
export interface RequestOptions {
  /** Query parameters; undefined values are left out, arrays repeat the name. */
  query?: Record<string, string | number | boolean | string[] | undefined>;
  /** JSON body. */
  body?: unknown;
  /** `Idempotency-Key` header, for POSTs that create something. */
  idempotencyKey?: string;
}

/** Options of a list request. */
export interface ListOptions {
  /** Page size (1-250). */
  limit?: number;
  /** Cursor to start from. */
  iterator?: string;
  /** Follow iterators until the last page and return everything as one page. */
  all?: boolean;
  /** Extra query parameters (filters). */
  query?: RequestOptions['query'];
}

/** Talks to one Herald. */
export class ApiClient {
  private readonly base: string;

  constructor(
    /** Base URL, e.g. `https://hooks.example.com` (a path prefix is kept). */
    baseUrl: string,
    private readonly token: string,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  /** The base URL requests go to (no trailing slash), for printing URLs others can use, e.g. an endpoint's public keys. */
  get baseUrl(): string {
    return this.base;
  }

  /** Sends one request and returns the parsed JSON answer (undefined for 204). Throws ApiError. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, item);
      else url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: 'application/json',
      'user-agent': `herald-cli/${HERALD_VERSION}`,
    };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (e) {
      throw new ApiError(0, 'network', `could not reach Herald at ${this.base}: ${networkReason(e)} (is it running? check --url / HERALD_URL)`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      const snippet = text.slice(0, 200).replace(/\s+/g, ' ');
      throw new ApiError(res.status, 'bad_response', `${this.base} answered ${method} ${url.pathname} with something that is not JSON ("${snippet}"); is --url pointing at Herald?`);
    }
    if (!res.ok) throw errorFromBody(res.status, json);
    return json as T;
  }

  /** GET a list route: one page, or with `all` every page merged into one. */
  async list<T>(path: string, opts: ListOptions = {}): Promise<ListPage<T>> {
    const query = { ...opts.query, limit: opts.limit, iterator: opts.iterator };
    const first = await this.request<ListPage<T>>('GET', path, { query });
    if (!opts.all) return first;
    const data = [...first.data];
    let last = first;
    for (let n = 1; !last.done && last.iterator && n < MAX_PAGES; n++) {
      const next = await this.request<ListPage<T>>('GET', path, { query: { ...query, iterator: last.iterator } });
      if (next.iterator === last.iterator && next.data.length === 0) break;
      data.push(...next.data);
      last = next;
    }
    return { data, iterator: last.iterator, prevIterator: first.prevIterator ?? null, done: last.done };
  }
}

function networkReason(e: unknown): string {
  if (e instanceof Error && e.name === 'TimeoutError') return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  const cause = e instanceof Error ? (e.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}

/** Connection flags every API command takes. */
export interface ApiFlags {
  /** `--url`: base URL of Herald. */
  url?: string;
  /** `--token`: bearer token. */
  token?: string;
}

/** Adds `--url` and `--token` to a command that talks to the API. */
export function withApiFlags(cmd: Command): Command {
  return cmd
    .option('--url <url>', `Herald base URL (env HERALD_URL; default ${DEFAULT_URL})`)
    .option('--token <token>', 'operator token or API key (env HERALD_TOKEN; prefer the variable, flags show in `ps`)');
}

/** Builds the client from flags over HERALD_URL/HERALD_TOKEN; a missing or malformed setting is a usage error. */
export function clientFrom(opts: ApiFlags): ApiClient {
  const env = loadCliEnv(undefined, { url: opts.url, token: opts.token });
  if (!env.token) {
    throw new UsageError('no API token: set HERALD_TOKEN (or pass --token) to the operator token or an API key');
  }
  return new ApiClient(env.url ?? DEFAULT_URL, env.token);
}

/** Encodes one path segment (ids and uids may contain dots, which are fine; slashes are not). */
export const seg = (s: string) => encodeURIComponent(s);
