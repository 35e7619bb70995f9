// The dashboard: static pages at / (plain ES modules from apps/api/public, chart.js straight from
// node_modules) and Bull Board at /queues for queue operations. Mounted on the Express instance
// itself rather than as Nest controllers, so a global /api prefix, API guards and Swagger never
// touch it; the pages read all their data from the public /api routes like any other client.
// Bull Board is wired with createBullBoard + ExpressAdapter directly: @bull-board/nestjs is
// CommonJS requiring ESM-only @nestjs/common and fails under Jest (MEASURED.md).
import { Inject, Injectable, Logger, Module, type DynamicModule, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import type { FleetConfig } from '@fleet/config';
import { createRedisConnection, QueueName, type RedisConnection } from '@fleet/queue';
import { locateDashboardAssets, type DashboardAssets } from './dashboard-assets.js';
import { queuesAuth, type GateRequest, type GateResponse } from './queues-auth.js';

export type DashboardModuleOptions = Pick<FleetConfig, 'redisUrl' | 'queuePrefix' | 'apiKey'>;

const DASHBOARD_OPTIONS = Symbol('DASHBOARD_OPTIONS');

/** Client-side routes of the single-page dashboard: each answers index.html. */
export const DASHBOARD_PAGES = ['/', '/sweeps', '/sweeps/:id', '/experiments', '/experiments/:id', '/workers'] as const;
export const QUEUES_PATH = '/queues';

interface StaticRequest extends GateRequest {
  method: string;
  path: string;
}
interface StaticResponse extends GateResponse {
  sendFile(file: string, options: { root: string; dotfiles: 'deny'; headers: Record<string, string> }, done: (err?: Error) => void): void;
}
type Handler = (req: StaticRequest, res: StaticResponse, next: (err?: unknown) => void) => void;
interface ExpressLike {
  get(path: string | readonly string[], handler: Handler): void;
  use(path: string, ...handlers: unknown[]): void;
}

/** Serves files of one folder by their relative path (flat names and sub-folders, no dot-files). */
function folder(root: string, allowed: RegExp, cacheControl: string): Handler {
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    let rel: string;
    try {
      rel = decodeURIComponent(req.path).replace(/^\/+/, '');
    } catch {
      return next();
    }
    if (!allowed.test(rel) || rel.split('/').some((seg) => seg === '' || seg === '..' || seg.startsWith('.'))) return next();
    res.sendFile(rel, { root, dotfiles: 'deny', headers: { 'Cache-Control': cacheControl } }, (err) => {
      if (err) next();
    });
  };
}

@Injectable()
class DashboardMount implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Dashboard');
  private queue: Queue | undefined;
  private connection: RedisConnection | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(DASHBOARD_OPTIONS) private readonly options: DashboardModuleOptions,
  ) {}

  onModuleInit(): void {
    // Application contexts without HTTP (scripts, some tests) have nothing to mount on.
    const app = this.adapterHost.httpAdapter?.getInstance<ExpressLike>();
    if (!app || typeof app.get !== 'function') return;
    const assets = locateDashboardAssets();
    this.mountPages(app, assets);
    this.mountQueues(app);
    this.logger.log(`dashboard at /, Bull Board at ${QUEUES_PATH}${this.options.apiKey ? ' (API key required: open /queues?key=...)' : ''}`);
  }

  private mountPages(app: ExpressLike, assets: DashboardAssets): void {
    const index: Handler = (_req, res, next) => {
      res.sendFile('index.html', { root: assets.publicDir, dotfiles: 'deny', headers: { 'Cache-Control': 'no-cache' } }, (err) => {
        if (err) next(err);
      });
    };
    app.get(DASHBOARD_PAGES, index);
    app.use('/assets', folder(assets.publicDir, /^[\w./-]+\.(js|css|svg|png|ico)$/, 'no-cache'));
    app.use('/vendor/chart.js', folder(assets.chartJsDir, /^[\w./-]+\.js(\.map)?$/, 'public, max-age=86400'));
  }

  private mountQueues(app: ExpressLike): void {
    this.connection = createRedisConnection(this.options.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    this.connection.on('error', (err: Error) => this.logger.warn(`Bull Board Redis: ${err.message}`));
    this.queue = new Queue(QueueName.Train, { connection: this.connection, prefix: this.options.queuePrefix });
    const serverAdapter = new ExpressAdapter();
    serverAdapter.setBasePath(QUEUES_PATH);
    createBullBoard({
      queues: [new BullMQAdapter(this.queue)],
      serverAdapter,
      options: { uiConfig: { boardTitle: 'Finetune Fleet queues' } },
    });
    app.use(QUEUES_PATH, queuesAuth(this.options.apiKey, QUEUES_PATH), serverAdapter.getRouter());
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue?.close();
    this.connection?.disconnect();
  }
}

@Module({})
export class DashboardModule {
  /** The dashboard and Bull Board, for the given Redis, queue prefix and optional API key. */
  static forRoot(options: DashboardModuleOptions): DynamicModule {
    return {
      module: DashboardModule,
      providers: [{ provide: DASHBOARD_OPTIONS, useValue: options }, DashboardMount],
    };
  }
}
