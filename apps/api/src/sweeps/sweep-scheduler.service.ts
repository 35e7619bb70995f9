// Lazy scheduling of searched sweeps: fill a sweep (hand out trials and cells under its row lock
// until maxConcurrent cells are queued or running), then enqueue its queued cells (job id = cell
// id, so enqueueing one again is a no-op). It runs when a sweep is submitted and on a timer for
// every sweep still handing out work, so the next cell follows a finished, failed or stopped one
// within a tick whichever API replica notices it; replicas serialise on the row lock, so none
// hands out a trial twice. Fairness between sweeps: each has at most maxConcurrent cells in the
// queue, and the queue serves the cells of all sweeps in priority, then arrival order.
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SweepRepository, SweepSearchRepository, type FillResult } from '@fleet/persistence';
import { API_OPTIONS, FLEET_CONFIG, type ApiOptions, type FleetConfig } from '../api-options.js';
import { QueueService } from '../queue/queue.service.js';
import { fillPlan } from './search-plan.js';

@Injectable()
export class SweepSchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SweepScheduler');
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    @Inject(FLEET_CONFIG) private readonly config: FleetConfig,
    @Inject(API_OPTIONS) private readonly options: ApiOptions,
    private readonly searches: SweepSearchRepository,
    private readonly sweeps: SweepRepository,
    private readonly queue: QueueService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.sweepTickMs > 0) this.timer = setInterval(() => void this.tick(), this.options.sweepTickMs);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Hands out what the sweep's budget allows now and enqueues its queued cells; null for an unknown or grid sweep. */
  async fill(sweepId: string): Promise<FillResult | null> {
    const [search, summary] = await Promise.all([this.searches.getSearch(sweepId), this.sweeps.findBase(sweepId)]);
    if (!search || !summary) return null;
    const result = await this.searches.fill(sweepId, fillPlan(summary, search));
    if (result) await this.queue.enqueue(result.queued.map((e) => ({ data: { experimentId: e.id, config: e.config }, priority: e.priority })));
    return result;
  }

  /** One pass over the sweeps still handing out work; a failure is logged and retried next tick. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const id of await this.searches.listActive(this.config.queuePrefix)) {
        await this.fill(id).catch((err: unknown) => this.logger.warn(`sweep ${id}: scheduling failed (next tick retries): ${err instanceof Error ? err.message : String(err)}`));
      }
    } catch (err) {
      this.logger.warn(`sweep scheduling: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.ticking = false;
    }
  }
}
