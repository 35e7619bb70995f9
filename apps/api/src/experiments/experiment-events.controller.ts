// GET /api/experiments/:id/events: Server-Sent Events relayed from the experiment's Redis Stream.
import { Controller, Get, Headers, NotFoundException, Param, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FieldValidationException } from '../common/field-errors.js';
import { UuidParam } from '../common/uuid.pipe.js';
import { ExperimentSnapshotDto } from './dto/experiment.response.js';
import { ExperimentEventsService, isStreamId } from './experiment-events.service.js';

@ApiTags('experiments')
@Controller('api/experiments')
export class ExperimentEventsController {
  constructor(private readonly events: ExperimentEventsService) {}

  @Get(':id/events')
  @ApiOperation({
    summary: 'Follow an experiment live (text/event-stream)',
    description:
      'First event `snapshot` (status + epochs so far, see ExperimentSnapshotDto), then `status`, `progress` and `epoch` events (ExperimentEvent in libs/queue) with `id:` = stream entry id. Reconnect with Last-Event-ID to resume. The stream ends after a final status.',
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this stream entry id' })
  @ApiQuery({ name: 'apiKey', required: false, description: 'API key for EventSource clients, which cannot send x-api-key' })
  @ApiOkResponse({ type: ExperimentSnapshotDto, description: 'The first event' })
  async follow(
    @Param('id', UuidParam) id: string,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    if (lastEventId !== undefined && !isStreamId(lastEventId)) throw FieldValidationException.of('Last-Event-ID', 'Last-Event-ID must be a stream entry id like 1700000000000-0');
    const closed = new Promise<void>((resolve) => {
      res.once('close', resolve);
      req.once('aborted', resolve);
    });
    const found = await this.events.relay(id, lastEventId, () => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
      res.flushHeaders();
      return { write: (chunk) => res.write(chunk), end: () => res.end(), closed };
    });
    if (!found) throw new NotFoundException(`experiment ${id} not found`);
  }
}
