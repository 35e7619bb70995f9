// Where the dashboard's static files live on disk. Resolved from this module's own location, so the
// same code works from the TypeScript sources (tests) and from dist/ (production) without copying
// anything: the pages stay in apps/api/public and chart.js stays in node_modules.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DashboardAssets {
  /** apps/api/public: index.html, styles and ES modules. */
  publicDir: string;
  /** node_modules/chart.js/dist: served at /vendor/chart.js/. */
  chartJsDir: string;
}

/** Walks up from `from` to the first folder holding apps/api/public/index.html. */
export function findPublicDir(from: string): string {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, 'apps', 'api', 'public');
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`dashboard: apps/api/public/index.html not found above ${from}`);
    dir = parent;
  }
}

export function locateDashboardAssets(moduleUrl: string = import.meta.url): DashboardAssets {
  const here = path.dirname(fileURLToPath(moduleUrl));
  const publicDir = findPublicDir(here);
  const require = createRequire(path.join(publicDir, 'index.html'));
  // chart.js's exports map hides package.json; its CommonJS entry sits in dist/ next to the UMD build.
  const chartJsDir = path.dirname(require.resolve('chart.js'));
  return { publicDir, chartJsDir };
}
