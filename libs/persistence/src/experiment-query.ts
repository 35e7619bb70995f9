// Filters, sort and cursor of experiment listings. The cursor is opaque to clients (base64url JSON
// of the last row's sort value and id) and keyset-based, so pages stay stable while runs are added.
import type { ExperimentStatus } from './generated/prisma/enums.js';

export type ExperimentSortField = 'createdAt' | 'bestValAcc';

export interface ExperimentQuery {
  sweepId?: string | undefined;
  status?: ExperimentStatus | undefined;
  strategy?: string | undefined;
  dataset?: string | undefined;
  /** Default 'createdAt' */
  sort?: ExperimentSortField | undefined;
  /** Default 'desc'. Rows without a bestValAcc always come last. */
  order?: 'asc' | 'desc' | undefined;
  /** Page size. Default 50 */
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** Position after which the next page starts: the last row's sort value (ISO date or number or null) and id. */
export interface ExperimentCursor {
  sort: ExperimentSortField;
  order: 'asc' | 'desc';
  value: string | number | null;
  id: string;
}

export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
  constructor(reason: string) {
    super(`cursor is invalid: ${reason}`);
  }
}

export function encodeCursor(cursor: ExperimentCursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.order, cursor.value, cursor.id])).toString('base64url');
}

/** Decodes a cursor and checks it belongs to the same sort (a cursor of another sort would skip rows). */
export function decodeCursor(raw: string, sort: ExperimentSortField, order: 'asc' | 'desc'): ExperimentCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('not a cursor returned by this API');
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) throw new InvalidCursorError('not a cursor returned by this API');
  const [s, o, value, id] = parsed as unknown[];
  if (s !== sort || o !== order) throw new InvalidCursorError(`it was made for sort=${String(s)}&order=${String(o)}`);
  if (typeof id !== 'string') throw new InvalidCursorError('not a cursor returned by this API');
  if (sort === 'createdAt' && (typeof value !== 'string' || Number.isNaN(Date.parse(value)))) throw new InvalidCursorError('bad position');
  if (sort === 'bestValAcc' && value !== null && (typeof value !== 'number' || !Number.isFinite(value))) throw new InvalidCursorError('bad position');
  return { sort, order, value: value as string | number | null, id };
}
