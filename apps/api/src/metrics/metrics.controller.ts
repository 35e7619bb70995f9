// GET /metrics in Prometheus's text format. Outside /api, so API_KEY does not apply: scrapers carry
// METRICS_TOKEN as a bearer token instead (or, unset, scrape it open on an internal network).
import { Controller, Get, Headers, Inject, Res, UnauthorizedException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { metricsTokenAccepted } from '@fleet/config';
import { FLEET_CONFIG, type FleetConfig } from '../api-options.js';
import { ApiMetrics } from './api-metrics.service.js';

interface TextResponse {
  setHeader(name: string, value: string): unknown;
}

@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: ApiMetrics,
    @Inject(FLEET_CONFIG) private readonly config: FleetConfig,
  ) {}

  @Get()
  async scrape(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) res: TextResponse): Promise<string> {
    if (!metricsTokenAccepted(this.config.metricsToken, authorization)) throw new UnauthorizedException('metrics need Authorization: Bearer <METRICS_TOKEN>');
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
