/**
 * Vite build of the dashboard and the customer portal: one page (index.html) whose script picks the
 * dashboard or the portal from the path. Everything is bundled into web/dist; nothing is loaded from
 * another host (the dashboard works offline and on a LAN), so the server's CSP can stay at default-src 'self'.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: '/',
  // React 17+ JSX transform without @vitejs/plugin-react: esbuild compiles TSX on its own.
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // No inline <script> or data: URLs in the output, so the CSP needs no 'unsafe-inline'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
});
