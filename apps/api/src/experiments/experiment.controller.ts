import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/error.response.js';
import { UuidParam } from '../common/uuid.pipe.js';
import { CreateExperimentDto } from './dto/experiment-input.dto.js';
import { ExperimentDetailDto, ExperimentDto, ExperimentListDto } from './dto/experiment.response.js';
import { ListExperimentsQuery } from './dto/list-experiments.query.js';
import { toExperimentDetailDto, toExperimentDto } from './experiment.presenter.js';
import { ExperimentService } from './experiment.service.js';

@ApiTags('experiments')
@ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Names the field and the reason' })
@Controller('api/experiments')
export class ExperimentController {
  constructor(private readonly experiments: ExperimentService) {}

  @Post()
  @ApiOperation({ summary: 'Submit one experiment (stored, then enqueued)' })
  @ApiCreatedResponse({ type: ExperimentDto })
  @ApiServiceUnavailableResponse({ type: ErrorResponseDto, description: 'Queue unreachable: the experiment is stored as failed' })
  async create(@Body() body: CreateExperimentDto): Promise<ExperimentDto> {
    return toExperimentDto(await this.experiments.create(body));
  }

  @Get()
  @ApiOperation({ summary: 'List experiments (filters, sort, cursor pagination)' })
  @ApiOkResponse({ type: ExperimentListDto })
  async list(@Query() query: ListExperimentsQuery): Promise<ExperimentListDto> {
    const page = await this.experiments.list(query);
    return { items: page.items.map(toExperimentDto), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One experiment with its per-epoch metrics' })
  @ApiOkResponse({ type: ExperimentDetailDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async get(@Param('id', UuidParam) id: string): Promise<ExperimentDetailDto> {
    return toExperimentDetailDto(await this.experiments.get(id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a finished single run: its row, metrics and files under ARTIFACTS_DIR' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'Queued or running, a run of a sweep, or the parent of queued/running chained runs (the reason says which)' })
  async delete(@Param('id', UuidParam) id: string): Promise<void> {
    await this.experiments.delete(id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a queued or running experiment (metrics so far are kept)' })
  @ApiOkResponse({ type: ExperimentDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'Already finished' })
  async cancel(@Param('id', UuidParam) id: string): Promise<ExperimentDto> {
    return toExperimentDto(await this.experiments.cancel(id));
  }
}
