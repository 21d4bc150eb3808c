/**
 * Where the key that encrypts endpoint secrets comes from. With an external database every node must
 * share the key, so it is required; with the embedded database a key is generated into the data
 * directory once (and a warning says so), keeping the two-command quick start.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config.js';
import { generateKeyString, keyFromString, SecretBox } from '../core/secret-box.js';
import type { Logger } from '../logger.js';

/** Name of the generated key file inside HERALD_DATA_DIR. */
export const KEY_FILE = 'secret.key';

export async function loadSecretBox(opts: {
  secretKey: string | undefined;
  databaseUrl: string | undefined;
  dataDir: string;
  log: Logger;
}): Promise<SecretBox> {
  let raw = opts.secretKey;
  if (!raw) {
    if (opts.databaseUrl) {
      throw new ConfigError(
        'HERALD_SECRET_KEY is required when DATABASE_URL is set: every Herald node on that database must share it. Generate one with `openssl rand -base64 32`.',
      );
    }
    raw = await readOrCreateKeyFile(opts.dataDir, opts.log);
  }
  const keys = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      try {
        return keyFromString(s);
      } catch (e) {
        throw new ConfigError(`HERALD_SECRET_KEY: ${(e as Error).message}`);
      }
    });
  const [current, ...previous] = keys;
  if (!current) throw new ConfigError('HERALD_SECRET_KEY is empty; generate one with `openssl rand -base64 32`.');
  return new SecretBox(current, previous);
}

async function readOrCreateKeyFile(dataDir: string, log: Logger): Promise<string> {
  const path = join(dataDir, KEY_FILE);
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dataDir, { recursive: true });
  const key = generateKeyString();
  // 'wx' fails if another process created it meanwhile: then read theirs.
  try {
    await writeFile(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(path, 'utf8')).trim();
    throw e;
  }
  log.warn(
    { path },
    'HERALD_SECRET_KEY is not set: generated a key into the data directory. Back it up; without it, endpoint secrets cannot be read. Set HERALD_SECRET_KEY to manage it yourself.',
  );
  return key;
}
