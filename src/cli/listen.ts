/**
 * `herald listen`: a webhook receiver for local development. Prints every request it gets (method, path,
 * headers, pretty body), checks its signature against the given secret(s) or Ed25519 public key(s)
 * under the endpoint's signature profile (--signature ...) with a ✓/✗ and the reason, and answers with
 * the chosen status. Point an endpoint at it directly, or at a tunnel to it (developers commonly
 * tunnel webhooks to localhost while building a receiver; this is the piece on their side).
 * Needs no server and no token. Runs until SIGINT/SIGTERM, then exits 0.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import type { SignatureProfile } from '../core/signature-profile.js';
import { DEFAULT_TOLERANCE_SECONDS } from '../core/signing.js';
import { diagnoseAny, type ProfileDiagnosis } from './diagnose-profile.js';
import { CommandFailed, run, UsageError } from './exit-codes.js';
import { intArg } from './input.js';
import { addProfileOptions, profileFromFlags, renderDiagnosis, verifiersFromFlags, type ProfileFlags } from './verify.js';

/** Largest body read; beyond it the request is answered 413 (Herald's own payload limit defaults to 1 MiB). */
const MAX_BODY_BYTES = 16 * 1_048_576;
/** Longest body text printed in full; the rest is elided so one huge payload does not flood the terminal. */
const MAX_PRINTED_CHARS = 64 * 1024;

/** Options of `herald listen`, as commander passes them. */
interface ListenFlags extends ProfileFlags {
  port: string;
  host: string;
  status: string;
  tolerance: string;
  rejectInvalid?: boolean;
  json?: boolean;
}

/** One received request, as printed with `--json` (one object per line). */
export interface ListenRecord {
  /** When the body had fully arrived (ISO 8601). */
  receivedAt: string;
  /** HTTP method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Request headers, names lower-cased. */
  headers: http.IncomingHttpHeaders;
  /** The body as UTF-8 text (exact bytes when `bodyBase64` is absent). */
  body: string;
  /** The body as base64, only when it is not valid UTF-8. */
  bodyBase64?: string;
  /** The signature verdict; absent when no `--secret` (or `--public-key`) was given. */
  signature?: ProfileDiagnosis;
  /** The status answered. */
  status: number;
}

/** Body for people: indented JSON when it parses, text otherwise, a note for binary. */
export function prettyBody(body: Buffer): string {
  if (body.length === 0) return '(empty body)';
  const text = body.toString('utf8');
  if (!isUtf8(body)) return `(${body.length} bytes of binary data)`;
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // not JSON: print as received
  }
  return shown.length > MAX_PRINTED_CHARS ? `${shown.slice(0, MAX_PRINTED_CHARS)}\n… (${shown.length - MAX_PRINTED_CHARS} more characters)` : shown;
}

function isUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

function renderRequest(r: ListenRecord, body: Buffer): string {
  const title = `── ${r.method} ${r.path} · ${r.receivedAt} `;
  const lines = [title.padEnd(72, '─')];
  for (const [name, value] of Object.entries(r.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v ?? ''}`);
  }
  lines.push('', prettyBody(body), '');
  const verdict = r.signature ? renderDiagnosis(r.signature).trimEnd() : '· signature not checked (pass --secret, or --public-key for ed25519, to verify)';
  lines.push(verdict, `→ answered ${r.status}`, '');
  return lines.join('\n') + '\n';
}

function parseFlags(flags: ListenFlags) {
  const port = intArg(flags.port, '--port', 0, 65535);
  const status = intArg(flags.status, '--status', 200, 599);
  const tolerance = intArg(flags.tolerance, '--tolerance', 0, 10 * 365 * 86_400);
  const profile = profileFromFlags(flags);
  const secrets = verifiersFromFlags(profile, flags, false);
  if (flags.rejectInvalid && secrets.length === 0) throw new UsageError(`--reject-invalid needs ${profile.scheme === 'ed25519' ? '--public-key' : '--secret'}`);
  return { port, status, tolerance, secrets, profile };
}

/** The banner's description of what is checked. */
function checking(opts: ReturnType<typeof parseFlags>): string {
  const p = opts.profile;
  const scheme = p.scheme === 'hmac-sha256' ? `hmac-sha256 in ${p.header}` : p.scheme;
  return `checking ${scheme} signatures with ${opts.secrets.length} ${p.scheme === 'ed25519' ? 'public key' : 'secret'}(s)`;
}

async function handle(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  flags: ListenFlags,
  opts: { status: number; tolerance: number; secrets: string[]; profile: SignatureProfile },
) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end('body too large for herald listen\n');
      process.stderr.write(`${req.method} ${req.url}: body larger than ${MAX_BODY_BYTES} bytes, answered 413\n`);
      req.destroy();
      return;
    }
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  const signature =
    opts.secrets.length > 0
      ? diagnoseAny({
          profile: opts.profile,
          secrets: opts.secrets,
          headers: req.headers,
          body,
          nowSeconds: Math.floor(Date.now() / 1000),
          toleranceSeconds: opts.tolerance,
        })
      : undefined;
  const status = flags.rejectInvalid && signature && !signature.valid ? 401 : opts.status;
  const utf8 = isUtf8(body);
  const record: ListenRecord = {
    receivedAt: new Date().toISOString(),
    method: req.method ?? '',
    path: req.url ?? '',
    headers: req.headers,
    body: utf8 ? body.toString('utf8') : '',
    ...(utf8 ? {} : { bodyBase64: body.toString('base64') }),
    ...(signature ? { signature } : {}),
    status,
  };
  process.stdout.write(flags.json ? `${JSON.stringify(record)}\n` : renderRequest(record, body));
  const verdict = signature ? (signature.valid ? 'valid' : signature.reason) : 'not checked';
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ receiver: 'herald listen', signature: verdict }));
}

export function registerListen(program: Command): void {
  const cmd = program.command('listen').description('run a local webhook receiver that prints each delivery and checks its signature');
  addProfileOptions(cmd, 'endpoint secret to verify signatures with (whsec_... for standard); repeat during a rotation')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8081')
    .option('--host <address>', 'address to listen on; 0.0.0.0 exposes it to the network', '127.0.0.1')
    .option('--status <code>', 'HTTP status to answer with (200-599)', '200')
    .option('--tolerance <seconds>', 'allowed clock difference for the signature timestamp', String(DEFAULT_TOLERANCE_SECONDS))
    .option('--reject-invalid', 'answer 401 instead of --status when the signature does not verify')
    .option('--json', 'print one JSON object per request (NDJSON) instead of the readable form')
    .addHelpText(
      'after',
      `
Exit codes: 0 after Ctrl-C, 1 when the port cannot be opened, 2 usage error.

Examples:
  herald listen --secret whsec_...                 # then create an endpoint with url http://127.0.0.1:8081/
  herald listen --port 9000 --status 503           # watch Herald retry
  herald listen --json --secret "$S" | jq .signature.reason
  herald listen --signature hmac-sha256 --signature-header X-Signature --timestamp-header X-Timestamp --secret "$S"
  herald listen --signature ed25519 --public-key whpk_...`,
    )
    .action(
      run(async (flags: ListenFlags) => {
        const opts = parseFlags(flags);
        const server = http.createServer((req, res) => {
          handle(req, res, flags, opts).catch((e: unknown) => {
            process.stderr.write(`error handling ${req.method} ${req.url}: ${e instanceof Error ? e.message : String(e)}\n`);
            if (!res.headersSent) res.writeHead(500).end();
          });
        });
        server.on('clientError', (_e, socket) => socket.destroy());
        await new Promise<void>((resolve, reject) => {
          server.once('error', (e: NodeJS.ErrnoException) =>
            reject(
              new CommandFailed(
                e.code === 'EADDRINUSE'
                  ? `port ${opts.port} on ${flags.host} is in use: pick another with --port`
                  : `cannot listen on ${flags.host}:${opts.port}: ${e.code ?? e.message}`,
              ),
            ),
          );
          server.listen(opts.port, flags.host, resolve);
        });
        const { port } = server.address() as AddressInfo;
        const host = flags.host.includes(':') ? `[${flags.host}]` : flags.host;
        const banner = [
          `listening on http://${host}:${port}`,
          opts.secrets.length
            ? `${checking(opts)}; answering ${opts.status}${flags.rejectInvalid ? ' (401 when invalid)' : ''}`
            : `not checking signatures (no --secret or --public-key); answering ${opts.status}`,
          'press Ctrl-C to stop',
        ].join('\n');
        // With --json, stdout is data only.
        (flags.json ? process.stderr : process.stdout).write(`${banner}\n`);
        await new Promise<void>((resolve) => {
          const stop = () => {
            server.close(() => resolve());
            server.closeAllConnections();
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      }),
    );
}
