import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLIENT_DIR, generateClientFiles } from '../../scripts/api-document.js';

describe('the typed API client generated from the OpenAPI document', () => {
  it('is up to date with the route schemas (regenerate with `npm run generate:api`)', async () => {
    const files = await generateClientFiles();
    expect(Object.keys(files).sort()).toEqual(['openapi.json', 'schema.ts']);
    for (const [name, content] of Object.entries(files)) {
      const checkedIn = readFileSync(join(CLIENT_DIR, name), 'utf8');
      // Compare lengths first so a stale file fails with a short message rather than a 300 kB diff.
      expect({ name, stale: checkedIn !== content, lengths: [checkedIn.length, content.length] }).toEqual({
        name,
        stale: false,
        lengths: [content.length, content.length],
      });
    }
  });

  it('is the document the server serves', async () => {
    const { startApi } = await import('../support/api.js');
    const api = await startApi();
    try {
      const served = (await api.call('GET', '/api/openapi.json', { token: null })).body;
      const checkedIn = JSON.parse(readFileSync(join(CLIENT_DIR, 'openapi.json'), 'utf8'));
      expect(Object.keys(served.paths).sort()).toEqual(Object.keys(checkedIn.paths).sort());
      expect(served.components.schemas).toEqual(checkedIn.components.schemas);
    } finally {
      await api.close();
    }
  });
});
