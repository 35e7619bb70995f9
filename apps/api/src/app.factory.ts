// createApp(config): the whole API, configured but not listening, so tests build it in-process
// (supertest) exactly as main.ts runs it.
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { LogLevel } from '@nestjs/common';
import { DEFAULT_API_OPTIONS, type ApiOptions, type FleetConfig } from './api-options.js';
import { AppModule } from './app.module.js';
import { checkJsonBody } from './common/json-depth.js';
import { ApiMetrics } from './metrics/api-metrics.service.js';
import { httpMetrics } from './metrics/http-metrics.middleware.js';

export interface CreateAppOptions extends Partial<ApiOptions> {
  /** Nest log levels. Default: error, warn, log */
  logger?: LogLevel[] | false;
}

export async function createApp(config: FleetConfig, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const { logger = ['error', 'warn', 'log'], ...overrides } = options;
  const apiOptions: ApiOptions = { ...DEFAULT_API_OPTIONS, ...overrides };
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, apiOptions), { bodyParser: false, logger });
  const metrics = app.get(ApiMetrics);
  // First, so every request is timed, including those the body parser or a guard refuses.
  app.use(httpMetrics((o) => metrics.observeHttp(o)));
  app.useBodyParser('json', { limit: apiOptions.bodyLimit });
  app.use(checkJsonBody(apiOptions.maxJsonDepth));
  app.set('trust proxy', false);
  app.enableShutdownHooks();

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Finetune Fleet API')
      .setDescription('Submit ResNet18 transfer-learning experiments and sweeps, follow them live, compare strategies.')
      .setVersion('1')
      .addApiKey({ type: 'apiKey', in: 'header', name: 'x-api-key' }, 'api-key')
      .addSecurityRequirements('api-key')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
  return app;
}
