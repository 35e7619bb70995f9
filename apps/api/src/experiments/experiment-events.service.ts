// Live events of an experiment: the API's own writes to its Redis Stream (status changes the API
// makes, e.g. cancel) and the relay of the stream to one SSE client.
import { Inject, Injectable, Logger } from '@nestjs/common';
import { EVENT_STREAM_MAXLEN, duplicateConnection, eventStreamKey, type ExperimentEvent, type ExperimentStatusName, type RedisConnection } from '@fleet/queue';
import { ExperimentRepository, FINAL_STATUSES } from '@fleet/persistence';
import { API_OPTIONS, FLEET_CONFIG, type ApiOptions, type FleetConfig } from '../api-options.js';
import { REDIS } from '../redis/redis.provider.js';
import type { ExperimentSnapshotDto } from './dto/experiment.response.js';
import { toEpochDto } from './experiment.presenter.js';

/** The parts of a Node response an SSE relay writes to. */
export interface SseSink {
  write(chunk: string): boolean;
  end(): void;
  /** Resolves when the client goes away. */
  closed: Promise<void>;
}

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
const FINAL = new Set<string>(FINAL_STATUSES);
/** Entries read per XREAD. */
const BATCH = 200;

export function isStreamId(value: string): boolean {
  return STREAM_ID.test(value);
}

function sseFrame(event: string, data: string, id?: string): string {
  return `${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${data}\n\n`;
}

@Injectable()
export class ExperimentEventsService {
  private readonly logger = new Logger('ExperimentEvents');

  constructor(
    @Inject(FLEET_CONFIG) private readonly config: FleetConfig,
    @Inject(API_OPTIONS) private readonly options: ApiOptions,
    @Inject(REDIS) private readonly redis: RedisConnection,
    private readonly experiments: ExperimentRepository,
  ) {}

  async publishStatus(experimentId: string, status: ExperimentStatusName, error?: string): Promise<void> {
    const event: ExperimentEvent = { type: 'status', experimentId, status, at: new Date().toISOString(), ...(error ? { error } : {}) };
    await this.redis.xadd(eventStreamKey(this.config.queuePrefix, experimentId), 'MAXLEN', '~', EVENT_STREAM_MAXLEN, '*', 'data', JSON.stringify(event));
  }

  /**
   * Writes a `snapshot` (status + epochs so far), then every stream entry after `lastEventId` (or
   * after the snapshot was taken), until the experiment reaches a final status or the client
   * leaves. The position is read BEFORE the snapshot, so an event racing the snapshot is sent
   * twice rather than lost (epoch events are idempotent by epoch number).
   * Returns false when the experiment does not exist (nothing written).
   */
  async relay(experimentId: string, lastEventId: string | undefined, open: () => SseSink): Promise<boolean> {
    const key = eventStreamKey(this.config.queuePrefix, experimentId);
    let cursor: string;
    if (lastEventId !== undefined) cursor = lastEventId;
    else {
      const last = await this.redis.xrevrange(key, '+', '-', 'COUNT', 1);
      cursor = last[0]?.[0] ?? '0-0';
    }
    const experiment = await this.experiments.findWithEpochs(experimentId);
    if (!experiment) return false;
    const sink = open();
    const snapshot: ExperimentSnapshotDto = { type: 'snapshot', experimentId, status: experiment.status, error: experiment.error, epochs: experiment.epochs.map(toEpochDto) };
    sink.write(sseFrame('snapshot', JSON.stringify(snapshot)));

    // Blocking reads need a connection of their own, one per client, closed when it leaves.
    const conn = duplicateConnection(this.redis);
    conn.on('error', (err: Error) => this.logger.warn(`SSE Redis (${experimentId}): ${err.message}`));
    let gone = false;
    void sink.closed.then(() => {
      gone = true;
      conn.disconnect();
    });
    // live: block for new entries; grace: the row is final but its status event may still be on its
    // way (the API writes the row first), so block once more; drain: read what is left, then end.
    let mode: 'live' | 'grace' | 'drain' = FINAL.has(experiment.status) ? 'drain' : 'live';
    try {
      while (!gone) {
        const reply: [string, [string, string[]][]][] | null =
          mode === 'drain'
            ? await conn.xread('COUNT', BATCH, 'STREAMS', key, cursor)
            : await conn.xread('COUNT', BATCH, 'BLOCK', this.options.sseBlockMs, 'STREAMS', key, cursor);
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) {
          if (mode !== 'live') break;
          sink.write(': keep-alive\n\n');
          // A status change nobody wrote to the stream (e.g. a worker that died) still ends the stream.
          const status = (await this.experiments.findById(experimentId))?.status;
          if (status === undefined || FINAL.has(status)) mode = 'grace';
          continue;
        }
        let reachedFinal = false;
        for (const [id, fields] of entries) {
          cursor = id;
          const data = fieldValue(fields, 'data');
          if (data === undefined) continue;
          const type = eventType(data);
          sink.write(sseFrame(type, data, id));
          if (type === 'status' && FINAL.has(statusOf(data))) reachedFinal = true;
        }
        if (reachedFinal) break;
      }
    } catch (err) {
      if (!gone) this.logger.warn(`SSE relay of ${experimentId} stopped: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      conn.disconnect();
      if (!gone) sink.end();
    }
    return true;
  }
}

function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function parse(data: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function eventType(data: string): string {
  const type = parse(data)?.type;
  return typeof type === 'string' && /^[a-z-]{1,32}$/.test(type) ? type : 'message';
}

function statusOf(data: string): string {
  const status = parse(data)?.status;
  return typeof status === 'string' ? status : '';
}
