// A Redis Cluster of our own for the cluster suites: N masters (no replicas) on free ports, each
// with its node config file and an append-only file (fsynced on every write) in a temp folder, so a
// master restarted by a test comes back with its node id, its slots and its data. And a Sentinel
// watching a private Redis, for the sentinel test. Never point these at shared servers.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './private-services.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

/** One redis-server child, started from fixed arguments so it can be restarted as it was. */
class ServerProcess {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(
    readonly label: string,
    private readonly args: string[],
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  get log(): string {
    return this.output;
  }

  async start(timeoutMs = 20_000): Promise<void> {
    this.output = '';
    const child = spawn('redis-server', this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + timeoutMs;
    while (!/Ready to accept connections|Sentinel ID is/.test(this.output)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.label} exited at start:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`${this.label} did not start within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }
}

export interface ClusterNodeInfo {
  port: number;
  /** First and last slot of each range this master serves. */
  slots: [number, number][];
}

/** A cluster-mode redis-server on `port`, its bus on `busPort` (the default, port + 10000, may be taken or past 65535). */
function clusterNode(port: number, busPort: number, nodeDir: string): ServerProcess {
  return new ServerProcess(`redis cluster node ${port}`, [
    '--port', String(port),
    '--cluster-port', String(busPort),
    '--bind', '127.0.0.1',
    '--protected-mode', 'no',
    '--cluster-enabled', 'yes',
    '--cluster-config-file', path.join(nodeDir, 'nodes.conf'),
    // A restarted master must come back quickly without the others voting it out first.
    '--cluster-node-timeout', '5000',
    '--save', '',
    '--appendonly', 'yes',
    '--appendfsync', 'always',
    '--dir', nodeDir,
    '--daemonize', 'no',
  ]);
}

export class PrivateRedisCluster {
  private constructor(
    readonly dir: string,
    readonly ports: number[],
    private readonly servers: ServerProcess[],
  ) {}

  /** Starts `masters` servers with cluster mode on and joins them (redis-cli --cluster create). */
  static async start(masters = 3): Promise<PrivateRedisCluster> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-redis-cluster-'));
    const ports: number[] = [];
    const servers: ServerProcess[] = [];
    const cluster = new PrivateRedisCluster(dir, ports, servers);
    try {
      for (let i = 0; i < masters; i++) {
        const nodeDir = path.join(dir, `node${i}`);
        mkdirSync(nodeDir);
        // Free ports are only free until someone binds them: a parallel suite may take one between
        // freePort() and redis-server's bind (seen in CI on the cluster bus port). Such a node is
        // started again on new ports; any other start failure is the test's.
        for (let attempt = 1; ; attempt++) {
          const [port, busPort] = [await freePort(), await freePort()];
          const server = clusterNode(port, busPort, nodeDir);
          try {
            await server.start();
          } catch (err) {
            if (attempt >= 5 || !/Address already in use/.test(server.log)) throw err;
            // Whatever the aborted node wrote (its node id and ports in nodes.conf) goes with it.
            rmSync(nodeDir, { recursive: true, force: true });
            mkdirSync(nodeDir);
            continue;
          }
          ports.push(port);
          servers.push(server);
          break;
        }
      }
      await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 60_000 });
      await cluster.waitUntilOk();
      return cluster;
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
  }

  /** REDIS_URL of the cluster: every master as a seed. */
  get url(): string {
    return `redis+cluster://${this.ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  }

  /** Waits until every running node reports cluster_state:ok and all 16384 slots are served. */
  async waitUntilOk(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        for (const port of this.ports) {
          const info = await this.command(port, ['CLUSTER', 'INFO']).catch(() => '');
          if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
        }
        return true;
      },
      { timeoutMs, intervalMs: 100, what: 'the cluster to report cluster_state:ok on every node' },
    );
  }

  /** The port of the master serving the slot of `key` (e.g. a queue prefix's hash tag). */
  async masterOf(key: string): Promise<number> {
    const slot = Number(await this.command(this.ports[0] as number, ['CLUSTER', 'KEYSLOT', key]));
    const node = (await this.nodes()).find((n) => n.slots.some(([from, to]) => slot >= from && slot <= to));
    if (!node) throw new Error(`no master serves slot ${slot}`);
    return node.port;
  }

  /** Masters and their slot ranges, as node 0 sees them. */
  async nodes(): Promise<ClusterNodeInfo[]> {
    const client = new Redis({ host: '127.0.0.1', port: this.ports[0], maxRetriesPerRequest: 1, lazyConnect: true });
    try {
      await client.connect();
      const slots = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, ...unknown[]]][];
      const byPort = new Map<number, ClusterNodeInfo>();
      for (const [from, to, [, port]] of slots) {
        const node = byPort.get(port) ?? { port, slots: [] };
        node.slots.push([from, to]);
        byPort.set(port, node);
      }
      return [...byPort.values()];
    } finally {
      client.disconnect();
    }
  }

  /**
   * Stops the master on `port` (SIGTERM: a clean shutdown that flushes its append-only file;
   * SIGKILL: a crash, nothing lost either with appendfsync always), starts it again with the same
   * node config file and data, and waits until the cluster is whole again.
   */
  async restart(port: number, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', downMs = 0): Promise<void> {
    const server = this.servers[this.ports.indexOf(port)];
    if (!server) throw new Error(`no node on port ${port}`);
    await server.stop(signal);
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await server.start();
    await this.waitUntilOk();
  }

  /** Server logs (for failure messages). */
  get logs(): string {
    return this.servers.map((s) => `--- ${s.label}\n${s.log}`).join('\n');
  }

  /** Stops every node and removes their data. Safe to call twice or after a failed start. */
  async destroy(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop('SIGKILL')));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async command(port: number, args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5000 });
    return stdout.trim();
  }
}

/** A Redis master and one Sentinel watching it under `masterName`, both on free ports. */
export class PrivateSentinel {
  private constructor(
    readonly dir: string,
    readonly masterPort: number,
    readonly sentinelPort: number,
    readonly masterName: string,
    private readonly servers: ServerProcess[],
  ) {}

  static async start(masterName = 'fleetmaster'): Promise<PrivateSentinel> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-redis-sentinel-'));
    const [masterPort, sentinelPort] = [await freePort(), await freePort()];
    // Sentinel rewrites its config file, so it gets one of its own in the temp folder.
    const config = path.join(dir, 'sentinel.conf');
    writeFileSync(config, [`port ${sentinelPort}`, 'bind 127.0.0.1', 'protected-mode no', `dir ${dir}`, `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 1`, ''].join('\n'));
    const master = new ServerProcess(`redis master ${masterPort}`, ['--port', String(masterPort), '--bind', '127.0.0.1', '--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no']);
    const sentinel = new ServerProcess(`redis sentinel ${sentinelPort}`, [config, '--sentinel']);
    const result = new PrivateSentinel(dir, masterPort, sentinelPort, masterName, [master, sentinel]);
    try {
      await master.start();
      await sentinel.start();
      return result;
    } catch (err) {
      await result.destroy();
      throw err;
    }
  }

  get url(): string {
    return `redis+sentinel://127.0.0.1:${this.sentinelPort}/${this.masterName}`;
  }

  async destroy(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop('SIGKILL')));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
