// Response shapes of the sweep routes.
import { ApiProperty } from '@nestjs/swagger';
import type { SweepSearchView } from '@fleet/contracts';
import { EXPERIMENT_STATUSES } from '../../experiments/dto/experiment.response.js';

export class SweepCreatedDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'Number of experiments created' }) count!: number;
  @ApiProperty({ type: [String], description: 'In grid expansion order (last grid field varies fastest)' }) experimentIds!: string[];
}

export class StatusCountsDto {
  @ApiProperty() queued!: number;
  @ApiProperty() running!: number;
  @ApiProperty() succeeded!: number;
  @ApiProperty() failed!: number;
  @ApiProperty() cancelled!: number;
  @ApiProperty({ description: 'Ended early by the sweep early stopping (ASHA)' }) stopped!: number;
}

export class SweepSummaryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) base!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'array', items: {} } }) grid!: Record<string, unknown[]>;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty() total!: number;
  @ApiProperty({ type: StatusCountsDto }) counts!: StatusCountsDto;
}

export class SweepRunDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() strategy!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) gridValues!: Record<string, unknown>;
  @ApiProperty({ enum: EXPERIMENT_STATUSES }) status!: string;
  @ApiProperty() epochsDone!: number;
  @ApiProperty({ type: Number, nullable: true }) bestValAcc!: number | null;
  @ApiProperty({ type: Number, nullable: true }) bestEpoch!: number | null;
  @ApiProperty({ type: Number, nullable: true }) finalValAcc!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Wall time of the run (finishedAt - startedAt, or so far)' }) seconds!: number | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
}

export class SweepDetailDto extends SweepSummaryDto {
  @ApiProperty({ type: [SweepRunDto], description: 'In creation (grid) order' }) runs!: SweepRunDto[];
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'Searched sweeps (SweepSearchView of @fleet/contracts): spec, state, trials by status with their cells, ASHA rungs, best-so-far, gpuEpochs {used, full}; null for a grid sweep',
  })
  search!: SweepSearchView | null;
}

export class SweepCancelDto {
  @ApiProperty({ type: [String], description: 'Runs cancelled (queued or running when the sweep was stopped)' }) experimentIds!: string[];
}

export class SweepListDto {
  @ApiProperty({ type: [SweepSummaryDto], description: 'Newest first' }) items!: SweepSummaryDto[];
}

export class RetrySkipDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() reason!: string;
}

export class SweepRetryDto {
  @ApiProperty({ type: [String], description: 'Failed/cancelled runs put back in the queue' }) experimentIds!: string[];
  @ApiProperty({ type: [RetrySkipDto], description: 'Runs that could not be re-enqueued yet (e.g. a cancelled run whose worker has not stopped)' })
  skipped!: RetrySkipDto[];
}

export class SweepDeletedDto {
  @ApiProperty({ type: [String], description: 'The runs deleted with the sweep (their files under ARTIFACTS_DIR are removed)' }) experimentIds!: string[];
}

export class CompareRunDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() seed!: number;
  @ApiProperty({ enum: EXPERIMENT_STATUSES }) status!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) gridValues!: Record<string, unknown>;
  @ApiProperty({ type: Number, nullable: true }) bestValAcc!: number | null;
  @ApiProperty({ type: Number, nullable: true }) bestEpoch!: number | null;
  @ApiProperty({ type: Number, nullable: true }) meanEpochSeconds!: number | null;
}

export class CurveDto {
  @ApiProperty({ type: [Number], description: 'Epoch numbers (x axis)' }) epochs!: number[];
  @ApiProperty({ type: [Number] }) valAccMean!: number[];
  @ApiProperty({ type: [Number], description: 'Sample std; 0 where only one run reached the epoch' }) valAccStd!: number[];
  @ApiProperty({ type: [Number] }) trainLossMean!: number[];
  @ApiProperty({ type: [Number] }) trainLossStd!: number[];
  @ApiProperty({ type: [Number], description: 'Runs that reached each epoch' }) n!: number[];
}

export class CompareGroupDto {
  @ApiProperty({ description: 'Rank by mean best val acc, 1 = best' }) rank!: number;
  @ApiProperty({ description: 'The group value (e.g. "finetune"), as JSON scalar', oneOf: [{ type: 'string' }, { type: 'number' }] }) value!: string | number | null;
  @ApiProperty({ description: 'Finished runs with a best val acc (used for the statistics)' }) n!: number;
  @ApiProperty({ type: Number, nullable: true }) meanBestValAcc!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Sample std (n - 1); null when n < 2' }) stdBestValAcc!: number | null;
  @ApiProperty({ type: CompareRunDto, nullable: true }) bestRun!: CompareRunDto | null;
  @ApiProperty({ type: Number, nullable: true }) meanEpochSeconds!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: "Welch's t-test two-sided p vs the best group; null for the best group or n < 2" })
  pValue!: number | null;
  @ApiProperty({ type: [CompareRunDto] }) runs!: CompareRunDto[];
  @ApiProperty({ type: CurveDto }) curves!: CurveDto;
}

export class CompareDto {
  @ApiProperty({ format: 'uuid' }) sweepId!: string;
  @ApiProperty() groupBy!: string;
  @ApiProperty({ type: [CompareGroupDto], description: 'Best group first' }) groups!: CompareGroupDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Warning when differences may be seed noise' }) note!: string | null;
}
