// Keeps this worker's row in the Worker table fresh (lastSeenAt, currentExperimentId). The API
// lists workers by recent lastSeenAt, so a worker killed with SIGKILL drops off the list by itself.
// A failed beat is logged once per outage and never stops the worker.
import type { WorkerRegistration, WorkerRepository } from '@fleet/persistence';

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private beating: Promise<void> | undefined;

  constructor(
    private readonly workers: WorkerRepository,
    private readonly self: WorkerRegistration,
    private readonly current: () => string | null,
    private readonly intervalMs: number,
    private readonly log: (line: string) => void,
    /** Told after each heartbeat that reached the database (the worker's metrics). */
    private readonly onWritten: () => void = () => undefined,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.beating ??= this.beat().finally(() => {
        this.beating = undefined;
      });
    }, this.intervalMs);
  }

  /** One beat now (also used right after the current experiment changes). */
  async beat(): Promise<void> {
    try {
      await this.workers.heartbeat(this.self, this.current());
      this.onWritten();
      if (this.failing) this.log('heartbeat: database reachable again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log(`heartbeat failed (will keep trying): ${err instanceof Error ? err.message : String(err)}`);
      this.failing = true;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
  }
}
