import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/error.response.js';
import { UuidParam } from '../common/uuid.pipe.js';
import { CompareService } from './compare.service.js';
import { CreateSweepDto } from './dto/sweep-input.dto.js';
import { CompareDto, SweepCancelDto, SweepCreatedDto, SweepDeletedDto, SweepDetailDto, SweepListDto, SweepRetryDto } from './dto/sweep.response.js';
import { toSweepDetailDto, toSweepSummaryDto } from './sweep.presenter.js';
import { SweepService } from './sweep.service.js';

@ApiTags('sweeps')
@ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Names the field and the reason' })
@Controller('api/sweeps')
export class SweepController {
  constructor(
    private readonly sweeps: SweepService,
    private readonly comparisons: CompareService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Submit a sweep: the cartesian product of grid over base (all enqueued), or a searched sweep (method + parameters: trials handed out lazily within a budget, optional ASHA early stopping); all or nothing' })
  @ApiCreatedResponse({ type: SweepCreatedDto })
  async create(@Body() body: CreateSweepDto): Promise<SweepCreatedDto> {
    return this.sweeps.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'Sweeps, newest first, with counts by status' })
  @ApiOkResponse({ type: SweepListDto })
  async list(): Promise<SweepListDto> {
    return { items: (await this.sweeps.list()).map(toSweepSummaryDto) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One sweep: counts by status and one row per run; a searched sweep adds trials, rungs, best-so-far and epochs used' })
  @ApiOkResponse({ type: SweepDetailDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async get(@Param('id', UuidParam) id: string): Promise<SweepDetailDto> {
    return toSweepDetailDto(await this.sweeps.get(id));
  }

  @Get(':id/compare')
  @ApiOperation({ summary: "Ranked comparison of groups (mean/std of best val acc over seeds, Welch's t-test vs the best group, curves)" })
  @ApiQuery({ name: 'groupBy', required: false, description: 'Any experiment config field, or trial (ranks the trials of a searched sweep); default strategy' })
  @ApiOkResponse({ type: CompareDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async compare(@Param('id', UuidParam) id: string, @Query('groupBy') groupBy?: string): Promise<CompareDto> {
    return this.comparisons.compare(id, groupBy ?? 'strategy');
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop the sweep: nothing more is scheduled, its queued and running runs are cancelled' })
  @ApiOkResponse({ type: SweepCancelDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async cancel(@Param('id', UuidParam) id: string): Promise<SweepCancelDto> {
    return this.sweeps.cancel(id);
  }

  @Post(':id/retry')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-enqueue the failed and cancelled runs (finished ones never rerun)' })
  @ApiOkResponse({ type: SweepRetryDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async retry(@Param('id', UuidParam) id: string): Promise<SweepRetryDto> {
    return this.sweeps.retry(id);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Delete a sweep whose runs have all ended: its runs, their metrics, jobs and files under ARTIFACTS_DIR' })
  @ApiOkResponse({ type: SweepDeletedDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'Runs still queued or running: cancel the sweep first' })
  async delete(@Param('id', UuidParam) id: string): Promise<SweepDeletedDto> {
    return this.sweeps.delete(id);
  }
}
