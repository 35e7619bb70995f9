// Before the end-to-end suites: migrate the test database and build dist/ (the e2e tests start the
// compiled API and workers as real processes). .ci/run builds just before and sets FLEET_SKIP_BUILD=1.
import { execFileSync } from 'node:child_process';
import globalSetup from './global-setup.mjs';

export default async function globalSetupE2e() {
  await globalSetup();
  if (process.env.FLEET_SKIP_BUILD !== '1') {
    execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  }
}
