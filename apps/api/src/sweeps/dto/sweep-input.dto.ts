// Body of POST /api/sweeps, in two forms: the cartesian `grid` (every cell enqueued at once) and
// the searched form (`method` + `parameters`, scheduled lazily). Only the shape is checked here;
// the searched form's fields are checked by @fleet/contracts' parseSweepSearch (shared with the
// CLI), and every cell is validated against ExperimentConfig by the sweep service before anything
// is stored, so the rules live in one place.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsInt, IsObject, IsOptional, IsString, Max, MaxLength, Min, MinLength, ValidateIf } from 'class-validator';
import { SEARCH_DEFAULTS, SEARCH_METHODS } from '@fleet/contracts';
import { MAX_PRIORITY } from '../../experiments/dto/experiment-input.dto.js';

export class CreateSweepDto {
  @ApiPropertyOptional({ maxLength: 200, example: 'strategies x 5 seeds' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Experiment fields shared by every run (as in POST /api/experiments)', example: { dataset: 'hymenoptera_data', weights: 'resnet18.pth', epochs: 25 } })
  @IsObject()
  base!: Record<string, unknown>;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'array', items: {} },
    description: 'Experiment field -> non-empty list of values; the sweep runs the cartesian product over base',
    example: { strategy: ['finetune', 'freeze'], seed: [0, 1, 2] },
  })
  @ValidateIf((o: CreateSweepDto) => o.method === undefined || o.grid !== undefined)
  @IsObject()
  grid?: Record<string, unknown>;

  @ApiPropertyOptional({ enum: SEARCH_METHODS, description: 'Searched form: how trials are chosen (with parameters instead of grid)' })
  @IsOptional()
  @IsString()
  method?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Searched form: experiment field -> {distribution: uniform|log_uniform|int_uniform|q_uniform, min, max, q?} or {values: [...]}',
    example: { lr: { distribution: 'log_uniform', min: 0.0001, max: 0.1 }, strategy: { values: ['finetune', 'freeze'] } },
  })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;

  @ApiPropertyOptional({ type: [Number], default: SEARCH_DEFAULTS.seeds, description: 'Searched form: each trial runs once per seed' })
  @IsOptional()
  @IsArray()
  seeds?: unknown[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, default: SEARCH_DEFAULTS.metric, description: 'Searched form: {name: valAcc|valLoss|trainAcc|trainLoss, goal: maximize|minimize}' })
  @IsOptional()
  @IsObject()
  metric?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true, description: `Searched form: {type: asha, minEpochs (default ${SEARCH_DEFAULTS.asha.minEpochs}), reductionFactor (default ${SEARCH_DEFAULTS.asha.reductionFactor}), minRunsAtRung (default ${SEARCH_DEFAULTS.asha.minRunsAtRung})}; none by default` })
  @IsOptional()
  @IsObject()
  earlyStop?: Record<string, unknown> | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: `Searched form: {maxTrials (default ${SEARCH_DEFAULTS.maxTrials}, grid: its size), maxConcurrent (default ${SEARCH_DEFAULTS.maxConcurrent})}` })
  @IsOptional()
  @IsObject()
  budget?: Record<string, unknown>;

  @ApiPropertyOptional({ default: SEARCH_DEFAULTS.searchSeed, description: 'Searched form: trials are a function of searchSeed and their index' })
  @IsOptional()
  @IsInt()
  searchSeed?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_PRIORITY, default: 0, description: 'Priority of every run; larger runs sooner' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_PRIORITY)
  priority?: number;
}
