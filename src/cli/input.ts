/**
 * Reading command inputs: `@file` / `@-` (stdin) arguments, JSON, comma lists, times such as "2h ago".
 * Every malformed input is a UsageError naming the flag and what would be accepted.
 */
import { readFile } from 'node:fs/promises';
import { parseDuration } from '../config.js';
import { UsageError } from './exit-codes.js';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The raw bytes of an argument that may be inline text, `@path` (a file) or `@-` (stdin). Bytes are
 * returned untouched: signatures cover the exact body.
 */
export async function readArgBytes(value: string, what: string): Promise<Buffer> {
  if (!value.startsWith('@')) return Buffer.from(value, 'utf8');
  const path = value.slice(1);
  if (path === '-') return readStdin();
  if (path === '') throw new UsageError(`${what}: "@" must be followed by a file path, or "-" for stdin`);
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? e);
    throw new UsageError(`${what}: cannot read ${path}: ${why}`);
  }
}

/** Parses JSON text, or says where it breaks. */
export function parseJsonArg(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/** An argument that holds JSON inline or as `@file` / `@-`. */
export async function readJsonArg(value: string, what: string): Promise<unknown> {
  return parseJsonArg((await readArgBytes(value, what)).toString('utf8'), what);
}

/** "a,b, c" → ["a","b","c"]; empty items dropped. */
export function commaList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * A point in time from `--since`/`--until`: an ISO 8601 date or date-time ("2024-05-01",
 * "2024-05-01T12:00:00Z"), or a duration before `now` with a unit ("90m", "2h", "1d", "2h ago").
 * A bare number is refused: it could mean seconds, milliseconds or a Unix time.
 */
export function parseTimeArg(value: string, flag: string, now: Date): Date {
  const relative = /^\s*(\d+(?:\.\d+)?\s*(?:ms|s|m|h|d))\s*(?:ago)?\s*$/i.exec(value);
  if (relative) {
    const ms = parseDuration(relative[1]!);
    if (ms !== null) return new Date(now.getTime() - ms);
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(value.trim())) {
    const t = Date.parse(value.trim());
    if (!Number.isNaN(t)) return new Date(t);
  }
  throw new UsageError(
    `${flag} must be an ISO 8601 time (2024-05-01T12:00:00Z) or a duration ago with a unit (30m, 2h, 1d, "2h ago"); got "${value}"`,
  );
}

/** A whole number within bounds, from a flag. */
export function intArg(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max} (got "${value}")`);
  }
  return n;
}
