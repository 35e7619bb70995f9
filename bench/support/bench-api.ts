// Starts the built API (dist/apps/api/src/main.js) as a real process for a benchmark, against its
// own database and queue prefix, and stops it afterwards. Benchmarks measure the real thing.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface BenchApi {
  url: string;
  process: ChildProcess;
  dataRoot: string;
  weightsRoot: string;
  stop(): Promise<void>;
}

export interface StartBenchApiOptions {
  databaseUrl: string;
  redisUrl?: string;
  queuePrefix: string;
  env?: Record<string, string>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startBenchApi(options: StartBenchApiOptions): Promise<BenchApi> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-'));
  const dataRoot = path.join(root, 'data');
  const weightsRoot = path.join(root, 'weights');
  mkdirSync(path.join(dataRoot, 'demo', 'train', 'ants'), { recursive: true });
  mkdirSync(path.join(dataRoot, 'demo', 'val', 'ants'), { recursive: true });
  mkdirSync(weightsRoot, { recursive: true });
  writeFileSync(path.join(weightsRoot, 'resnet18.pth'), 'placeholder: the API only checks the file exists');
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/apps/api/src/main.js'], {
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: options.redisUrl ?? 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: options.queuePrefix,
      PORT: String(port),
      DATA_ROOT: dataRoot,
      WEIGHTS_ROOT: weightsRoot,
      ARTIFACTS_DIR: path.join(root, 'artifacts'),
      RATE_LIMIT: 'off',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`API exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`API did not become healthy in 30 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    process: child,
    dataRoot,
    weightsRoot,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Resident set size of a process in MiB (Linux /proc). */
export async function rssMiB(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  const idx = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, idx)]!;
}
