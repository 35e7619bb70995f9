// The store that run artifacts (checkpoints, model files) live in when several machines share them:
// a flat namespace of keys like "<run id>/blobs/<random>/latest.ckpt", each written whole by one
// call (S3's PutObject is atomic per object; the folder store renames a finished temp file), never
// modified, deleted when no manifest points at it any more (see run-artifacts.ts).
import type { Readable } from 'node:stream';

export interface StoredObject {
  /** key relative to the store's prefix */
  key: string;
  bytes: number;
  lastModified: Date;
}

export interface ArtifactStore {
  /** where it is, for log lines: s3://bucket/prefix or file:///path */
  readonly url: string;
  /**
   * Boot check: the store answers and, with `write`, accepts an object and its deletion. Throws one
   * line saying what is wrong (no bucket, access denied, unreachable endpoint, no credentials).
   */
  check(options: { write: boolean }): Promise<void>;
  /** Stores the file's bytes under `key`: readers see all of them or, until it returns, none. */
  putFile(key: string, file: string): Promise<void>;
  putBytes(key: string, bytes: Uint8Array): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  getBytes(key: string): Promise<Buffer | undefined>;
  /** A stream of the object's bytes, or undefined when there is none. */
  openRead(key: string): Promise<{ stream: Readable; bytes: number } | undefined>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<StoredObject[]>;
  /** Deletes the objects (absent ones are no error). */
  delete(keys: readonly string[]): Promise<void>;
}

/** Thrown for a key that could escape its run's folder or that S3 and filesystems disagree on. */
export class InvalidKeyError extends Error {
  override name = 'InvalidKeyError';
}

/**
 * Keys are "/"-separated segments of printable characters; none empty, "." or "..", none starting
 * with "." (the folder store keeps its temp files there): the same key means the same object on
 * S3 and on a filesystem.
 */
export function assertKey(key: string): void {
  // eslint-disable-next-line no-control-regex
  if (key === '' || /[\u0000-\u001f\u007f\\]/.test(key) || key.split('/').some((s) => s === '' || s.startsWith('.'))) {
    throw new InvalidKeyError(`invalid artifact key "${key}"`);
  }
}

/** A prefix for list(): '' or a key prefix ending at a segment boundary ("run/"). */
export function assertPrefix(prefix: string): void {
  if (prefix === '') return;
  if (!prefix.endsWith('/')) throw new InvalidKeyError(`invalid artifact prefix "${prefix}" (must end with /)`);
  assertKey(prefix.slice(0, -1));
}
