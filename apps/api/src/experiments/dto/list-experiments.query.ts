import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { STRATEGIES } from '@fleet/training/contracts.js';
import { EXPERIMENT_STATUSES } from './experiment.response.js';

export const EXPERIMENT_SORTS = ['createdAt', 'bestValAcc'] as const;

export class ListExperimentsQuery {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() sweepId?: string;
  @ApiPropertyOptional({ enum: EXPERIMENT_STATUSES }) @IsOptional() @IsIn(EXPERIMENT_STATUSES) status?: (typeof EXPERIMENT_STATUSES)[number];
  @ApiPropertyOptional({ enum: STRATEGIES }) @IsOptional() @IsIn(STRATEGIES) strategy?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(255) dataset?: string;
  @ApiPropertyOptional({ enum: EXPERIMENT_SORTS, default: 'createdAt' }) @IsOptional() @IsIn(EXPERIMENT_SORTS) sort?: (typeof EXPERIMENT_SORTS)[number];
  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'desc', description: 'bestValAcc: nulls always last' })
  @IsOptional()
  @IsIn(['asc', 'desc'])
  order?: 'asc' | 'desc';
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
  @ApiPropertyOptional({ description: 'Opaque cursor from a previous page (nextCursor)' }) @IsOptional() @IsString() @MaxLength(1000) cursor?: string;
}
