// Downloads one URL to a file, resumably: bytes go to `<dest>.part`, a later attempt asks the
// server for the rest with an HTTP Range header (and starts over when the server ignores it), and
// the file is renamed into place only when complete and, if a sha256 prefix is given, verified.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { dirname } from 'node:path';

export class DownloadError extends Error {
  constructor(
    message: string,
    /** HTTP status when the server answered with an error. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

export interface DownloadProgress {
  /** Bytes of the file on disk so far (including a resumed part). */
  received: number;
  /** Full size when the server said; undefined otherwise. */
  total: number | undefined;
}

export interface DownloadFileOptions {
  /** Lowercase hex the file's sha256 must start with (torch hub's rule). Default: no check */
  sha256Prefix?: string;
  /** Called as bytes arrive (at most every 64 KiB chunk). */
  onProgress?: (progress: DownloadProgress) => void;
  /** Extra attempts after a connection drops mid-body, each resuming from the part file. Default 3 */
  retries?: number;
  /** Give up when no byte arrives for this long, in ms. Default 30000 */
  idleTimeoutMs?: number;
}

export interface DownloadResult {
  file: string;
  bytes: number;
  /** Bytes that were already in the part file when this call started. */
  resumedFrom: number;
  sha256: string;
}

const MAX_REDIRECTS = 5;

function get(url: string, headers: Record<string, string>, idleTimeoutMs: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const parsed = new URL(url);
    const mod = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : null;
    if (!mod) return reject(new DownloadError(`unsupported URL ${url}`));
    const req = mod.get(parsed, { headers: { 'user-agent': 'finetune-fleet', ...headers } }, resolve);
    req.setTimeout(idleTimeoutMs, () => req.destroy(new DownloadError(`no response from ${url} in ${idleTimeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof DownloadError ? err : new DownloadError(`cannot reach ${url}: ${err.message}`)));
  });
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** One request: appends to the part file; resolves when the body ended, throws on a drop. */
async function attempt(url: string, part: string, options: DownloadFileOptions): Promise<void> {
  let offset = await sizeOf(part);
  let target = url;
  let res: http.IncomingMessage;
  const idle = options.idleTimeoutMs ?? 30_000;
  for (let redirects = 0; ; redirects++) {
    res = await get(target, offset > 0 ? { range: `bytes=${offset}-` } : {}, idle);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      if (redirects >= MAX_REDIRECTS) throw new DownloadError(`too many redirects from ${url}`);
      target = new URL(res.headers.location, target).toString();
      continue;
    }
    break;
  }
  const status = res.statusCode ?? 0;
  if (status === 416 && offset > 0) {
    // The part is as long as (or longer than) the file: start over rather than trust it.
    res.resume();
    await rm(part, { force: true });
    return attempt(url, part, options);
  }
  if (status !== 200 && status !== 206) {
    res.resume();
    throw new DownloadError(`${target} answered HTTP ${status}${status === 404 ? ' (not found)' : ''}`, status);
  }
  let total: number | undefined;
  if (status === 206) {
    const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
    if (!m || Number(m[1]) !== offset) {
      res.resume();
      throw new DownloadError(`${target} sent an unexpected Content-Range "${res.headers['content-range'] ?? ''}"`);
    }
    total = m[2] === '*' ? undefined : Number(m[2]);
  } else {
    // 200: the server ignored Range (or there was none): the body is the whole file.
    offset = 0;
    const len = Number(res.headers['content-length']);
    total = Number.isFinite(len) && res.headers['content-length'] !== undefined ? len : undefined;
  }
  await mkdir(dirname(part), { recursive: true });
  const out = createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' });
  let received = offset;
  options.onProgress?.({ received, total });
  try {
    await new Promise<void>((resolve, reject) => {
      res.setTimeout(idle, () => res.destroy(new Error(`no data for ${idle} ms`)));
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (!out.write(chunk)) {
          res.pause();
          out.once('drain', () => res.resume());
        }
        options.onProgress?.({ received, total });
      });
      res.on('aborted', () => reject(new Error('connection closed by the server')));
      res.on('error', reject);
      res.on('end', () => {
        if (!res.complete) reject(new Error('connection closed before the body ended'));
        else resolve();
      });
    });
  } catch (err) {
    throw new DownloadError(`download of ${target} interrupted after ${received} bytes: ${(err as Error).message}`);
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
  if (total !== undefined && received !== total) {
    throw new DownloadError(`download of ${target} interrupted: ${received} of ${total} bytes`);
  }
}

/** Downloads `url` to `dest` (via `dest.part`), resuming a previous partial download. */
export async function downloadFile(url: string, dest: string, options: DownloadFileOptions = {}): Promise<DownloadResult> {
  const part = `${dest}.part`;
  const resumedFrom = await sizeOf(part);
  const retries = options.retries ?? 3;
  for (let i = 0; ; i++) {
    try {
      await attempt(url, part, options);
      break;
    } catch (err) {
      const status = err instanceof DownloadError ? err.status : undefined;
      // Retry only a dropped transfer; an HTTP error answer will not change by asking again.
      if (status !== undefined || i >= retries || !(err instanceof DownloadError) || !/interrupted|cannot reach|no response/.test(err.message)) throw err;
    }
  }
  const sha256 = await sha256File(part);
  if (options.sha256Prefix && !sha256.startsWith(options.sha256Prefix.toLowerCase())) {
    await rm(part, { force: true });
    throw new DownloadError(`checksum mismatch for ${url}: sha256 ${sha256} does not start with ${options.sha256Prefix}; the file was removed`);
  }
  await rename(part, dest);
  return { file: dest, bytes: await sizeOf(dest), resumedFrom, sha256 };
}

/** torch hub's check_hash rule: the hex after the last '-' of the file name (e.g. resnet18-5c106cde.pth). */
export function hashPrefixFromName(fileName: string): string | undefined {
  return /-([a-f0-9]{6,64})\.[^-]*$/.exec(fileName)?.[1];
}
