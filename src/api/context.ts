/**
 * What every route receives: the running Herald and settings that shape the API. Routes read and
 * write only through src/store and src/engine; nothing here holds state another process needs.
 */
import type { FastifyInstance, FastifyBaseLogger, RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Herald } from '../engine/herald.js';

/** Fastify typed with zod schemas: request and reply types come from the route's schema. */
export type Api = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/** Options of buildApp that are not configuration variables. */
export interface ApiOptions {
  /** Public base URL (for portal links); defaults to the request's own origin. */
  publicUrl?: string;
}

/** Dependencies of every route plugin. */
export interface ApiDeps {
  /** The running Herald. */
  herald: Herald;
  /** API options. */
  options: ApiOptions;
}
