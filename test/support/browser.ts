/**
 * Browser end-to-end support: Debian's Chromium (/usr/bin/chromium, installed by .ci/run with apt-get)
 * driven by playwright-core, which never downloads a browser of its own. Also makes sure the web app
 * is built (web/dist, rebuilt when a source is newer) before a test server serves it, and saves
 * screenshots under test-results/screenshots/ (git-ignored) for people to look at.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** The Chromium Debian installs. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for a sandbox-less CI machine with a closed network: without the background-networking ones,
 * Chromium keeps trying to reach Google's hosts. Playwright adds --headless and a fresh, empty
 * --user-data-dir of its own for every launch (it refuses one passed in `args`).
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const webDir = join(repoRoot, 'web');
const distIndex = join(webDir, 'dist', 'index.html');
/** Where screenshots go (git-ignored through `test-results/`). */
export const SCREENSHOT_DIR = join(repoRoot, 'test-results', 'screenshots');

/** Newest modification time of the app's sources. */
function newestSource(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(webDir, 'src'));
  walk(join(webDir, 'public'));
  // The typed API client the app is built with.
  walk(join(repoRoot, 'src', 'api-client'));
  for (const f of ['index.html', 'vite.config.ts']) newest = Math.max(newest, statSync(join(webDir, f)).mtimeMs);
  return newest;
}

function isFresh(): boolean {
  return existsSync(distIndex) && statSync(distIndex).mtimeMs >= newestSource();
}

/**
 * Builds web/ with Vite's JS API when web/dist is missing or older than a source. Test files run in
 * parallel processes, so a lock directory (mkdir is atomic) lets one build while the others wait.
 */
export async function ensureWebBuilt(): Promise<void> {
  if (isFresh()) return;
  const lock = join(repoRoot, 'node_modules', '.cache', 'herald-web-build.lock');
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Someone else is building; a lock older than 3 minutes is left over from a crash.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
      if (isFresh()) return;
    }
  }
  try {
    if (isFresh()) return;
    const { build } = await import('vite');
    await build({ configFile: join(webDir, 'vite.config.ts'), logLevel: 'warn' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** A launched browser. */
export interface TestBrowser {
  /** The browser. */
  browser: Browser;
  /** A new isolated context (own sessionStorage), desktop-sized unless told otherwise. */
  newContext(opts?: { width?: number; height?: number }): Promise<BrowserContext>;
  /** Closes the browser and every context. */
  close(): Promise<void>;
}

/** Launches Debian's Chromium headless. Close it in `afterAll`. */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`);
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  return {
    browser,
    newContext: ({ width = 1280, height = 860 } = {}) =>
      browser.newContext({
        viewport: { width, height },
        // A fixed zone away from UTC shows the times are converted and labelled.
        timezoneId: 'Europe/London',
        locale: 'en-GB',
        colorScheme: 'light',
        reducedMotion: 'reduce',
      }),
    close: () => browser.close(),
  };
}

/**
 * Saves a screenshot as test-results/screenshots/<name>.png: the full page, or only the viewport
 * (`fullPage: false`) while a modal is open, whose backdrop covers the viewport only.
 */
export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: opts.fullPage ?? true, animations: 'disabled' });
  return path;
}

/** Collects page errors and console errors, so a test can assert the page had none. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}
