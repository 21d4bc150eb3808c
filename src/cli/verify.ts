/**
 * `herald verify`: checks a captured request (headers and raw body) against an endpoint secret and says
 * exactly why it does not verify. Needs no server. Exit 0 valid, 1 invalid, 2 usage error.
 */
import type { Command } from 'commander';
import { DEFAULT_TOLERANCE_SECONDS, parseSecret } from '../core/signing.js';
import { HeraldError } from '../core/errors.js';
import { diagnose, type Diagnosis } from './diagnose.js';
import { CommandFailed, run, UsageError } from './exit-codes.js';
import { intArg, readArgBytes } from './input.js';
import { printJson } from './output.js';

/** Headers as verifySignature takes them. */
type Headers = Record<string, string | string[]>;

/**
 * Reads captured headers: a JSON object (`{"webhook-id": "..."}`; values may be arrays), a JSON object
 * with a `headers` field (a line of `herald listen --json`), a JSON array of [name, value] pairs, or
 * raw `Name: value` lines as printed by curl -v, a browser or `herald listen` (a request line is skipped).
 */
export function parseHeaders(text: string): Headers {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return parseHeaderLines(text);
  }
  if (Array.isArray(json)) {
    const out: Headers = {};
    for (const pair of json) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new UsageError('--headers: a JSON array must hold [name, value] pairs');
      const [k, v] = pair as unknown[];
      out[String(k).toLowerCase()] = String(v);
    }
    return out;
  }
  if (json === null || typeof json !== 'object') throw new UsageError('--headers must be a JSON object of header names to values');
  const obj = json as Record<string, unknown>;
  const inner = obj.headers;
  const hasOwn = Object.keys(obj).some((k) => /^(webhook|svix)-/i.test(k));
  const source = !hasOwn && inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? (inner as Record<string, unknown>) : obj;
  const out: Headers = {};
  for (const [k, v] of Object.entries(source)) {
    if (Array.isArray(v)) out[k.toLowerCase()] = v.map(String);
    else if (typeof v === 'string' || typeof v === 'number') out[k.toLowerCase()] = String(v);
  }
  return out;
}

function parseHeaderLines(text: string): Headers {
  const out: Headers = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^[<>]\s*/, '').trim(); // curl -v prefixes "> " and "< "
    if (!line || /^[A-Z]+ \S+ HTTP\/[\d.]+$/.test(line)) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new UsageError(`--headers: cannot read "${line.slice(0, 60)}"; give JSON or "Name: value" lines`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = out[name];
    out[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  if (Object.keys(out).length === 0) throw new UsageError('--headers is empty');
  return out;
}

/** Prints a diagnosis for people: a ✓/✗ line, then hints. */
export function renderDiagnosis(d: Diagnosis): string {
  const head = d.valid ? `✓ ${d.summary}` : `✗ invalid signature: ${d.summary}`;
  return [head, ...d.hints.map((h) => `  - ${h}`)].join('\n') + '\n';
}

/** Options of `herald verify`, as commander passes them. */
interface VerifyFlags {
  secret: string[];
  headers: string;
  body: string;
  tolerance: string;
  now?: string;
  json?: boolean;
}

const collect = (v: string, all: string[] = []) => [...all, v];

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description("check a captured request's signature and explain why it does not match")
    .requiredOption('--secret <whsec>', 'endpoint secret (whsec_...); repeat to try several', collect)
    .requiredOption('--headers <json|@file>', 'request headers: JSON object, or "Name: value" lines; @file or @- for stdin')
    .requiredOption('--body <@file|text>', 'the raw request body: @file (exact bytes), @- for stdin, or inline text')
    .option('--tolerance <seconds>', 'allowed clock difference', String(DEFAULT_TOLERANCE_SECONDS))
    .option('--now <unix>', 'check as if the time were this (Unix seconds); default: the current time')
    .option('--json', 'print the verdict as JSON')
    .addHelpText(
      'after',
      `
Exit codes: 0 valid, 1 invalid (the reason is printed), 2 usage error.

Examples:
  herald verify --secret whsec_... --headers @headers.json --body @body.json
  herald verify --secret "$OLD" --secret "$NEW" --headers 'webhook-id: msg_1
webhook-timestamp: 1700000000
webhook-signature: v1,...' --body @body.bin --now 1700000000`,
    )
    .action(
      run(async (flags: VerifyFlags) => {
        if (flags.headers.startsWith('@-') && flags.body.startsWith('@-')) throw new UsageError('only one of --headers and --body can read stdin');
        for (const [i, s] of flags.secret.entries()) {
          try {
            parseSecret(s);
          } catch (e) {
            throw new UsageError(`--secret #${i + 1}: ${e instanceof HeraldError ? e.detail : String(e)}`);
          }
        }
        const tolerance = intArg(flags.tolerance, '--tolerance', 0, 10 * 365 * 86_400);
        const now = flags.now === undefined ? Math.floor(Date.now() / 1000) : intArg(flags.now, '--now', 0, 1e15);
        const headers = parseHeaders((await readArgBytes(flags.headers, '--headers')).toString('utf8'));
        const body = await readArgBytes(flags.body, '--body');
        const verdict = diagnose({ secrets: flags.secret, headers, body, nowSeconds: now, toleranceSeconds: tolerance });
        if (flags.json) printJson(verdict);
        else process.stdout.write(renderDiagnosis(verdict));
        if (!verdict.valid) throw new CommandFailed('');
      }),
    );
}
