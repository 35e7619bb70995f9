// Registry of live worker processes. A worker inserts its row at boot, refreshes lastSeenAt every
// few seconds and deletes the row on clean exit; a killed worker's row simply goes stale, so
// readers decide liveness by lastSeenAt, never by the row's existence.
import type { PrismaService } from './prisma.service.js';

export interface WorkerRegistration {
  /** `${hostname}:${pid}:${random}` */
  id: string;
  host: string;
  pid: number;
  gpu?: number | undefined;
  backend: string;
  backendInfo?: string | undefined;
}

export interface WorkerRecord extends WorkerRegistration {
  currentExperimentId: string | null;
  startedAt: Date;
  lastSeenAt: Date;
}

/** Liveness, as every reader decides it: a heartbeat within the last `withinMs` milliseconds. */
const seenWithin = (withinMs: number) => ({ lastSeenAt: { gte: new Date(Date.now() - withinMs) } });

export class WorkerRepository {
  constructor(private readonly prisma: PrismaService) {}

  async register(w: WorkerRegistration): Promise<void> {
    const data = { host: w.host, pid: w.pid, gpu: w.gpu ?? null, backend: w.backend, backendInfo: w.backendInfo ?? null, lastSeenAt: new Date() };
    await this.prisma.worker.upsert({ where: { id: w.id }, create: { id: w.id, ...data }, update: data });
  }

  /**
   * Refreshes lastSeenAt and the running experiment. Re-creates the row if it vanished (someone
   * pruned it while this worker was paused), hence the full registration.
   */
  async heartbeat(w: WorkerRegistration, currentExperimentId: string | null): Promise<void> {
    // Raw SQL, one statement: every worker runs it every few seconds and whenever its job changes
    // (Prisma's upsert compiled per client cost ~20 ms of CPU; bench:fleet's 200 workers felt it).
    await this.prisma.$executeRaw`
      INSERT INTO "Worker" ("id", "host", "pid", "gpu", "backend", "backendInfo", "currentExperimentId", "lastSeenAt")
      VALUES (${w.id}, ${w.host}, ${w.pid}, ${w.gpu ?? null}::int, ${w.backend}, ${w.backendInfo ?? null}, ${currentExperimentId}, ${new Date()})
      ON CONFLICT ("id") DO UPDATE SET "currentExperimentId" = EXCLUDED."currentExperimentId", "lastSeenAt" = EXCLUDED."lastSeenAt"`;
  }

  async remove(id: string): Promise<void> {
    await this.prisma.worker.deleteMany({ where: { id } });
  }

  /** How many workers seen within the last `withinMs` milliseconds run nothing (one cheap count). */
  async countIdle(withinMs: number): Promise<number> {
    return this.prisma.worker.count({ where: { ...seenWithin(withinMs), currentExperimentId: null } });
  }

  /** Workers seen within the last `withinMs` milliseconds, oldest first. */
  async listActive(withinMs: number): Promise<WorkerRecord[]> {
    const rows = await this.prisma.worker.findMany({ where: seenWithin(withinMs), orderBy: { startedAt: 'asc' } });
    return rows.map((r) => ({
      id: r.id,
      host: r.host,
      pid: r.pid,
      gpu: r.gpu ?? undefined,
      backend: r.backend,
      backendInfo: r.backendInfo ?? undefined,
      currentExperimentId: r.currentExperimentId,
      startedAt: r.startedAt,
      lastSeenAt: r.lastSeenAt,
    }));
  }
}
