// Private Redis and Postgres servers for fault tests and the network-namespace benchmark: each on
// a free port with its data in a temp folder, so a test may stop, kill and restart them without
// touching the shared services on 6379/5432 that other suites and engineers use. Redis keeps its
// queue in an append-only file (like production's AOF) so a restart loses nothing; Postgres runs
// as the `postgres` OS user (it refuses root) with trust auth.
// Never point these helpers at the shared services: stop() and restart() really stop the server.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Folder of Debian's PostgreSQL 15 server binaries (initdb, pg_ctl). */
export const PG_BIN = process.env.FLEET_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A TCP port nothing listens on right now (the OS picks it; a race with other processes is possible but rare). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once a TCP connect to host:port succeeds; rejects after timeoutMs. */
export async function waitForPort(host: string, port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      socket.setTimeout(1000, () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface PrivateRedisOptions {
  /** Addresses Redis listens on. Default ['127.0.0.1']; the first one is used in `url`. */
  bind?: string[];
  /** TCP port. Default: a free port. */
  port?: number;
  /** Also listen on a Unix socket in the data folder (reachable from any network namespace). Default false */
  unixSocket?: boolean;
  /** Command prefix, e.g. ['ip', 'netns', 'exec', 'fleet-hub'] to run inside a network namespace. Default [] */
  wrap?: string[];
  /** How long start() waits for the server to accept connections. Default 20000 ms */
  startTimeoutMs?: number;
  /** appendfsync: 'always' loses nothing on SIGKILL (fault tests); 'everysec' is Redis's production default (benchmarks). Default 'always' */
  appendfsync?: 'always' | 'everysec';
}

/** A redis-server of our own, persisting to an append-only file so restarts keep the queue. */
export class PrivateRedis {
  private process: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly options: PrivateRedisOptions,
  ) {}

  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-redis-'));
    const redis = new PrivateRedis(dir, options.port ?? (await freePort()), options);
    await redis.launch();
    return redis;
  }

  get host(): string {
    return this.options.bind?.[0] ?? '127.0.0.1';
  }

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  /** Path of the Unix socket (when `unixSocket` was asked for). */
  get socketPath(): string {
    return path.join(this.dir, 'redis.sock');
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  /** Server log so far (for failure messages). */
  get log(): string {
    return this.output;
  }

  private async launch(): Promise<void> {
    const args = [
      '--port', String(this.port),
      '--bind', ...(this.options.bind ?? ['127.0.0.1']),
      '--protected-mode', 'no',
      '--save', '',
      '--appendonly', 'yes',
      // Every write reaches the file before the reply: a SIGKILLed server loses nothing either.
      '--appendfsync', this.options.appendfsync ?? 'always',
      '--dir', this.dir,
      '--daemonize', 'no',
      ...(this.options.unixSocket ? ['--unixsocket', this.socketPath, '--unixsocketperm', '777'] : []),
    ];
    const wrap = this.options.wrap ?? [];
    const [command, ...rest] = [...wrap, 'redis-server', ...args] as [string, ...string[]];
    const child = spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.once('exit', () => {
      if (this.process === child) this.process = undefined;
    });
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 20_000);
    while (!/Ready to accept connections/.test(this.output)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited at start:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not start within ${this.options.startTimeoutMs ?? 20_000} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops the server: SIGTERM (a clean shutdown, like `systemctl stop`) or SIGKILL (a crash). */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.process;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** Starts the server again on the same port and data folder (the append-only file is replayed). */
  async restart(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    this.output = '';
    await this.launch();
  }

  /** Stops the server and removes its data. */
  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface PrivatePostgresOptions {
  /** listen_addresses. Default ['127.0.0.1']; the first one is used in `url()`. */
  listen?: string[];
  /** TCP port. Default: a free port. */
  port?: number;
  /** Command prefix, e.g. ['ip', 'netns', 'exec', 'fleet-hub'] to run inside a network namespace. Default [] */
  wrap?: string[];
  /** Apply prisma/migrations to this database after the first start. Default 'fleet'; null: none. */
  database?: string | null;
  /** max_connections. Default 100 */
  maxConnections?: number;
  /** Client networks (CIDR) besides loopback that may connect, trusted like loopback. Default [] */
  allowFrom?: string[];
}

/**
 * A PostgreSQL 15 cluster of our own (initdb into a temp folder, trust auth), owned by the
 * `postgres` OS user. Unix socket in `socketDir`, reachable from any network namespace.
 */
export class PrivatePostgres {
  private running_ = false;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly options: PrivatePostgresOptions,
  ) {}

  static async start(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-pg-'));
    // The postgres user must reach the folder: mkdtemp makes it 0700 and owned by root.
    chmodSync(dir, 0o755);
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
    mkdirSync(path.join(dir, 'sock'));
    chownSync(path.join(dir, 'sock'), uid, gid);
    const pg = new PrivatePostgres(dir, options.port ?? (await freePort()), options);
    await pg.asPostgres(path.join(PG_BIN, 'initdb'), ['-D', pg.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
    if (options.allowFrom?.length) {
      const hba = path.join(pg.dataDir, 'pg_hba.conf');
      appendFileSync(hba, options.allowFrom.map((cidr) => `host all all ${cidr} trust\n`).join(''));
    }
    await pg.startServer();
    const database = options.database === undefined ? 'fleet' : options.database;
    if (database !== null) {
      // Loaded from the repository root at run time: dist/ holds no copy of the scripts folder.
      const migrator = (await import(pathToFileURL(path.resolve('scripts/prisma-migrate.mjs')).href)) as typeof import('../../scripts/prisma-migrate.mjs');
      // Through the Unix socket: the TCP addresses may exist only inside a network namespace.
      await migrator.migrate({ url: pg.socketUrl(database), log: () => undefined });
    }
    return pg;
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  get socketDir(): string {
    return path.join(this.dir, 'sock');
  }

  get host(): string {
    return this.options.listen?.[0] ?? '127.0.0.1';
  }

  get running(): boolean {
    return this.running_;
  }

  /** TCP connection string of a database. Default: the migrated one. */
  url(database = this.options.database ?? 'fleet'): string {
    return `postgresql://postgres@${this.host}:${this.port}/${database}`;
  }

  /** Unix-socket connection string (works from any network namespace on this machine). */
  socketUrl(database = this.options.database ?? 'fleet'): string {
    return `postgresql://postgres@localhost:${this.port}/${database}?host=${encodeURIComponent(this.socketDir)}`;
  }

  /** Server log (for failure messages). */
  get log(): string {
    try {
      return readFileSync(path.join(this.dir, 'server.log'), 'utf8');
    } catch {
      return '';
    }
  }

  private async startServer(): Promise<void> {
    const settings = [
      `-p ${this.port}`,
      `-c listen_addresses=${(this.options.listen ?? ['127.0.0.1']).join(',')}`,
      `-c unix_socket_directories=${this.socketDir}`,
      `-c max_connections=${this.options.maxConnections ?? 100}`,
      // fsync off: only a crash of the whole machine could lose data, never a crash of Postgres
      // itself. synchronous_commit stays on: a committed epoch must survive an immediate stop.
      '-c fsync=off',
      '-c full_page_writes=off',
    ].join(' ');
    await this.asPostgres(path.join(PG_BIN, 'pg_ctl'), ['-D', this.dataDir, '-l', path.join(this.dir, 'server.log'), '-o', settings, '-w', '-t', '30', 'start']);
    this.running_ = true;
  }

  /**
   * Stops the server. 'fast' (default) ends sessions and shuts down cleanly, like a service
   * restart; 'immediate' is a crash (recovery from WAL at the next start).
   */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!this.running_) return;
    await this.asPostgres(path.join(PG_BIN, 'pg_ctl'), ['-D', this.dataDir, '-m', mode, '-w', '-t', '30', 'stop']);
    this.running_ = false;
  }

  /** Starts the server again on the same port and data. */
  async start(): Promise<void> {
    if (!this.running_) await this.startServer();
  }

  async restart(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.stop(mode);
    await this.startServer();
  }

  /** Stops the server (immediately) and removes its data. */
  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async asPostgres(command: string, args: string[]): Promise<void> {
    const wrap = this.options.wrap ?? [];
    const full = [...wrap, 'runuser', '-u', 'postgres', '--', command, ...args] as [string, ...string[]];
    try {
      await run(full[0], full.slice(1), { cwd: '/', timeout: 120_000 });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`${path.basename(command)} ${args.at(-1) ?? ''} failed: ${e.stderr || e.stdout || e.message}\n${this.log}`);
    }
  }
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no "postgres" OS user: install the postgresql package');
  const fields = line.split(':');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

export interface PrivatePgBouncerOptions {
  /** The Postgres to pool (its TCP address). */
  target: { host: string; port: number };
  /** Databases exposed, each under its own name. */
  databases: string[];
  /** Server connections per database and user (default_pool_size). Default 20 */
  poolSize?: number;
  /**
   * Server connections kept open even when idle (min_pool_size). Default: poolSize, so that a burst
   * of clients does not wait while PgBouncer opens the pool's connections one by one (124 clients
   * waited up to 251 ms for that when 200 workers took their first runs at once: bench:fleet).
   */
  minPoolSize?: number;
  /** Client connections accepted (max_client_conn). Default 2000 */
  maxClients?: number;
}

/**
 * A PgBouncer of our own (Debian's pgbouncer, run as the `postgres` OS user: it refuses root) in
 * transaction mode, trust auth, on a free port: many clients share a few server connections, each
 * held for one transaction only. Prisma's pg adapter sends unnamed statements, which transaction
 * mode allows (PgBouncer 1.18 does not track named prepared statements).
 */
export class PrivatePgBouncer {
  private process: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(options: PrivatePgBouncerOptions): Promise<PrivatePgBouncer> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-pgbouncer-'));
    chmodSync(dir, 0o755);
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
    const bouncer = new PrivatePgBouncer(dir, await freePort());
    const ini = [
      '[databases]',
      ...options.databases.map((db) => `${db} = host=${options.target.host} port=${options.target.port} dbname=${db}`),
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${bouncer.port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      'admin_users = postgres',
      'pool_mode = transaction',
      `max_client_conn = ${options.maxClients ?? 2000}`,
      `default_pool_size = ${options.poolSize ?? 20}`,
      `min_pool_size = ${options.minPoolSize ?? options.poolSize ?? 20}`,
      // node-postgres sends no other startup parameters than these tracked ones.
      'ignore_startup_parameters = extra_float_digits',
      `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
    ].join('\n');
    writeFileSync(path.join(dir, 'pgbouncer.ini'), `${ini}\n`);
    writeFileSync(path.join(dir, 'userlist.txt'), '"postgres" ""\n');
    for (const f of ['pgbouncer.ini', 'userlist.txt']) chownSync(path.join(dir, f), uid, gid);
    const child = spawn('runuser', ['-u', 'postgres', '--', 'pgbouncer', path.join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] });
    bouncer.process = child;
    child.stdout?.on('data', (d: Buffer) => (bouncer.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (bouncer.output += d.toString()));
    child.once('exit', () => {
      if (bouncer.process === child) bouncer.process = undefined;
    });
    try {
      await waitForPort('127.0.0.1', bouncer.port);
    } catch (err) {
      throw new Error(`pgbouncer did not start: ${err instanceof Error ? err.message : String(err)}\n${bouncer.output}`);
    }
    return bouncer;
  }

  /** Connection string of a pooled database. */
  url(database: string): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** The admin console (SHOW POOLS, SHOW STATS). */
  get adminUrl(): string {
    return this.url('pgbouncer');
  }

  /** Pid of pgbouncer itself (runuser's child). */
  get pid(): number | undefined {
    try {
      return Number(readFileSync(path.join(this.dir, 'pgbouncer.pid'), 'utf8').trim());
    } catch {
      return undefined;
    }
  }

  get log(): string {
    return this.output;
  }

  /** Stops pgbouncer (SIGINT: at once, dropping clients) and removes its folder. */
  async destroy(): Promise<void> {
    const child = this.process;
    if (child) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const pid = this.pid;
      if (pid) process.kill(pid, 'SIGINT');
      else child.kill('SIGINT');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
