import type { SweepSummary } from '@fleet/persistence';
import type { SweepDetailDto, SweepSummaryDto } from './dto/sweep.response.js';
import type { SweepDetail } from './sweep.service.js';

export function toSweepSummaryDto(s: SweepSummary): SweepSummaryDto {
  return { id: s.id, name: s.name, base: s.base, grid: s.grid, createdAt: s.createdAt.toISOString(), total: s.total, counts: { ...s.counts } };
}

export function toSweepDetailDto(s: SweepDetail): SweepDetailDto {
  return {
    ...toSweepSummaryDto(s),
    runs: s.runs.map((r) => ({
      id: r.id,
      strategy: r.strategy,
      gridValues: r.gridValues ?? {},
      status: r.status,
      epochsDone: r.epochsDone,
      bestValAcc: r.bestValAcc,
      bestEpoch: r.bestEpoch,
      finalValAcc: r.finalValAcc,
      seconds: r.seconds,
      error: r.error,
    })),
    search: s.search,
  };
}
