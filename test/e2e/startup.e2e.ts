// Fail fast at boot (CONVENTIONS 7): a missing or invalid setting, or an unreachable Postgres or
// Redis, or an artifact store they cannot use, stops the API and the worker with exit code 1 and
// ONE line saying what is wrong.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { testDatabaseUrl, testRedisUrl } from '../test-env.mjs';

interface Exit {
  code: number | null;
  stderrLines: string[];
}

function runApp(entry: string, env: Record<string, string | undefined>, args: string[] = []): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not exit within 20 s; stderr so far:\n${stderr}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderrLines: stderr.split('\n').filter((l) => l.trim() !== '') });
    });
  });
}

const apps = [
  ['api', 'dist/apps/api/src/main.js'],
  ['worker', 'dist/apps/worker/src/main.js'],
] as const;

describe.each(apps)('%s startup', (_name, entry) => {
  it('names a missing DATABASE_URL in one line (production)', async () => {
    const result = await runApp(entry, { NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(result.code).toBe(1);
    expect(result.stderrLines).toHaveLength(1);
    expect(result.stderrLines[0]).toContain('DATABASE_URL is missing');
  });

  it('names an unreachable Redis in one line', async () => {
    const result = await runApp(entry, { DATABASE_URL: testDatabaseUrl(), REDIS_URL: 'redis://127.0.0.1:1' });
    expect(result.code).toBe(1);
    expect(result.stderrLines).toHaveLength(1);
    expect(result.stderrLines[0]).toContain('cannot reach Redis at redis://127.0.0.1:1');
  });

  it('names a bad ARTIFACTS_URL in one line', async () => {
    const result = await runApp(entry, { DATABASE_URL: testDatabaseUrl(), REDIS_URL: 'redis://127.0.0.1:6379', ARTIFACTS_URL: 'minio://fleet/prod' });
    expect(result.code).toBe(1);
    expect(result.stderrLines).toEqual([expect.stringContaining('invalid configuration: ARTIFACTS_URL must look like s3://bucket/prefix or file:///absolute/path')]);
  });

  it('names an artifact store it cannot reach in one line', async () => {
    const env = { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' };
    const result = await runApp(entry, { DATABASE_URL: testDatabaseUrl(), REDIS_URL: 'redis://127.0.0.1:6379', ARTIFACTS_URL: 's3://fleet-artifacts/prod', ...env });
    expect(result.code).toBe(1);
    expect(result.stderrLines).toEqual([expect.stringMatching(/artifact store s3:\/\/fleet-artifacts\/prod is not usable.*ECONNREFUSED.*\(ARTIFACTS_URL\)$/)]);
  });

  it('names an unreachable Postgres in one line', async () => {
    const result = await runApp(entry, { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/x', REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(result.code).toBe(1);
    expect(result.stderrLines).toHaveLength(1);
    expect(result.stderrLines[0]).toContain('cannot reach Postgres');
  });
});

describe('worker startup', () => {
  it('names a metrics port that is taken in one line, before starting any training process', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const result = await runApp('dist/apps/worker/src/main.js', { DATABASE_URL: testDatabaseUrl(), REDIS_URL: testRedisUrl(), QUEUE_PREFIX: 'startup-metrics-port' }, ['--backend', 'cpu', '--metrics-port', String(port)]);
      expect(result.code).toBe(1);
      expect(result.stderrLines).toHaveLength(1);
      expect(result.stderrLines[0]).toMatch(new RegExp(`^worker: --metrics-port ${port} cannot be used: listen EADDRINUSE`));
    } finally {
      taken.close();
    }
  });
});
