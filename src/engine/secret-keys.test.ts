import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../config.js';
import { generateKeyString } from '../core/secret-box.js';
import { KEY_FILE, loadSecretBox } from './secret-keys.js';

const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'herald-keys-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function recorder() {
  const warnings: string[] = [];
  return {
    warnings,
    log: { debug() {}, info() {}, error() {}, warn: (_o: object, m?: string) => warnings.push(m ?? '') },
  };
}

describe('loadSecretBox', () => {
  it('generates a key into the data directory once, with a warning, and reuses it', async () => {
    const dir = await tempDir();
    const r = recorder();
    const box = await loadSecretBox({ secretKey: undefined, databaseUrl: undefined, dataDir: dir, log: r.log });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/generated a key/);
    expect((await stat(join(dir, KEY_FILE))).mode & 0o777).toBe(0o600);
    const sealed = box.seal('whsec_x', 'ep_1');

    const again = await loadSecretBox({ secretKey: undefined, databaseUrl: undefined, dataDir: dir, log: r.log });
    expect(r.warnings).toHaveLength(1);
    expect(again.open(sealed, 'ep_1')).toBe('whsec_x');
    expect((await readFile(join(dir, KEY_FILE), 'utf8')).trim()).toHaveLength(44);
  });

  it('requires HERALD_SECRET_KEY with an external database', async () => {
    await expect(
      loadSecretBox({ secretKey: undefined, databaseUrl: 'postgres://db/herald', dataDir: await tempDir(), log: recorder().log }),
    ).rejects.toThrow(ConfigError);
  });

  it('rotates keys: the first seals, every listed key opens', async () => {
    const [oldKey, newKey] = [generateKeyString(), generateKeyString()];
    const before = await loadSecretBox({ secretKey: oldKey, databaseUrl: 'postgres://db', dataDir: '/nonexistent', log: recorder().log });
    const sealed = before.seal('whsec_y');
    const after = await loadSecretBox({ secretKey: `${newKey},${oldKey}`, databaseUrl: 'postgres://db', dataDir: '/nonexistent', log: recorder().log });
    expect(after.open(sealed)).toBe('whsec_y');
    expect(after.needsReseal(sealed)).toBe(true);
  });

  it('refuses a malformed key with a message naming the variable', async () => {
    await expect(
      loadSecretBox({ secretKey: 'too-short', databaseUrl: 'postgres://db', dataDir: '/nonexistent', log: recorder().log }),
    ).rejects.toThrow(/HERALD_SECRET_KEY/);
  });
});
