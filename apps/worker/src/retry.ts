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
 * Whether a Prisma/Postgres error may pass by itself (connection lost, server starting up or
 * shutting down, timeout, serialization conflict, too many connections) rather than be wrong every
 * time (a foreign key to a deleted experiment, a missing row).
 */
export function isTransientDbError(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  if (typeof code !== 'string' || !/^P2\d{3}$/.test(code)) return true;
  if (TRANSIENT_PRISMA_CODES.has(code)) return true;
  // Raw statements (the worker's hot path) report a lost server as P2010 with the adapter's error
  // kind and no SQLSTATE, where model queries say P1001/P1017.
  if (TRANSIENT_ADAPTER_KINDS.has(adapterErrorKindOf(err) ?? '')) return true;
  // Postgres errors Prisma has no code of its own for arrive as P2039 (model queries) or P2010 (raw
  // queries) with the server's SQLSTATE: while a restarted server starts up every statement fails
  // with 57P03 "the database system is starting up", which must be waited out, not failed on.
  const sqlState = sqlStateOf(err);
  return sqlState !== undefined && isTransientSqlState(sqlState);
}

/** Pool timeout, transaction API timeout, write conflict/deadlock, too many connections. */
const TRANSIENT_PRISMA_CODES = new Set(['P2024', 'P2028', 'P2034', 'P2037']);

/** Driver adapter error kinds of a server that is away or busy. */
const TRANSIENT_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TransactionWriteConflict']);

/** The pg adapter's description of the error behind a Prisma error, if any. */
function adapterCause(err: unknown): { kind?: unknown; originalCode?: unknown; code?: unknown } | undefined {
  return (err as { meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown; code?: unknown } } } } | null)?.meta?.driverAdapterError?.cause;
}

function adapterErrorKindOf(err: unknown): string | undefined {
  const kind = adapterCause(err)?.kind;
  return typeof kind === 'string' ? kind : undefined;
}

/**
 * SQLSTATEs of a server that is away or busy: class 08 (connection exception), 40001/40P01
 * (serialization failure, deadlock), 53 (insufficient resources), 55P03 (lock not available),
 * 57P01-57P03 (admin/crash shutdown, cannot connect now), 58 (system error).
 */
function isTransientSqlState(sqlState: string): boolean {
  return /^(08|53|58)/.test(sqlState) || ['40001', '40P01', '55P03', '57P01', '57P02', '57P03'].includes(sqlState);
}

/** The SQLSTATE behind a Prisma driver-adapter error: from its metadata, else from its message. */
export function sqlStateOf(err: unknown): string | undefined {
  const cause = adapterCause(err);
  for (const candidate of [cause?.originalCode, cause?.code]) {
    if (typeof candidate === 'string' && /^[0-9A-Z]{5}$/.test(candidate)) return candidate;
  }
  const message = err instanceof Error ? err.message : '';
  return /Code: `([0-9A-Z]{5})`/.exec(message)?.[1];
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
