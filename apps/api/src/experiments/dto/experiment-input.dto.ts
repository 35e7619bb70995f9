// Request bodies for experiments. The rules come from ExperimentConfig (libs/queue), the one
// definition the worker validates job payloads against too; here only the hyper-parameters become
// optional (TRAIN_DEFAULTS fill them in) and the HTTP-only fields are added.
import { ApiPropertyOptional, IntersectionType, OmitType, PartialType, PickType } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ExperimentConfig } from '@fleet/queue';

/** Highest user priority; larger runs sooner (see QueueService.toBullPriority). */
export const MAX_PRIORITY = 1000;

/** The experiment fields with every hyper-parameter optional (dataset and strategy stay required). */
export class ExperimentFieldsDto extends IntersectionType(
  PickType(ExperimentConfig, ['dataset', 'strategy', 'weights'] as const),
  PartialType(OmitType(ExperimentConfig, ['dataset', 'strategy', 'weights'] as const)),
) {}

export class CreateExperimentDto extends ExperimentFieldsDto {
  @ApiPropertyOptional({ description: 'Free-form label', maxLength: 200, example: 'finetune baseline' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_PRIORITY, default: 0, description: 'Larger runs sooner' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_PRIORITY)
  priority?: number;
}
