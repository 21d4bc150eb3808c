/**
 * The browser's client of Herald's public API: bearer token in a header (never a cookie or a URL,
 * so it cannot be sent by another site or leak through logs), JSON in and out, Svix `{ code, detail }` errors turned into an ApiError whose validation
 * details map onto form fields.
 */

/** One entry of a validation error's `detail` list. */
export interface ValidationItem {
  /** Path of the bad value, e.g. `['body', 'url']`. */
  loc: (string | number)[];
  /** What is wrong. */
  msg: string;
  /** Kind of error. */
  type?: string;
}

/** An error answer from the API (or a network failure, status 0). */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    /** HTTP status; 0 when the request never got an answer. */
    readonly status: number,
    /** Svix error code, e.g. `validation`, `not_found`. */
    readonly code: string,
    /** Sentence or list of bad fields. */
    readonly detail: string | ValidationItem[],
  ) {
    super(typeof detail === 'string' ? detail : detail.map((d) => `${d.loc.slice(1).join('.')}: ${d.msg}`).join('; '));
  }

  /**
   * Messages keyed by field name (the first path element that is not `body`/`query`), so a form can
   * show each one beside its field; errors without a field go under `''`. Fields named in `nested`
   * are objects whose parts have fields of their own: `signature.header` is keyed as such.
   */
  fieldErrors(nested: readonly string[] = []): Record<string, string> {
    const out: Record<string, string> = {};
    if (typeof this.detail === 'string') {
      out[''] = this.detail;
      return out;
    }
    for (const item of this.detail) {
      const path = item.loc.filter((p) => p !== 'body' && p !== 'query' && p !== 'params' && typeof p === 'string');
      const key = String(path[0] ?? '') + (nested.includes(String(path[0])) && path[1] !== undefined ? `.${String(path[1])}` : '');
      out[key] = out[key] ? `${out[key]}; ${item.msg}` : item.msg;
    }
    return out;
  }
}

/** Query values: arrays repeat the parameter (`event_types=a&event_types=b`), empty values are left out. */
export type Query = Record<string, string | number | boolean | string[] | null | undefined>;

/** Builds `?a=1&b=x` from a Query; '' when nothing is set. */
export function toQueryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(key, v));
    else params.append(key, String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** Encodes one path segment (ids and uids may contain dots, never slashes). */
export const seg = (s: string): string => encodeURIComponent(s);

/** Client bound to one token. */
export class HeraldClient {
  constructor(
    private readonly token: string,
    /** Called once on any 401, so the app can end the session. */
    private readonly onUnauthorized: (error: ApiError) => void = () => {},
    private readonly base = '',
  ) {}

  /** Sends a request and parses the JSON answer (undefined for an empty body). */
  async request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const res = await this.raw(method, path, body, query);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Sends a request and returns the Response (for downloads); throws ApiError on non-2xx. */
  async raw(method: string, path: string, body?: unknown, query?: Query): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}${toQueryString(query)}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (cause) {
      throw new ApiError(0, 'network', `Herald could not be reached (${String(cause)}). Check your connection and try again.`);
    }
    if (res.ok) return res;
    const error = await toApiError(res);
    if (res.status === 401) this.onUnauthorized(error);
    throw error;
  }

  /** GET shorthand. */
  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, undefined, query);
  }

  /** POST shorthand. */
  post<T>(path: string, body: unknown = {}, query?: Query): Promise<T> {
    return this.request<T>('POST', path, body, query);
  }

  /** PATCH shorthand. */
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }

  /** PUT shorthand. */
  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  /** DELETE shorthand. */
  del(path: string): Promise<void> {
    return this.request<void>('DELETE', path);
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let detail: string | ValidationItem[] = res.statusText || `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { code?: unknown; detail?: unknown };
    if (typeof body.code === 'string') code = body.code;
    if (typeof body.detail === 'string' || Array.isArray(body.detail)) detail = body.detail as string | ValidationItem[];
  } catch {
    // Not JSON (a proxy's error page): keep the status text.
  }
  return new ApiError(res.status, code, detail);
}

/** A readable sentence for any error caught in the UI. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403) return `Not allowed: ${error.message}`;
    if (error.status === 404) return `Not found: ${error.message}`;
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
