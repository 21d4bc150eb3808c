/**
 * The CLI's client of Herald's management API, used by every command that talks to a running Herald
 * (possibly a remote one): the typed client generated from Herald's OpenAPI document
 * (src/api-client), with errors thrown as ApiError carrying the API's `{ code, detail }` so commands
 * print what the server said. The token is sent as a bearer header and never printed.
 */
import type { Command } from 'commander';
import { allPages, heraldClient, type HeraldApi, type ValidationItem } from '../api-client/index.js';
import { loadCliEnv } from '../config.js';
import { HERALD_VERSION } from '../version.js';
import { CommandFailed, UsageError } from './exit-codes.js';

/** Where the CLI looks for Herald when neither `--url` nor HERALD_URL is set: `herald serve`'s default. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';
/** Longest wait for one API response; the API answers in milliseconds, so this only catches a hang. */
const REQUEST_TIMEOUT_MS = 30_000;

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

/** The API refused or failed a request, or could not be reached (status 0). Exits 1. */
export class ApiError extends CommandFailed {
  override name = 'ApiError';
  constructor(
    /** HTTP status; 0 when no response arrived. */
    readonly status: number,
    /** The API's error code (`not_found`, `validation`, ...), or `network` / `bad_response`. */
    readonly code: string,
    /** The API's `detail`: a sentence, or a list of field errors. */
    readonly detail: string | ValidationItem[],
  ) {
    super(formatApiError(status, code, detail));
  }
}

function formatApiError(status: number, code: string, detail: string | ValidationItem[]): string {
  if (status === 0) return `${detail as string} (is it running? check --url / HERALD_URL)`;
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

/** Talks to one Herald: `api` is the typed client (`api.GET('/api/v1/app/{app_id}', …)`). */
export class ApiClient {
  /** The typed client; every non-2xx answer is thrown as ApiError. */
  readonly api: HeraldApi;
  /** The base URL requests go to (no trailing slash), for printing URLs others can use, e.g. an endpoint's public keys. */
  readonly baseUrl: string;

  constructor(
    /** Base URL, e.g. `https://hooks.example.com` (a path prefix is kept). */
    baseUrl: string,
    token: string,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.api = heraldClient({
      baseUrl: this.baseUrl,
      token,
      headers: { 'user-agent': `herald-cli/${HERALD_VERSION}` },
      timeoutMs: REQUEST_TIMEOUT_MS,
      toError: (a) => new ApiError(a.status, a.code, a.detail),
    });
  }
}

/** The `Idempotency-Key` header of a create, when the user gave one. */
export function idempotencyHeader(key: string | undefined): Record<string, string> {
  return key ? { 'idempotency-key': key } : {};
}

/** Options of a list request, from the list flags. */
export interface ListOptions {
  /** Page size (1-250). */
  limit: number;
  /** Cursor to start from. */
  iterator?: string;
  /** Follow iterators until the last page and return everything as one page. */
  all?: boolean;
}

/** One page of a list (`page` fetches the page at a cursor), or with `all` every page merged into one. */
export async function listPages<T>(
  opts: ListOptions,
  page: (query: { limit: number; iterator?: string }) => Promise<ListPage<T>>,
): Promise<ListPage<T>> {
  if (!opts.all) return page({ limit: opts.limit, iterator: opts.iterator });
  let first: ListPage<T> | undefined;
  const all = await allPages(async (iterator) => {
    const p = await page({ limit: opts.limit, iterator: iterator ?? opts.iterator });
    first ??= p;
    return p;
  });
  return { ...all, prevIterator: first?.prevIterator ?? null };
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

