// Which engine errors are worth retrying. A bad weights file, a missing or malformed dataset or an
// invalid configuration fail the same way on every attempt and on every worker, so they fail the
// job at once; anything else (out of memory, a crashed child, a full disk) may pass next time.
import type { RunFailure } from './training-ipc.js';

/** Error names the engine uses for problems of the input rather than of the machine. */
const UNRECOVERABLE_NAMES = new Set([
  'WeightsError',
  'PickleError',
  'StateDictMismatchError',
  'TrainConfigError',
  'DatasetError',
  'DatasetNotFoundError',
  'EmptyDatasetError',
  'ImageDecodeError',
]);

export function classifyFailure(err: unknown): RunFailure {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const missingInput = code === 'ENOENT' && /dataset|weights|\.pth/i.test(err.message);
    return {
      name: err.name,
      message: err.message,
      kind: UNRECOVERABLE_NAMES.has(err.name) || missingInput ? 'unrecoverable' : 'retryable',
    };
  }
  return { name: 'Error', message: String(err), kind: 'retryable' };
}
