// The retention policy of run files: with ARTIFACTS_RETENTION_DAYS = N > 0, every API process
// removes, once an hour (and a minute after boot), the files of runs that finished more than N days
// ago. Metrics and epochs stay in Postgres; /model and /predictions then answer 410 and a retry is
// refused. Several API replicas may purge at once: markArtifactsPurged hands each run to one of them.
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ExperimentRepository } from '@fleet/persistence';
import { FLEET_CONFIG, type FleetConfig } from '../api-options.js';
import { RunFilesService } from './run-files.service.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const PURGE_EVERY_MS = 60 * 60 * 1000;
const FIRST_PURGE_AFTER_MS = 60 * 1000;
/** Runs handled per query, so one purge never holds a huge id list. */
const BATCH = 200;

@Injectable()
export class ArtifactRetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ArtifactRetention');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    @Inject(FLEET_CONFIG) private readonly config: FleetConfig,
    private readonly experiments: ExperimentRepository,
    private readonly files: RunFilesService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.artifactsRetentionDays > 0) this.schedule(FIRST_PURGE_AFTER_MS);
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.purgeExpired().catch((err: unknown) => this.logger.error(`retention purge failed: ${err instanceof Error ? err.message : String(err)}`));
      this.schedule(PURGE_EVERY_MS);
    }, delayMs).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Removes the files of every run that finished more than ARTIFACTS_RETENTION_DAYS before `now`.
   * Returns how many runs it purged; 0 when the policy is off. One purge at a time per process.
   */
  async purgeExpired(now = new Date()): Promise<number> {
    if (this.config.artifactsRetentionDays === 0) return 0;
    this.running ??= this.purge(new Date(now.getTime() - this.config.artifactsRetentionDays * DAY_MS)).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async purge(before: Date): Promise<number> {
    let purged = 0;
    for (;;) {
      const expired = await this.experiments.listArtifactsExpired(before, BATCH);
      if (expired.length === 0) break;
      // Mark first: a run marked purged is never retried, so nothing writes into a folder being removed.
      const mine = await this.experiments.markArtifactsPurged(expired);
      await this.files.remove(mine);
      purged += mine.length;
      if (expired.length < BATCH) break;
    }
    if (purged > 0) this.logger.log(`removed the files of ${purged} runs finished before ${before.toISOString()} (ARTIFACTS_RETENTION_DAYS=${this.config.artifactsRetentionDays})`);
    return purged;
  }
}
