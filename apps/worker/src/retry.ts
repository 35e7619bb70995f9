// Retries a write until it lands: used for the per-epoch Postgres write, where giving up would
// lose an epoch and crashing would only start a crash loop while the database is away.

export interface RetryOptions {
  /** First delay. Default 200 ms. */
  initialDelayMs?: number;
  /** Upper bound of the doubling delay. Default 5000 ms. */
  maxDelayMs?: number;
  /** Stop retrying (and rethrow the last error) once this is aborted. Default: never. */
  signal?: AbortSignal;
  /** Called before each wait with the attempt number (1-based) and the error. */
  onRetry?: (attempt: number, err: unknown) => void;
  /** Errors for which this returns false are rethrown at once. Default: retry every error. */
  shouldRetry?: (err: unknown) => boolean;
}

/**
 * Whether a Prisma/Postgres error may pass by itself (connection lost, timeout, serialization
 * conflict) rather than be wrong every time (a foreign key to a deleted experiment, a missing row).
 */
export function isTransientDbError(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  if (typeof code === 'string' && /^P2\d{3}$/.test(code)) return ['P2024', 'P2028', 'P2034'].includes(code);
  return true;
}

export async function retryUntilDone<T>(write: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  let delay = options.initialDelayMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (options.signal?.aborted || options.shouldRetry?.(err) === false) throw err;
      options.onRetry?.(attempt, err);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        options.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
      delay = Math.min(delay * 2, options.maxDelayMs ?? 5000);
    }
  }
}
