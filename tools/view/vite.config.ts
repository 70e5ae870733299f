// Vite configuration of the visualizer page: the page and its simulation worker import
// the core through the `virtlab` alias, exactly as plugins do.
import path from 'node:path';
import { defineConfig } from 'vite';
import { REPO_ROOT as root } from '../node/repo-root';

export default defineConfig({
  // The page's sources, also when this file runs compiled from dist/.
  root: path.join(root, 'tools', 'view'),
  base: './',
  logLevel: 'warn',
  resolve: { alias: { virtlab: path.join(root, 'core', 'index.ts') } },
  worker: { format: 'es', rolldownOptions: { checks: { pluginTimings: false } } },
  // The bundler's timing report is for bundler developers; the binaryen package imports node:module, which the browser build leaves out on purpose.
  build: { emptyOutDir: true, chunkSizeWarningLimit: 4000, rolldownOptions: { checks: { pluginTimings: false } } },
});
