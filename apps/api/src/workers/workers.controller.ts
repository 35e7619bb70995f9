import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { WorkerRepository } from '@fleet/persistence';
import { API_OPTIONS, type ApiOptions } from '../api-options.js';
import { WorkerListDto } from './worker.response.js';

@ApiTags('workers')
@Controller('api/workers')
export class WorkersController {
  constructor(
    private readonly workers: WorkerRepository,
    @Inject(API_OPTIONS) private readonly options: ApiOptions,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Live workers (heartbeat within the last 30 s)' })
  @ApiOkResponse({ type: WorkerListDto })
  async list(): Promise<WorkerListDto> {
    const rows = await this.workers.listActive(this.options.workerLiveMs);
    return {
      items: rows.map((w) => ({
        id: w.id,
        host: w.host,
        pid: w.pid,
        gpu: w.gpu ?? null,
        backend: w.backend,
        backendInfo: w.backendInfo ?? null,
        currentExperimentId: w.currentExperimentId,
        startedAt: w.startedAt.toISOString(),
        lastSeenAt: w.lastSeenAt.toISOString(),
      })),
    };
  }
}
