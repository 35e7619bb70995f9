// The API's view of experiments: create, read, list with keyset pagination, and the status changes
// the API makes itself (cancel, enqueue failure, retry). Status changes are conditional updates so
// they never overwrite a state a worker reached meanwhile (e.g. a run that just succeeded stays
// succeeded when a cancel arrives a moment late).
import type { EpochMetrics } from '@fleet/training/contracts.js';
import type { Prisma } from './generated/prisma/client.js';
import type { ExperimentStatus } from './generated/prisma/enums.js';
import { toColumns } from './epoch-metric.repository.js';
import { decodeCursor, encodeCursor, type ExperimentQuery, type ExperimentSortField } from './experiment-query.js';
import { toExperimentColumns, toExperimentRecord, type ExperimentRecord, type NewExperiment } from './experiment.mapper.js';
import type { PrismaService } from './prisma.service.js';

export interface ExperimentWithEpochs extends ExperimentRecord {
  epochs: EpochMetrics[];
}

export interface ExperimentPage {
  items: ExperimentRecord[];
  nextCursor: string | null;
}

/** Default page size of list(). */
export const DEFAULT_PAGE_SIZE = 50;

const ACTIVE: ExperimentStatus[] = ['queued', 'running'];
const RETRYABLE: ExperimentStatus[] = ['failed', 'cancelled'];

/** What delete() did: deleted, or why not (nothing changed then). */
export type DeleteExperimentOutcome =
  | { deleted: true }
  | { deleted: false; reason: 'not-found' }
  | { deleted: false; reason: 'active'; status: ExperimentStatus }
  | { deleted: false; reason: 'sweep'; sweepId: string }
  /** queued or running chained runs that start from its model (at most 10 ids) */
  | { deleted: false; reason: 'children'; children: string[] }
  /** searched sweeps still handing out cells whose base starts from its model (at most 10 ids) */
  | { deleted: false; reason: 'searches'; sweeps: string[] };

export class ExperimentRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(experiment: NewExperiment): Promise<ExperimentRecord> {
    const row = await this.prisma.experiment.create({ data: toExperimentColumns(experiment, new Date()) });
    return toExperimentRecord(row);
  }

  async findById(id: string): Promise<ExperimentRecord | null> {
    const row = await this.prisma.experiment.findUnique({ where: { id } });
    return row ? toExperimentRecord(row) : null;
  }

  async findWithEpochs(id: string): Promise<ExperimentWithEpochs | null> {
    const row = await this.prisma.experiment.findUnique({ where: { id }, include: { epochMetrics: { orderBy: { epoch: 'asc' } } } });
    if (!row) return null;
    const { epochMetrics, ...experiment } = row;
    return { ...toExperimentRecord(experiment), epochs: epochMetrics.map(toColumns) };
  }

  async list(query: ExperimentQuery): Promise<ExperimentPage> {
    const sort: ExperimentSortField = query.sort ?? 'createdAt';
    const order = query.order ?? 'desc';
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const filters: Prisma.ExperimentWhereInput[] = [];
    if (query.sweepId !== undefined) filters.push({ sweepId: query.sweepId });
    if (query.status !== undefined) filters.push({ status: query.status });
    if (query.strategy !== undefined) filters.push({ strategy: query.strategy });
    if (query.dataset !== undefined) filters.push({ dataset: query.dataset });
    if (query.cursor !== undefined) {
      const cursor = decodeCursor(query.cursor, sort, order);
      const op = order === 'desc' ? 'lt' : 'gt';
      if (sort === 'createdAt') {
        const at = new Date(cursor.value as string);
        filters.push({ OR: [{ createdAt: { [op]: at } }, { createdAt: at, id: { [op]: cursor.id } }] });
      } else if (cursor.value === null) {
        filters.push({ bestValAcc: null, id: { [op]: cursor.id } });
      } else {
        const best = cursor.value as number;
        filters.push({ OR: [{ bestValAcc: { [op]: best } }, { bestValAcc: best, id: { [op]: cursor.id } }, { bestValAcc: null }] });
      }
    }
    const orderBy: Prisma.ExperimentOrderByWithRelationInput[] =
      sort === 'createdAt' ? [{ createdAt: order }, { id: order }] : [{ bestValAcc: { sort: order, nulls: 'last' } }, { id: order }];
    const rows = await this.prisma.experiment.findMany({ where: { AND: filters }, orderBy, take: limit + 1 });
    const page = rows.slice(0, limit).map(toExperimentRecord);
    const last = page.at(-1);
    const nextCursor =
      rows.length > limit && last
        ? encodeCursor({ sort, order, id: last.id, value: sort === 'createdAt' ? last.createdAt.toISOString() : last.bestValAcc })
        : null;
    return { items: page, nextCursor };
  }

  /** queued/running -> cancelled. Returns the updated record, or null when it was not active. */
  async cancel(id: string): Promise<ExperimentRecord | null> {
    const { count } = await this.prisma.experiment.updateMany({ where: { id, status: { in: ACTIVE } }, data: { status: 'cancelled', finishedAt: new Date() } });
    return count === 1 ? this.findById(id) : null;
  }

  /** queued -> failed with the reason, for runs whose job never reached the queue. */
  async markNotEnqueued(ids: string[], error: string): Promise<number> {
    const { count } = await this.prisma.experiment.updateMany({ where: { id: { in: ids }, status: 'queued' }, data: { status: 'failed', error, finishedAt: new Date() } });
    return count;
  }

  /**
   * Deletes a finished single run (and, by cascade, its epochs) unless something still needs it:
   * it is queued/running, belongs to a sweep, or is the parent of queued/running chained runs (or
   * of a searched sweep that may still create some). The row is locked first (FOR UPDATE), which
   * waits for any insert of a child referencing it (inserts take a key-share lock on the parent):
   * a child stored before the delete is counted, one stored after it fails its foreign key.
   * Finished children keep their rows; their parentExperimentId becomes null (ON DELETE SET NULL).
   */
  async delete(id: string): Promise<DeleteExperimentOutcome> {
    return this.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ status: ExperimentStatus; sweepId: string | null }[]>`SELECT "status", "sweepId" FROM "Experiment" WHERE "id" = ${id} FOR UPDATE`;
      const row = rows[0];
      if (!row) return { deleted: false, reason: 'not-found' };
      if (ACTIVE.includes(row.status)) return { deleted: false, reason: 'active', status: row.status };
      if (row.sweepId !== null) return { deleted: false, reason: 'sweep', sweepId: row.sweepId };
      const children = await tx.experiment.findMany({ where: { parentExperimentId: id, status: { in: ACTIVE } }, select: { id: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: 10 });
      if (children.length > 0) return { deleted: false, reason: 'children', children: children.map((c) => c.id) };
      const searches = await tx.$queryRaw<{ id: string }[]>`
        SELECT "id" FROM "Sweep"
        WHERE "search" IS NOT NULL AND "finishedAt" IS NULL AND "cancelledAt" IS NULL AND "base"->'weights'->>'experiment' = ${id}
        ORDER BY "createdAt" LIMIT 10`;
      if (searches.length > 0) return { deleted: false, reason: 'searches', sweeps: searches.map((s) => s.id) };
      await tx.experiment.delete({ where: { id } });
      return { deleted: true };
    });
  }

  /** Ids of a sweep's failed/cancelled runs, in creation order. */
  async listRetryable(sweepId: string): Promise<string[]> {
    const rows = await this.prisma.experiment.findMany({ where: { sweepId, status: { in: RETRYABLE } }, select: { id: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    return rows.map((r) => r.id);
  }

  /**
   * Finished runs whose files outlived the retention period (finished before `before`) and are not
   * removed yet, oldest first.
   */
  async listArtifactsExpired(before: Date, limit: number): Promise<string[]> {
    const rows = await this.prisma.experiment.findMany({
      // A parent of queued/running chained runs keeps its model until they have started from it.
      where: { status: { notIn: ACTIVE }, finishedAt: { lt: before }, artifactsPurgedAt: null, children: { none: { status: { in: ACTIVE } } } },
      select: { id: true },
      orderBy: [{ finishedAt: 'asc' }, { id: 'asc' }],
      take: limit,
    });
    return rows.map((r) => r.id);
  }

  /**
   * Marks the runs' files as removed and returns the ids it marked: only runs still finished and
   * not marked yet, so a run retried meanwhile keeps its files and two API replicas purging at once
   * each remove a disjoint set. Mark first, then remove: a retry is refused once marked.
   */
  async markArtifactsPurged(ids: string[], at = new Date()): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      UPDATE "Experiment" SET "artifactsPurgedAt" = ${at}
      WHERE "id" = ANY(${ids}) AND "status" NOT IN ('queued', 'running') AND "artifactsPurgedAt" IS NULL
      RETURNING "id"`;
    return rows.map((r) => r.id);
  }

  /**
   * failed/cancelled -> queued (stored epochs are kept: the worker upserts epochs, so a re-run
   * replaces them one by one). Runs whose files the retention policy removed are left alone: their
   * checkpoint is gone, so a re-run would retrain from scratch under epochs already stored.
   * Returns the records that were reset.
   */
  async requeue(ids: string[]): Promise<ExperimentRecord[]> {
    if (ids.length === 0) return [];
    return this.prisma.$transaction(async (tx) => {
      const rows = await tx.experiment.findMany({ where: { id: { in: ids }, status: { in: RETRYABLE }, artifactsPurgedAt: null }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
      const reset = { status: 'queued' as const, error: null, startedAt: null, finishedAt: null, workerId: null };
      await tx.experiment.updateMany({ where: { id: { in: rows.map((r) => r.id) }, status: { in: RETRYABLE }, artifactsPurgedAt: null }, data: reset });
      return rows.map((r) => toExperimentRecord({ ...r, ...reset }));
    });
  }
}
