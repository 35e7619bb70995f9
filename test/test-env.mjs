// Where the test suites find their services. .ci/run creates a fresh database for every run.
export function testDatabaseUrl() {
  return process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/finetune_fleet_test';
}

export function testRedisUrl() {
  return process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
}
