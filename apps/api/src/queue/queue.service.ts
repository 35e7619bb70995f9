// The only place in the API that talks to BullMQ: enqueue (job id = experiment id, so a repeated
// enqueue is a no-op; many jobs go in chunks, each waking idle workers together), cancel (remove
// the waiting job, flag it for workers that already took it, tell the running worker) and the
// clean-up a retry needs.
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { WorkerRepository } from '@fleet/persistence';
import { DEFAULT_TRAIN_JOB_OPTIONS, JobName, QueueName, cancelChannel, cancelledKey, MAX_WAKE, wakeIdleWorkers, type RedisConnection, type TrainJobData, type TrainJobResult } from '@fleet/queue';
import { API_OPTIONS, FLEET_CONFIG, type ApiOptions, type FleetConfig } from '../api-options.js';
import { MAX_PRIORITY } from '../experiments/dto/experiment-input.dto.js';
import { REDIS, closeRedis, createRedis } from '../redis/redis.provider.js';

export interface EnqueueItem {
  data: TrainJobData;
  /** User priority 0..MAX_PRIORITY, larger runs sooner. */
  priority: number;
}

/**
 * Jobs per addBulk. A MULTI of 1000 adds takes Redis and the API ~100 ms, all of it before the
 * first worker could start; chunks of 100 let the idle workers start on the first one.
 */
export const ENQUEUE_CHUNK = 100;

const toJob = (item: EnqueueItem) => ({
  name: JobName.TrainExperiment,
  data: item.data,
  opts: { ...DEFAULT_TRAIN_JOB_OPTIONS, jobId: item.data.experimentId, priority: toBullPriority(item.priority) },
});

/** How long a cancel flag outlives the cancel: longer than any job waits in a queue. */
const CANCEL_FLAG_TTL_S = 7 * 24 * 3600;

/**
 * BullMQ runs lower numbers first (1 highest; 0 = unprioritized, ahead of all prioritized jobs).
 * Every job gets a priority so the user's "larger runs sooner" holds across the whole queue.
 */
export function toBullPriority(priority: number): number {
  return MAX_PRIORITY + 1 - priority;
}

@Injectable()
export class QueueService implements OnApplicationShutdown {
  private readonly logger = new Logger('Queue');
  private readonly connection: RedisConnection;
  readonly queue: Queue<TrainJobData, TrainJobResult, JobName>;

  constructor(
    @Inject(FLEET_CONFIG) private readonly config: FleetConfig,
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(API_OPTIONS) private readonly options: ApiOptions,
    private readonly workers: WorkerRepository,
  ) {
    this.connection = createRedis(config.redisUrl, new Logger('QueueRedis'));
    this.queue = new Queue<TrainJobData, TrainJobResult, JobName>(QueueName.Train, { connection: this.connection, prefix: config.queuePrefix });
    // Connection errors are already logged by the connection; without a listener BullMQ prints each one with a stack.
    this.queue.on('error', () => undefined);
  }

  /**
   * Adds the jobs in chunks (each one addBulk, one MULTI): first one job per idle worker (at least
   * ENQUEUE_CHUNK), then ENQUEUE_CHUNK at a time, waking up to as many idle workers after each chunk
   * (see wakeIdleWorkers): on a large sweep every idle worker starts while the rest is still being
   * added. Rejects after enqueueTimeoutMs (ApiOptions) per chunk while Redis is away, after removing
   * the chunks already added; should an add still land later, or a
   * removal fail, the workers drop those jobs, because the caller marks the rows failed (or deletes
   * them) and workers only start queued rows.
   */
  async enqueue(items: EnqueueItem[]): Promise<void> {
    if (items.length === 0) return;
    let toWake = items.length > 1 ? await this.countIdleWorkers() : 0;
    // The first chunk has a job for every idle worker, so one wake starts them all.
    let size = Math.min(Math.max(ENQUEUE_CHUNK, toWake), MAX_WAKE);
    const added: string[] = [];
    try {
      for (let start = 0; start < items.length; start += size, size = ENQUEUE_CHUNK) {
        const chunk = items.slice(start, start + size);
        await this.withTimeout(this.queue.addBulk(chunk.map(toJob)), 'enqueue');
        added.push(...chunk.map((item) => item.data.experimentId));
        const wake = Math.min(chunk.length, toWake);
        toWake -= wake;
        await this.wake(wake);
      }
    } catch (err) {
      await this.removeAdded(added);
      throw err;
    }
  }

  /** After a failed enqueue: the jobs of the chunks that did get in, best effort. */
  private async removeAdded(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      await this.withTimeout(Promise.all(ids.map((id) => this.queue.remove(id))), 'removal of the jobs already added');
    } catch (err) {
      this.logger.warn(`${ids.length} jobs of a failed enqueue stay queued (workers drop them: their runs are not queued): ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Idle live workers; 0 (BullMQ's own one-at-a-time wake) when Postgres cannot tell. */
  private async countIdleWorkers(): Promise<number> {
    try {
      return await this.workers.countIdle(this.options.workerLiveMs);
    } catch (err) {
      this.logger.warn(`idle workers not counted, they wake one at a time: ${err instanceof Error ? err.message : String(err)}`);
      return 0;
    }
  }

  /** The jobs are in: a failed wake only makes them start one worker at a time, as BullMQ does. */
  private async wake(count: number): Promise<void> {
    if (count < 2) return;
    try {
      await this.withTimeout(wakeIdleWorkers(this.redis, this.queue.keys, count), 'worker wake-up');
    } catch (err) {
      this.logger.warn(`idle workers not woken together: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** BullMQ waits for Redis forever; a request must not. */
  private async withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
    work.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not confirm the ${what} within ${this.options.enqueueTimeoutMs} ms`)), this.options.enqueueTimeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Makes sure a cancelled experiment never (further) runs: flags it for any worker that picks the
   * job up later, removes the job if it is still waiting, and tells the worker running it to stop.
   */
  async cancel(experimentId: string): Promise<void> {
    await this.redis.set(cancelledKey(this.config.queuePrefix, experimentId), '1', 'EX', CANCEL_FLAG_TTL_S);
    // remove() leaves a job a worker holds the lock of (it returns 0); the flag and the message cover that one.
    await this.withTimeout(this.queue.remove(experimentId), 'job removal');
    await this.redis.publish(cancelChannel(this.config.queuePrefix), experimentId);
  }

  /**
   * Removes old jobs before their experiments are enqueued again under the same ids. Returns the ids
   * whose job is still held by a worker (cannot be removed yet).
   */
  async removeJobs(experimentIds: string[]): Promise<string[]> {
    const busy: string[] = [];
    for (const id of experimentIds) {
      await this.withTimeout(this.queue.remove(id), 'job removal');
      if (await this.withTimeout(this.queue.getJob(id), 'job lookup')) busy.push(id);
    }
    return busy;
  }

  async clearCancelled(experimentIds: string[]): Promise<void> {
    if (experimentIds.length === 0) return;
    await this.redis.del(...experimentIds.map((id) => cancelledKey(this.config.queuePrefix, id)));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
    await closeRedis(this.connection);
  }
}
