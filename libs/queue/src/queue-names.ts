// Queue, job, channel and stream names: the one place both the API and the workers read them.
// All Redis keys live under the configured prefix (QUEUE_PREFIX, default "fleet") so tests and
// several deployments can share one Redis.

export const QueueName = Object.freeze({ Train: 'train' } as const);
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const JobName = Object.freeze({ TrainExperiment: 'train-experiment' } as const);
export type JobName = (typeof JobName)[keyof typeof JobName];

/** Pub/sub channel on which the API asks whichever worker runs an experiment to stop it. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}

/** Key set when an experiment is cancelled, so a worker that picks it up later never runs it. */
export function cancelledKey(prefix: string, experimentId: string): string {
  return `${prefix}:cancelled:${experimentId}`;
}

/**
 * Redis Stream of one experiment's live events (status, batch progress, epochs). A stream rather
 * than pub/sub so SSE clients can reconnect and resume from Last-Event-ID (the stream entry id).
 */
export function eventStreamKey(prefix: string, experimentId: string): string {
  return `${prefix}:events:${experimentId}`;
}

/** Upper bound on entries kept per experiment stream (XADD MAXLEN ~). */
export const EVENT_STREAM_MAXLEN = 5000;
