import { Controller, Get, Param, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { createReadStream } from 'node:fs';
import { ErrorResponseDto } from '../common/error.response.js';
import { UuidParam } from '../common/uuid.pipe.js';
import type { ValPredictions } from '@fleet/training/model-files/val-predictions.js';
import { ModelFileService } from './model-file.service.js';

/** The few response methods used here (Express's Response has them). */
interface HeaderSink {
  setHeader(name: string, value: string): unknown;
}

/** JSON with every non-ASCII character escaped (\uXXXX): still valid JSON, and legal in a header. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

@ApiTags('experiments')
@Controller('api/experiments')
export class ExperimentModelController {
  constructor(private readonly models: ModelFileService) {}

  @Get(':id/model')
  @ApiOperation({
    summary: "A succeeded run's model as a PyTorch .pth (zip format, torchvision resnet18 state dict with the run's classes in fc)",
    description: 'Header X-Model-Classes: the class names as a JSON array in label order (fc row i is class i); X-Model-Epoch: the epoch whose weights these are.',
  })
  @ApiQuery({ name: 'epoch', enum: ['best', 'final'], required: false, description: 'Default best' })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ description: 'The .pth file' })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'The run has not succeeded' })
  async model(@Param('id', UuidParam) id: string, @Query('epoch') epochParam: unknown, @Res({ passthrough: true }) res: HeaderSink): Promise<StreamableFile> {
    const model = await this.models.find(id, ModelFileService.parseEpoch(epochParam));
    res.setHeader('X-Model-Classes', asciiJson(model.classes));
    res.setHeader('X-Model-Epoch', String(model.epochNumber));
    return new StreamableFile(createReadStream(model.file), { type: 'application/octet-stream', length: model.bytes, disposition: `attachment; filename="${id}-${model.epoch}.pth"` });
  }

  @Get(':id/predictions')
  @ApiOperation({
    summary: "A succeeded run's val-set predictions at its best epoch and the confusion matrix (confusion[true][predicted], over every val image)",
    description: 'predictions: at most 2000 rows, wrong ones first (most confident first), then right ones (least confident first); truncated says whether rows were left out.',
  })
  @ApiOkResponse({ description: '{epoch, classes, total, correct, confusion, predictions: [{file, trueLabel, predictedLabel, confidence}], truncated}' })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'The run has not succeeded' })
  predictions(@Param('id', UuidParam) id: string): Promise<ValPredictions> {
    return this.models.predictions(id);
  }

  @Get(':id/val-image')
  @ApiOperation({ summary: 'One val image listed in the run\'s stored predictions (for the dashboard\'s grid)' })
  @ApiQuery({ name: 'file', required: true, description: 'the file as /predictions lists it, e.g. val/ants/1.jpg' })
  @ApiOkResponse({ description: 'The image bytes' })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async valImage(@Param('id', UuidParam) id: string, @Query('file') file: unknown): Promise<StreamableFile> {
    const image = await this.models.valImage(id, file);
    return new StreamableFile(createReadStream(image.path), { type: image.type });
  }
}
