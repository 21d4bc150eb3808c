/**
 * Exit codes scripts can rely on, and the one place that turns errors into them:
 * 0 success, 1 the operation failed (API error, network error, invalid signature), 2 usage error
 * (bad flags or arguments, unreadable input, missing or malformed settings). Commander's own parse
 * errors exit 1 by default; `scriptable` maps them to 2 so "you typed it wrong" is distinguishable.
 */
import { CommanderError, type Command } from 'commander';
import { ConfigError } from '../config.js';

/** The process exit codes of every command but `serve` and `migrate`. */
export const EXIT = {
  /** The command did what was asked. */
  ok: 0,
  /** The command ran but the operation failed: API or network error, invalid signature, incomplete recovery. */
  failure: 1,
  /** The command was used wrongly: unknown flag, missing argument, malformed value, unreadable file. */
  usage: 2,
} as const;

/** A mistake in how the command was called; exits 2 with this message. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The operation failed (API error, invalid signature, ...); exits 1 with this message, which may be empty. */
export class CommandFailed extends Error {
  override name = 'CommandFailed';
}

/**
 * Makes commander's parse errors (unknown option, missing argument, unknown subcommand, a group called
 * without a subcommand) exit 2 instead of 1; `--help` and `--version` still exit 0. Subcommands created
 * afterwards from `cmd` inherit this.
 */
export function scriptable<C extends Command>(cmd: C): C {
  cmd.exitOverride((err: CommanderError) => {
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
  });
  return cmd;
}

/** One line per error, prefixed `error:`; never includes request headers, so never a token. */
export function describeError(e: unknown): { message: string; code: number } {
  if (e instanceof UsageError) return { message: `error: ${e.message}`, code: EXIT.usage };
  if (e instanceof ConfigError) return { message: `error: ${e.message}`, code: EXIT.usage };
  if (e instanceof CommanderError) return { message: `error: ${e.message}`, code: EXIT.usage };
  if (e instanceof CommandFailed) return { message: e.message ? `error: ${e.message}` : '', code: EXIT.failure };
  const text = e instanceof Error ? e.message : String(e);
  return { message: `error: ${text}`, code: EXIT.failure };
}

/**
 * Wraps a command action: an error becomes a message on stderr and the matching exit code, never a stack
 * trace. The process then ends on its own (exitCode, not exit()), so buffered stdout is flushed.
 */
export function run<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (e) {
      const { message, code } = describeError(e);
      if (message) process.stderr.write(`${message}\n`);
      process.exitCode = code;
    }
  };
}
