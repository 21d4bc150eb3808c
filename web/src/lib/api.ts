/**
 * The browser's client of Herald's public API: the typed client generated from Herald's OpenAPI
 * document (src/api-client), with the bearer token in a header (never a cookie or a URL, so it cannot
 * be sent by another site or leak through logs), no cookies sent and no caching, and Svix
 * `{ code, detail }` errors turned into an ApiError whose validation details map onto form fields.
 */
import { heraldClient, type HeraldApi, type ValidationItem } from '../../../src/api-client/index.js';

export { ok, type Schemas } from '../../../src/api-client/index.js';

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
   * Messages keyed by field name (the first path element after the location), so a form can show
   * each one beside its field; errors without a field go under `''`. Fields named in `nested` are
   * objects whose parts have fields of their own: `signature.header` is keyed as such.
   */
  fieldErrors(nested: readonly string[] = []): Record<string, string> {
    const out: Record<string, string> = {};
    if (typeof this.detail === 'string') {
      out[''] = this.detail;
      return out;
    }
    for (const item of this.detail) {
      const path = item.loc.slice(1).filter((p) => typeof p === 'string');
      const key = String(path[0] ?? '') + (nested.includes(String(path[0])) && path[1] !== undefined ? `.${String(path[1])}` : '');
      out[key] = out[key] ? `${out[key]}; ${item.msg}` : item.msg;
    }
    return out;
  }
}

/** The typed client bound to one token: `client.api.GET('/api/v1/app/{app_id}', { params: { path: { app_id } } })`. */
export class HeraldClient {
  /** Every non-2xx answer is thrown as ApiError (a 401 also ends the session). */
  readonly api: HeraldApi;

  constructor(
    token: string,
    /** Called once on any 401, so the app can end the session. */
    onUnauthorized: (error: ApiError) => void = () => {},
    base = '',
  ) {
    this.api = heraldClient({
      baseUrl: base,
      token,
      init: { credentials: 'omit', cache: 'no-store' },
      toError: (a) => {
        const detail = a.status === 0 ? 'Herald could not be reached. Check your connection and try again.' : a.detail;
        const error = new ApiError(a.status, a.code, detail);
        if (a.status === 401) onUnauthorized(error);
        return error;
      },
    });
  }
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

/** Path parameters naming one endpoint, as the typed client takes them. */
export interface EndpointPath {
  /** Application id or uid. */
  app_id: string;
  /** Endpoint id or uid. */
  endpoint_id: string;
}

/** A string that changes when the endpoint does, for hook dependency lists (objects are new each render). */
export const pathKey = (p: EndpointPath): string => `${p.app_id}/${p.endpoint_id}`;

/** Encodes one path segment of a link inside the app (ids and uids may contain dots, never slashes). */
export const seg = (s: string): string => encodeURIComponent(s);
