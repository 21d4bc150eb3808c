/**
 * Reading a request body as raw bytes with a size limit: a declared Content-Length over the limit is
 * refused before reading, and a chunked body stops being read (and buffered) once it passes the limit.
 */
import type { IncomingMessage } from 'node:http';

/** Thrown when a body is over the limit; the adapters turn it into `body_too_large`. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`body larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

function declaredLength(value: string | null | undefined): number | null {
  if (value === null || value === undefined || !/^\d+$/.test(value.trim())) return null;
  return Number(value.trim());
}

/**
 * Reads a node:http request body. Throws BodyTooLargeError over `limit`; the request is then left
 * unread (the caller answers 413 and closes the connection).
 */
export async function readNodeBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = declaredLength(req.headers['content-length']);
  if (declared !== null && declared > limit) throw new BodyTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    size += b.length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(b);
  }
  return Buffer.concat(chunks, size);
}

/** Reads a web-standard Request body (Next.js, Hono, Bun, Deno, undici). Throws BodyTooLargeError over `limit`. */
export async function readWebBody(request: Request, limit: number): Promise<Buffer> {
  const declared = declaredLength(request.headers.get('content-length'));
  if (declared !== null && declared > limit) throw new BodyTooLargeError(limit);
  if (request.body === null) return Buffer.from(await request.arrayBuffer());
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}
