/**
 * The HTTP side of `serve`: the management API, OpenAPI document and reference (buildApp), after
 * making sure an operator token exists (printed once at first start when HERALD_ADMIN_TOKEN is unset).
 */
import { buildApp } from '../api/app.js';
import { ensureAdminToken } from '../api/auth.js';
import type { Herald } from '../engine/herald.js';

export async function startHttpServer(herald: Herald): Promise<{ close(): Promise<void> }> {
  await ensureAdminToken(herald);
  const app = await buildApp({ herald, options: { publicUrl: herald.config.HERALD_PUBLIC_URL } });
  const { HERALD_PORT: port, HERALD_HOST: host } = herald.config;
  try {
    await app.listen({ port, host });
  } catch (e) {
    await app.close();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`port ${port} on ${host} is in use: set HERALD_PORT or --port`, { cause: e });
    throw e;
  }
  herald.log.info({ url: `http://${host}:${port}`, docs: `http://${host}:${port}/docs` }, 'Herald listening');
  return { close: () => app.close() };
}
