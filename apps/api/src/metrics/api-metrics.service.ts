// The API's one metrics registry as a Nest provider (one per app instance, so tests that build
// several apps in one process never share or clash over series).
import { Injectable } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { createApiRegistry, type HttpObservation } from './api-metrics.js';
import { FleetStateReader } from './fleet-state.reader.js';

@Injectable()
export class ApiMetrics {
  readonly registry: Registry;
  private readonly observe: (o: HttpObservation) => void;

  constructor(reader: FleetStateReader) {
    const { registry, observeHttp } = createApiRegistry(() => reader.snapshot());
    this.registry = registry;
    this.observe = observeHttp;
  }

  observeHttp(o: HttpObservation): void {
    this.observe(o);
  }
}
