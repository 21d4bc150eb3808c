/**
 * Structured logs (pino). Secrets never reach a log line: request headers, secrets and API keys are
 * redacted by path, and code logs ids, not payloads.
 */
import { pino } from 'pino';

/** The subset of pino's logger Herald uses, so tests can pass a silent one. */
export interface Logger {
  /** Debug detail. */
  debug(obj: object, msg?: string): void;
  /** Normal operation. */
  info(obj: object, msg?: string): void;
  /** Something an operator may want to look at. */
  warn(obj: object, msg?: string): void;
  /** Something failed. */
  error(obj: object, msg?: string): void;
}

export function createLogger(level: string): pino.Logger {
  return pino({
    level,
    // Only these fields: errors from pg carry their client (connection settings and all).
    serializers: {
      err: (e: Error & { code?: string }) => ({ type: e.name, message: e.message, code: e.code, stack: e.stack }),
    },
    redact: {
      paths: ['secret', '*.secret', 'key', '*.key', 'token', '*.token', 'headers.authorization', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
