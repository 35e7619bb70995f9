// `npm run test:faults`: fault tests too slow for CI (real workers trained through crashes and
// service restarts). Same transform and module mapping as the e2e project (built apps from dist/,
// migrated test database); one file at a time because they stop and start whole services.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import base from '../../jest.config.js';

const e2e = base.projects.find((p) => p.displayName === 'e2e');

export default {
  ...e2e,
  rootDir: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'),
  displayName: 'faults',
  testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
  testTimeout: 600_000,
  maxWorkers: 1,
};
