// Response shapes of the experiment routes (what the dashboard and the CLI code against).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { BACKENDS, MODEL_EPOCHS, STRATEGIES, type ModelEpoch } from '@fleet/training/contracts.js';
import { ExperimentConfig } from '@fleet/queue';

export const EXPERIMENT_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'stopped'] as const;

export class EpochMetricDto {
  @ApiProperty({ description: 'Numbered from 1' }) epoch!: number;
  @ApiProperty() trainLoss!: number;
  @ApiProperty() trainAcc!: number;
  @ApiProperty() valLoss!: number;
  @ApiProperty() valAcc!: number;
  @ApiProperty({ type: [Number], description: 'lr of each param group (backbone first when two)' }) lrs!: number[];
  @ApiProperty() seconds!: number;
  @ApiProperty() imagesPerSec!: number;
  @ApiProperty() trainableParams!: number;
  @ApiProperty() backboneDrift!: number;
  @ApiProperty() bnStatsDrift!: number;
}

export class ParentRunDto {
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The run whose model this one started from; null once that run was deleted' })
  experimentId!: string | null;
  @ApiProperty({ enum: MODEL_EPOCHS, description: 'Which of its models' }) epoch!: ModelEpoch;
}

export class ExperimentDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) sweepId!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'The sweep cell (field -> value) of a sweep run' })
  gridValues!: Record<string, unknown> | null;
  @ApiProperty({ type: ExperimentConfig, description: 'Complete configuration, defaults applied' }) config!: ExperimentConfig;
  @ApiProperty({ type: ParentRunDto, nullable: true, description: 'A chained run: the run (and model) it started from; null for runs started from a file or from scratch' })
  parent!: ParentRunDto | null;
  @ApiProperty({ enum: STRATEGIES }) strategy!: string;
  @ApiProperty() dataset!: string;
  @ApiProperty() priority!: number;
  @ApiProperty({ enum: EXPERIMENT_STATUSES }) status!: (typeof EXPERIMENT_STATUSES)[number];
  @ApiProperty({ description: 'Times a worker started it' }) attempts!: number;
  @ApiProperty({ type: String, nullable: true }) workerId!: string | null;
  @ApiProperty({ type: String, nullable: true, enum: BACKENDS }) backend!: string | null;
  @ApiProperty({ type: String, nullable: true }) backendInfo!: string | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiProperty() epochsDone!: number;
  @ApiProperty({ type: Number, nullable: true }) bestValAcc!: number | null;
  @ApiProperty({ type: Number, nullable: true }) bestEpoch!: number | null;
  @ApiProperty({ type: Number, nullable: true }) finalValAcc!: number | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the retention policy (ARTIFACTS_RETENTION_DAYS) removed the run files; null while kept' })
  artifactsPurgedAt!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'finishedAt - startedAt (or now - startedAt while running)' })
  seconds!: number | null;
}

export class ExperimentDetailDto extends ExperimentDto {
  @ApiProperty({ type: [EpochMetricDto], description: 'Per-epoch metrics, epoch ascending' }) epochs!: EpochMetricDto[];
}

export class ExperimentListDto {
  @ApiProperty({ type: [ExperimentDto] }) items!: ExperimentDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as ?cursor= for the next page; null on the last page' })
  nextCursor!: string | null;
}

/** The `snapshot` SSE event sent first on /api/experiments/:id/events. */
export class ExperimentSnapshotDto {
  @ApiProperty() type!: 'snapshot';
  @ApiProperty({ format: 'uuid' }) experimentId!: string;
  @ApiProperty({ enum: EXPERIMENT_STATUSES }) status!: string;
  @ApiPropertyOptional({ type: String, nullable: true }) error!: string | null;
  @ApiProperty({ type: [EpochMetricDto] }) epochs!: EpochMetricDto[];
}
