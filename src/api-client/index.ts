/**
 * The typed client of Herald's management API that the CLI and the dashboard share: openapi-fetch
 * over the types generated from Herald's OpenAPI document (schema.ts), with the bearer token in a
 * header and every refused request thrown as the caller's own error type. Runs in Node and in browsers.
 *
 * ```ts
 * const api = heraldClient({ baseUrl, token, toError: (answer) => new MyError(answer) });
 * const ep = await ok(api.GET('/api/v1/app/{app_id}/endpoint/{endpoint_id}', { params: { path: { app_id, endpoint_id } } }));
 * ```
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths };

/** Every named schema of the API (`Schemas['EndpointOut']`), as the OpenAPI document names them. */
export type Schemas = components['schemas'];

/** The client: `api.GET(path, { params })`, `api.POST(path, { params, body })`, … typed by path. */
export type HeraldApi = Client<paths>;

/** One bad value of a 422 answer (`ValidationError`). */
export type ValidationItem = Schemas['ValidationError'];

/** What a refused request said: a 422's list of bad values, or another answer's sentence. */
export interface ErrorAnswer {
  /** HTTP status; 0 when no answer arrived. */
  status: number;
  /** Herald's code (`not_found`, `validation`, …), `network` when Herald was not reached, `bad_response` when the answer was not Herald's. */
  code: string;
  /** The sentence, or every bad value with where it is. */
  detail: string | ValidationItem[];
}

/** Options of {@link heraldClient}. */
export interface HeraldClientOptions {
  /** Herald's base URL (a path prefix is kept); '' in the browser for the page's own origin. */
  baseUrl: string;
  /** Bearer token: the operator token, an API key or a portal token. */
  token: string;
  /** Makes the error thrown for a refused or failed request. */
  toError: (answer: ErrorAnswer) => Error;
  /** Extra headers of every request (e.g. a User-Agent). */
  headers?: Record<string, string>;
  /** Longest wait for an answer, in ms; none by default. */
  timeoutMs?: number;
  /** Extra fetch options of every request (the dashboard sends no cookies and skips the cache). */
  init?: Pick<RequestInit, 'credentials' | 'cache'>;
}

/** Reads an error answer, tolerating bodies that are not Herald's `{ code, detail }` (a proxy's page). */
export function errorAnswer(status: number, body: unknown, fallback: string): ErrorAnswer {
  const b = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; detail?: unknown };
  const code = typeof b.code === 'string' ? b.code : status === 422 ? 'validation' : `http_${status}`;
  const detail = Array.isArray(b.detail)
    ? (b.detail as Partial<ValidationItem>[]).map((d) => ({ loc: Array.isArray(d.loc) ? d.loc : [], msg: String(d.msg), type: String(d.type) }))
    : typeof b.detail === 'string'
      ? b.detail
      : fallback;
  return { status, code, detail };
}

/** Why fetch failed, in a few words. */
function networkReason(e: unknown, timeoutMs: number | undefined): string {
  if (e instanceof Error && e.name === 'TimeoutError') return `no answer within ${(timeoutMs ?? 0) / 1000} s`;
  const cause = e instanceof Error ? (e.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}

/**
 * A client of one Herald with one token. Requests that are refused (non-2xx), that never get an
 * answer, or whose answer is not JSON throw `toError(...)`, so a call's `data` is always the answer.
 */
export function heraldClient(opts: HeraldClientOptions): HeraldApi {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const send = async (request: Request): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(request, {
        ...opts.init,
        ...(opts.timeoutMs ? { signal: AbortSignal.timeout(opts.timeoutMs) } : {}),
      });
    } catch (e) {
      throw opts.toError({ status: 0, code: 'network', detail: `could not reach Herald at ${base || 'this site'}: ${networkReason(e, opts.timeoutMs)}` });
    }
    const type = res.headers.get('content-type') ?? '';
    if (!res.ok) {
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined; // not JSON: keep the status text
      }
      throw opts.toError(errorAnswer(res.status, body, res.statusText || `HTTP ${res.status}`));
    }
    if (res.status !== 204 && type !== '' && !/json|csv|text\/plain/.test(type)) {
      const snippet = (await res.text()).slice(0, 200).replace(/\s+/g, ' ');
      throw opts.toError({
        status: res.status,
        code: 'bad_response',
        detail: `${base || 'this site'} answered ${request.method} ${new URL(request.url).pathname} with ${type}, not JSON ("${snippet}"); is the URL Herald's?`,
      });
    }
    return res;
  };
  return createClient<paths>({
    baseUrl: base,
    headers: { authorization: `Bearer ${opts.token}`, accept: 'application/json', ...opts.headers },
    fetch: send,
  });
}

/** The `data` of a successful call: the answer's body, or void for an answer without one (204). */
export type Answer<R extends { data?: unknown }> = [Exclude<R['data'], undefined>] extends [never] ? void : Exclude<R['data'], undefined>;

/**
 * The answer of a call. heraldClient has already thrown for anything but a 2xx, so this only narrows
 * the type.
 */
export async function ok<R extends { data?: unknown; error?: unknown }>(call: Promise<R>): Promise<Answer<R>> {
  const result = await call;
  if (result.error !== undefined) throw new Error('Herald refused the request', { cause: result.error });
  return result.data as Answer<R>;
}

/** Every item of a list, following `iterator` until `done` (at most `maxPages` pages). */
export async function allPages<T>(
  page: (iterator: string | undefined) => Promise<{ data: T[]; iterator: string | null; done: boolean }>,
  maxPages = 10_000,
): Promise<{ data: T[]; iterator: string | null; done: boolean }> {
  let last = await page(undefined);
  const data = [...last.data];
  for (let n = 1; !last.done && last.iterator && n < maxPages; n++) {
    const next = await page(last.iterator);
    if (next.iterator === last.iterator && next.data.length === 0) break;
    data.push(...next.data);
    last = next;
  }
  return { data, iterator: last.iterator, done: last.done };
}
