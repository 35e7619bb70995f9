// The API's root module, built from FleetConfig (no process.env reads below main.ts).
import { Module, ValidationPipe, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { API_OPTIONS, FLEET_CONFIG, type ApiOptions, type FleetConfig } from './api-options.js';
import { ArtifactRetentionService } from './artifacts/artifact-retention.service.js';
import { RunFilesService } from './artifacts/run-files.service.js';
import { ApiKeyGuard } from './common/api-key.guard.js';
import { validationExceptionFactory } from './common/field-errors.js';
import { HttpExceptionFilter } from './common/http-exception.filter.js';
import { RateLimitGuard } from './common/rate-limit.guard.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { databaseProviders } from './database.providers.js';
import { ExperimentEventsController } from './experiments/experiment-events.controller.js';
import { ExperimentEventsService } from './experiments/experiment-events.service.js';
import { ExperimentController } from './experiments/experiment.controller.js';
import { ExperimentService } from './experiments/experiment.service.js';
import { ExperimentModelController } from './experiments/experiment-model.controller.js';
import { ModelFileService } from './experiments/model-file.service.js';
import { FileRootsService } from './experiments/file-roots.service.js';
import { HealthController } from './health/health.controller.js';
import { QueueService } from './queue/queue.service.js';
import { RedisCloser, redisProvider } from './redis/redis.provider.js';
import { CompareService } from './sweeps/compare.service.js';
import { SweepController } from './sweeps/sweep.controller.js';
import { SweepSchedulerService } from './sweeps/sweep-scheduler.service.js';
import { SweepService } from './sweeps/sweep.service.js';
import { WorkersController } from './workers/workers.controller.js';

/** Strict input: unknown fields are a 400, no implicit type coercion of JSON bodies. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: validationExceptionFactory,
  });
}

@Module({})
export class AppModule {
  static forRoot(config: FleetConfig, options: ApiOptions): DynamicModule {
    return {
      module: AppModule,
      imports: options.dashboard ? [DashboardModule.forRoot({ redisUrl: config.redisUrl, queuePrefix: config.queuePrefix, apiKey: config.apiKey })] : [],
      controllers: [ExperimentController, ExperimentModelController, ExperimentEventsController, SweepController, WorkersController, HealthController],
      providers: [
        { provide: FLEET_CONFIG, useValue: config },
        { provide: API_OPTIONS, useValue: options },
        redisProvider,
        RedisCloser,
        ...databaseProviders,
        QueueService,
        FileRootsService,
        RunFilesService,
        ArtifactRetentionService,
        ExperimentEventsService,
        ExperimentService,
        ModelFileService,
        SweepService,
        SweepSchedulerService,
        CompareService,
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_GUARD, useClass: RateLimitGuard },
      ],
    };
  }
}
