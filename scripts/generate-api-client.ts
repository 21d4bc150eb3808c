/** `npm run generate:api`: rewrites src/api-client/openapi.json and schema.ts from the route schemas. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_DIR, generateClientFiles } from './api-document.js';

for (const [name, content] of Object.entries(await generateClientFiles())) {
  writeFileSync(join(CLIENT_DIR, name), content);
  process.stdout.write(`wrote src/api-client/${name}\n`);
}
