/** Herald's version, read from package.json once (shown in user-agent, health and the CLI). */
import { readFileSync } from 'node:fs';

function readPackageVersion(): string {
  // src/version.ts runs from src/ under the test runner and from dist/src/ once built.
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'herald' && pkg.version) return pkg.version;
    } catch {
      // not at this level; try the next
    }
  }
  return '0.0.0';
}

/** The package version. */
export const HERALD_VERSION: string = readPackageVersion();
