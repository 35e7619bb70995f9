// Body of POST /api/sweeps. Only the shape is checked here; every cell (base + grid values, defaults
// applied) is validated as a whole against ExperimentConfig by the sweep service before anything is
// stored, so the rules live in one place.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsObject, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
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
  @IsObject()
  grid!: Record<string, unknown>;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_PRIORITY, default: 0, description: 'Priority of every run; larger runs sooner' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_PRIORITY)
  priority?: number;
}
