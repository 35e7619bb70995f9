// Listens on the cancel channel (Redis pub/sub, its own connection: a subscribed connection can
// run no other command) and stops the experiment if this worker is the one training it. Every
// worker hears every cancel; the ones not running that experiment ignore it. A cancel that
// arrives before the job is picked up is covered by the cancelled key the processor checks.
import { cancelChannel, createRedisConnection, type RedisConnection } from '@fleet/queue';

/** The message is the experiment id; a JSON object with experimentId is accepted too. */
export function parseCancelMessage(message: string): string | undefined {
  const text = message.trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { experimentId?: unknown };
      return typeof parsed.experimentId === 'string' ? parsed.experimentId : undefined;
    } catch {
      return undefined;
    }
  }
  return text === '' ? undefined : text;
}

export class CancelListener {
  private subscriber: RedisConnection | undefined;

  constructor(
    private readonly redisUrl: string,
    private readonly prefix: string,
    private readonly onCancel: (experimentId: string) => void,
  ) {}

  async start(): Promise<void> {
    const subscriber = createRedisConnection(this.redisUrl, { maxRetriesPerRequest: null });
    this.subscriber = subscriber;
    // ioredis reconnects and re-subscribes by itself (a Redis restart); without a listener it
    // would print every failed reconnect as an "Unhandled error event".
    subscriber.on('error', () => undefined);
    const channel = cancelChannel(this.prefix);
    subscriber.on('message', (received: string, message: string) => {
      if (received !== channel) return;
      const id = parseCancelMessage(message);
      if (id) this.onCancel(id);
    });
    await subscriber.subscribe(channel);
  }

  async stop(): Promise<void> {
    await this.subscriber?.quit().catch(() => undefined);
    this.subscriber = undefined;
  }
}
