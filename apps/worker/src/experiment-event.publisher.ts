// Writes an experiment's live events to its Redis Stream (field "data" = JSON), capped with
// MAXLEN ~ so a long run cannot grow Redis without bound. Live events are a view, not the record
// (Postgres is): a failed XADD is logged and dropped, it never fails a run.
import { EVENT_STREAM_MAXLEN, eventStreamKey, type ExperimentEvent, type RedisConnection } from '@fleet/queue';

export class ExperimentEventPublisher {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  async publish(event: ExperimentEvent): Promise<void> {
    try {
      await this.redis.xadd(eventStreamKey(this.prefix, event.experimentId), 'MAXLEN', '~', String(EVENT_STREAM_MAXLEN), '*', 'data', JSON.stringify(event));
    } catch (err) {
      this.log(`could not publish ${event.type} event of ${event.experimentId}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
