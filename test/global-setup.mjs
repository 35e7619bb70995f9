// Runs once before the integration and e2e suites: applies the migrations to the test database
// (created when missing) so every test file starts from the current schema.
import { migrate } from '../scripts/prisma-migrate.mjs';
import { testDatabaseUrl } from './test-env.mjs';

export default async function globalSetup() {
  await migrate({ url: testDatabaseUrl(), log: () => undefined });
}
