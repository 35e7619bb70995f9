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
}

export async function retryUntilDone<T>(write: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  let delay = options.initialDelayMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (options.signal?.aborted) throw err;
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
