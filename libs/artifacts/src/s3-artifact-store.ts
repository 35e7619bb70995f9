// The artifact store on an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, R2, ...), through the AWS
// SDK v3. Endpoint, credentials and region come from the usual AWS variables, read by the SDK
// itself (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
// AWS_PROFILE, instance roles...). Every object is written by one PutObject, which S3 makes visible
// whole or not at all; nothing here relies on listing being consistent with a write just made.
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException, type S3ClientConfig } from '@aws-sdk/client-s3';
import { assertKey, assertPrefix, type ArtifactStore, type StoredObject } from './artifact-store.js';

/** Options of {@link S3ArtifactStore}. */
export interface S3ArtifactStoreOptions {
  bucket: string;
  /** key prefix without leading or trailing slash; '' for the bucket's root */
  prefix: string;
  /** path-style URLs (endpoint/bucket/key): MinIO, Ceph and s3rver. Default false (virtual-hosted, AWS) */
  forcePathStyle?: boolean;
  /** Environment to read AWS_REGION and the checksum settings from. Default process.env */
  env?: Record<string, string | undefined>;
  /** Extra client settings (tests). */
  client?: S3ClientConfig;
}

type Env = Record<string, string | undefined>;

/** Deletions run this many at a time (DeleteObject each: see delete()). */
const DELETE_CONCURRENCY = 8;

function isMissing(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404);
}

/** One line about an S3 failure, with the advice the usual causes need. */
export function describeS3Error(err: unknown): string {
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode;
    if (status === 404 || err.name === 'NoSuchBucket') return 'the bucket does not exist (404)';
    if (status === 403 || err.name === 'AccessDenied') return `access denied (403${err.name && err.name !== 'AccessDenied' && err.name !== '403' && err.name !== 'Forbidden' ? ` ${err.name}` : ''}): check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the role's policy`;
    if (status === 301) return 'the bucket is in another region: set AWS_REGION';
    return `${err.name}${status ? ` (HTTP ${status})` : ''}: ${err.message}`;
  }
  // Not instanceof Error: network errors may come from another realm (Jest's VM).
  const e = err as { name?: unknown; message?: unknown; code?: unknown } | null;
  if (e && typeof e.message === 'string') {
    if (e.name === 'CredentialsProviderError') return 'no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or give the machine a role';
    const code = typeof e.code === 'string' ? e.code : undefined;
    return code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message || String(e.name);
  }
  return String(err);
}

export class S3ArtifactStore implements ArtifactStore {
  readonly url: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3ArtifactStoreOptions) {
    const env: Env = options.env ?? process.env;
    this.bucket = options.bucket;
    this.prefix = options.prefix === '' ? '' : `${options.prefix}/`;
    this.url = `s3://${options.bucket}${options.prefix ? `/${options.prefix}` : ''}`;
    // The SDK warns on Node < 22 that releases after January 2027 will need Node 22: a note for
    // whoever upgrades the pinned SDK (README), not for the operator whose boot errors are one line.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      forcePathStyle: options.forcePathStyle ?? false,
      // A region is required to sign; MinIO and Ceph ignore it. A bucket elsewhere is followed.
      region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
      followRegionRedirects: true,
      // The SDK's default (since 3.729) sends streamed bodies aws-chunked with a trailing CRC32,
      // which s3rver and older MinIO/Ceph store as part of the object. Integrity comes from the
      // manifest's sha256 instead, checked on every download; the AWS variables still override.
      ...(env.AWS_REQUEST_CHECKSUM_CALCULATION ? {} : { requestChecksumCalculation: 'WHEN_REQUIRED' as const }),
      ...(env.AWS_RESPONSE_CHECKSUM_VALIDATION ? {} : { responseChecksumValidation: 'WHEN_REQUIRED' as const }),
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
      maxAttempts: 4,
      ...options.client,
    });
  }

  private fullKey(key: string): string {
    assertKey(key);
    return `${this.prefix}${key}`;
  }

  async check({ write }: { write: boolean }): Promise<void> {
    const signal = AbortSignal.timeout(20_000);
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: signal });
      if (write) {
        const probe = `${this.prefix}.probe-${randomBytes(6).toString('hex')}`;
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: probe, Body: new Uint8Array(0) }), { abortSignal: signal });
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: probe }), { abortSignal: signal });
      }
    } catch (err) {
      throw new Error(`artifact store ${this.url} is not usable${write ? ' for writing' : ''}: ${describeS3Error(err)}`);
    }
  }

  async putFile(key: string, file: string): Promise<void> {
    // One buffered PutObject (S3 allows 5 GiB; a ResNet18 checkpoint is ~90 MB): the SDK can retry
    // a buffer, never a half-consumed stream.
    await this.putBytes(key, await readFile(file));
  }

  async putBytes(key: string, bytes: Uint8Array): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key), Body: bytes, ContentLength: bytes.byteLength }));
  }

  async getBytes(key: string): Promise<Buffer | undefined> {
    const opened = await this.openRead(key);
    if (!opened) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async openRead(key: string): Promise<{ stream: Readable; bytes: number } | undefined> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
      if (!res.Body) throw new Error(`GetObject ${key}: no body`);
      return { stream: res.Body as Readable, bytes: res.ContentLength ?? 0 };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    assertPrefix(prefix);
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${this.prefix}${prefix}`, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        const key = o.Key.slice(this.prefix.length);
        if (key.split('/').some((s) => s.startsWith('.'))) continue; // boot probes
        out.push({ key, bytes: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: readonly string[]): Promise<void> {
    // DeleteObject per key rather than DeleteObjects: the batch call needs a Content-MD5 or CRC
    // header whose flavour S3-compatible servers disagree on, and a run has a handful of objects.
    const queue = keys.map((k) => this.fullKey(k));
    const next = async (): Promise<void> => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, queue.length) }, next));
  }

  /** Closes the client's sockets. */
  destroy(): void {
    this.client.destroy();
  }
}
