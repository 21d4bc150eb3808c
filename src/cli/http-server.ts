/**
 * The HTTP side of `serve`. Until the management API lands this serves health only, so operators
 * and load balancers can already probe a running Herald.
 */
import { createServer } from 'node:http';
import type { Herald } from '../engine/herald.js';
import { HERALD_VERSION } from '../version.js';

export async function startHttpServer(herald: Herald): Promise<{ close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.url === '/api/v1/health') {
      herald.pool
        .query('select 1')
        .then(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'ok', version: HERALD_VERSION }));
        })
        .catch(() => {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'database unavailable' }));
        });
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 'not_found', detail: 'no such route' }));
  });
  const { HERALD_PORT: port, HERALD_HOST: host } = herald.config;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new Error(`port ${port} on ${host} is in use: set HERALD_PORT or --port`) : e),
    );
    server.listen(port, host, resolve);
  });
  herald.log.info({ url: `http://${host}:${port}` }, 'Herald listening');
  return { close: () => new Promise<void>((r) => server.close(() => r())) };
}
