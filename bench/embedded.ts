/**
 * Scenario `embedded`: the headline figures again on Herald's embedded PostgreSQL, for runs whose
 * other scenarios use the machine's (DATABASE_URL set): end to end through the API with one endpoint
 * (`herald serve` with HERALD_DATA_DIR and no DATABASE_URL, as a user starts it), and the library
 * with 4 endpoints per message. Without DATABASE_URL every scenario already runs embedded.
 */
import { endToEndFigures } from './api.js';
import type { BenchContext } from './harness.js';
import { libraryFigures } from './throughput.js';

export async function runEmbedded(ctx: BenchContext): Promise<void> {
  console.log("[embedded] the headline figures on Herald's embedded PostgreSQL");
  await endToEndFigures(ctx, 'embedded', 1);
  await libraryFigures(ctx, 'embedded', 4, false);
}
