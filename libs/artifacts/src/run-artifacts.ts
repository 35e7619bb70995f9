// Moves one run's artifact folder (ARTIFACTS_DIR/<run id>/: latest.ckpt, model-*.pth, classes.json,
// predictions.json) to and from an ArtifactStore so that a run killed on one machine resumes on
// another. The training engine keeps writing plain local files; the worker publishes the folder at
// each epoch boundary, while the engine waits for the epoch to be acknowledged (so the files do
// not change underneath), and restores it before a run starts.
//
// Atomic publish: a file is uploaded under a key of its own that is never reused
// ("<run>/blobs/<random>/<name>"), then one small object, "<run>/manifest.json", is written last and
// names the blob of every file with its size and sha256. Readers only follow the manifest, so they
// see the whole set of epoch k or the whole set of epoch k-1, never a checkpoint half-written or
// the model files of one epoch beside the checkpoint of another; every download is checked against
// the manifest's sha256 before it replaces a local file (temp file + fsync + rename). Blobs the
// new manifest no longer names are deleted after it is written. One writer per run at a time: the
// BullMQ job lock says which worker that is.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { replaceFileAtomically } from '@fleet/training/checkpoint/atomic-write.js';
import { InvalidKeyError, type ArtifactStore } from './artifact-store.js';

export const MANIFEST_FILE = 'manifest.json';
/** What the local folder holds from the store; dot-files are never published. */
const STATE_FILE = '.artifact-sync.json';
/** How often a reader tries to read a run's published state (see fetchRunFiles). */
const READ_ATTEMPTS = 5;
/** Unreferenced objects younger than this survive a restore: a stalled writer may still be publishing them. */
export const DEFAULT_ORPHAN_GRACE_MS = 15 * 60_000;

export interface ManifestEntry {
  /** the blob's key in the store */
  key: string;
  bytes: number;
  /** hex sha256 of the bytes */
  sha256: string;
}

export interface RunManifest {
  version: 1;
  runId: string;
  publishedAt: string;
  /** what the writer said about this state (the worker: the epoch) */
  meta: Record<string, string | number>;
  /** by file name in the run's folder */
  files: Record<string, ManifestEntry>;
}

/** A manifest or blob that does not match what it promises: never used, always reported. */
export class ArtifactIntegrityError extends Error {
  override name = 'ArtifactIntegrityError';
}

interface LocalRecord extends ManifestEntry {
  ino: number;
  size: number;
  mtimeMs: number;
}

interface SyncState {
  version: 1;
  store: string;
  files: Record<string, LocalRecord>;
}

function assertRunId(runId: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(runId)) throw new InvalidKeyError(`invalid run id "${runId}"`);
}

function manifestKey(runId: string): string {
  assertRunId(runId);
  return `${runId}/${MANIFEST_FILE}`;
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

function parseManifest(runId: string, raw: Buffer): RunManifest {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ArtifactIntegrityError(`${manifestKey(runId)} is not JSON`);
  }
  const m = value as Partial<RunManifest> | null;
  const fail = (why: string) => new ArtifactIntegrityError(`${manifestKey(runId)}: ${why}`);
  if (typeof m !== 'object' || m === null || m.version !== 1) throw fail('not a version 1 manifest');
  if (m.runId !== runId) throw fail(`belongs to run ${String(m.runId)}`);
  if (typeof m.files !== 'object' || m.files === null) throw fail('has no files');
  for (const [name, e] of Object.entries(m.files)) {
    if (name.includes('/') || name.startsWith('.')) throw fail(`bad file name "${name}"`);
    if (typeof e?.key !== 'string' || !e.key.startsWith(`${runId}/blobs/`) || !Number.isSafeInteger(e.bytes) || !/^[0-9a-f]{64}$/.test(String(e.sha256))) throw fail(`bad entry for ${name}`);
  }
  return { version: 1, runId, publishedAt: String(m.publishedAt), meta: m.meta ?? {}, files: m.files };
}

/** The run's published manifest, or undefined when it has none. Throws ArtifactIntegrityError on a bad one. */
export async function readRunManifest(store: ArtifactStore, runId: string): Promise<RunManifest | undefined> {
  const raw = await store.getBytes(manifestKey(runId));
  return raw === undefined ? undefined : parseManifest(runId, raw);
}

async function readState(dir: string, store: ArtifactStore): Promise<SyncState> {
  try {
    const state = JSON.parse(await readFile(path.join(dir, STATE_FILE), 'utf8')) as SyncState;
    if (state.version === 1 && state.store === store.url && typeof state.files === 'object') return state;
  } catch {
    // absent or unreadable: nothing is known to be in sync
  }
  return { version: 1, store: store.url, files: {} };
}

async function writeState(dir: string, state: SyncState): Promise<void> {
  const temp = path.join(dir, `.${STATE_FILE}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temp, JSON.stringify(state));
  await rename(temp, path.join(dir, STATE_FILE));
}

/** Regular files of the run's folder that are published (dot-files are temp files and state). */
async function localFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function sameStat(rec: LocalRecord | undefined, st: { ino: number; size: number; mtimeMs: number }): boolean {
  return rec !== undefined && rec.ino === st.ino && rec.size === st.size && rec.mtimeMs === st.mtimeMs;
}

function record(entry: ManifestEntry, st: { ino: number; size: number; mtimeMs: number }): LocalRecord {
  return { key: entry.key, bytes: entry.bytes, sha256: entry.sha256, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
}

export interface PublishResult {
  manifest: RunManifest;
  /** file names whose bytes were uploaded (the others kept their blobs) */
  uploaded: string[];
}

/**
 * Publishes the run's folder as its new state in the store: uploads the files that changed since
 * the last publish, then the manifest, then deletes the blobs nothing names any more. Returns
 * undefined when the store already holds exactly this state (nothing written).
 */
export async function publishRunDir(store: ArtifactStore, runId: string, dir: string, meta: Record<string, string | number> = {}): Promise<PublishResult | undefined> {
  const key = manifestKey(runId);
  // A corrupt manifest is replaced (and its blobs left to the next restore's clean-up); an
  // unreachable store fails the publish.
  const previous = await readRunManifest(store, runId).catch((err: unknown) => (err instanceof ArtifactIntegrityError ? undefined : Promise.reject(err)));
  const [state, names] = await Promise.all([readState(dir, store), localFiles(dir)]);
  const files: Record<string, ManifestEntry> = {};
  const records: Record<string, LocalRecord> = {};
  const byInode = new Map<number, ManifestEntry>();
  const uploaded: string[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const st = await stat(file);
    const rec = state.files[name];
    let entry: ManifestEntry | undefined;
    // Unchanged since the last publish, and the store still names that blob: keep it.
    if (sameStat(rec, st) && previous?.files[name]?.key === rec?.key) entry = previous?.files[name];
    // A hard link of a file handled already (model-final.pth = model-best.pth): one blob for both.
    entry ??= byInode.get(st.ino);
    if (!entry) {
      const sha256 = await sha256File(file);
      // Rewritten with the same bytes (the engine rewrites classes.json with each best model): keep the blob.
      const same = previous?.files[name];
      if (same && same.sha256 === sha256 && same.bytes === st.size) entry = same;
      else {
        entry = { key: `${runId}/blobs/${randomBytes(8).toString('hex')}/${name}`, bytes: st.size, sha256 };
        await store.putFile(entry.key, file);
        uploaded.push(name);
      }
    }
    // The file must not have changed while it was read (the engine waits, but say so if it did not).
    const after = await stat(file);
    if (!sameStat(record(entry, st), after)) throw new ArtifactIntegrityError(`${file} changed while it was being published`);
    byInode.set(st.ino, entry);
    files[name] = entry;
    records[name] = record(entry, st);
  }
  const unchanged = previous !== undefined && uploaded.length === 0 && Object.keys(previous.files).length === names.length && names.every((n) => previous.files[n]?.key === files[n]?.key);
  if (unchanged || (previous === undefined && names.length === 0)) {
    await writeState(dir, { version: 1, store: store.url, files: records }).catch(() => undefined);
    return undefined;
  }
  const manifest: RunManifest = { version: 1, runId, publishedAt: new Date().toISOString(), meta, files };
  await store.putBytes(key, Buffer.from(JSON.stringify(manifest, null, 1), 'utf8'));
  await writeState(dir, { version: 1, store: store.url, files: records });
  if (previous) {
    const live = new Set(Object.values(files).map((e) => e.key));
    await store.delete([...new Set(Object.values(previous.files).map((e) => e.key))].filter((k) => !live.has(k)));
  }
  return { manifest, uploaded };
}

/** Streams a blob into `target` through a temp file, checking its size and sha256 first. */
async function download(store: ArtifactStore, entry: ManifestEntry, target: string): Promise<void> {
  const opened = await store.openRead(entry.key);
  if (!opened) throw new ArtifactIntegrityError(`${entry.key} is named by the manifest but not in the store`);
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  await replaceFileAtomically(target, async (temp) => {
    await pipeline(opened.stream, tap, createWriteStream(temp));
    const sha256 = hash.digest('hex');
    if (bytes !== entry.bytes || sha256 !== entry.sha256) throw new ArtifactIntegrityError(`${entry.key}: got ${bytes} bytes with sha256 ${sha256.slice(0, 12)}..., the manifest says ${entry.bytes} bytes, ${entry.sha256.slice(0, 12)}...`);
  });
}

/**
 * Makes the local copies of `names` (all of the manifest's files when undefined) match the
 * manifest, downloading only what differs: a file recorded as this blob, or with the same size
 * and sha256, stays. Returns the file names downloaded.
 */
async function materialize(store: ArtifactStore, manifest: RunManifest, dir: string, names: readonly string[] | undefined): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const state = await readState(dir, store);
  const downloaded: string[] = [];
  const byKey = new Map<string, string>();
  for (const name of names ?? Object.keys(manifest.files).sort()) {
    const entry = manifest.files[name];
    if (!entry) continue;
    const target = path.join(dir, name);
    const st = await stat(target).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    const rec = state.files[name];
    let current = st !== undefined && sameStat(rec, st) && rec?.key === entry.key;
    // The local cache: same bytes already here (e.g. this machine ran the epoch itself).
    if (!current && st !== undefined && st.size === entry.bytes && (await sha256File(target)) === entry.sha256) current = true;
    if (!current) {
      const twin = byKey.get(entry.key);
      if (twin) {
        const temp = path.join(dir, `.${name}.${randomBytes(6).toString('hex')}.link`);
        await link(twin, temp);
        await rename(temp, target);
      } else {
        await download(store, entry, target);
      }
      downloaded.push(name);
    }
    byKey.set(entry.key, target);
    state.files[name] = record(entry, await stat(target));
  }
  await writeState(dir, state);
  return downloaded;
}

export interface RestoreOptions {
  /** Unreferenced objects older than this are deleted. Default {@link DEFAULT_ORPHAN_GRACE_MS} */
  orphanGraceMs?: number;
}

export interface RestoreResult {
  manifest: RunManifest;
  downloaded: string[];
  /** local files the manifest does not name, deleted */
  removed: string[];
}

/**
 * Makes the run's local folder the state the store last published, before the run starts or
 * resumes here (the writer's side: the caller holds the run). Files the manifest does not name are
 * removed (a stale checkpoint of an earlier attempt on this machine); objects of a publish that
 * never finished are deleted. Without a manifest the folder is left as it is.
 */
export async function restoreRunDir(store: ArtifactStore, runId: string, dir: string, options: RestoreOptions = {}): Promise<RestoreResult | undefined> {
  const manifest = await readRunManifest(store, runId);
  await collectOrphans(store, runId, manifest, options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS);
  if (!manifest) return undefined;
  const downloaded = await materialize(store, manifest, dir, undefined);
  const removed: string[] = [];
  for (const name of await localFiles(dir)) {
    if (manifest.files[name]) continue;
    await rm(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return { manifest, downloaded, removed };
}

async function collectOrphans(store: ArtifactStore, runId: string, manifest: RunManifest | undefined, graceMs: number): Promise<void> {
  const live = new Set([manifestKey(runId), ...Object.values(manifest?.files ?? {}).map((e) => e.key)]);
  const before = Date.now() - graceMs;
  const orphans = (await store.list(`${runId}/`)).filter((o) => !live.has(o.key) && o.lastModified.getTime() <= before);
  await store.delete(orphans.map((o) => o.key));
}

/**
 * The reader's side (the API serving a model, a run starting from another run's model): makes
 * local copies of the named files of the run's published state in `dir` (its local cache) and
 * returns the manifest, or undefined when the run published nothing (the folder is left as it is).
 * A blob deleted under a reader by a newer publish sends it back to the newer manifest.
 */
export async function fetchRunFiles(store: ArtifactStore, runId: string, dir: string, names: readonly string[]): Promise<RunManifest | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      const manifest = await readRunManifest(store, runId);
      if (!manifest) return undefined;
      await materialize(store, manifest, dir, names);
      return manifest;
    } catch (err) {
      // A manifest caught while being replaced (servers without S3's atomic replace, such as
      // s3rver, tear or cut it short), a blob a newer publish deleted, a dropped connection: look again.
      if (attempt >= READ_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/** Deletes every object of the run (the manifest first, so no reader follows it to missing blobs). Returns how many. */
export async function deleteRunArtifacts(store: ArtifactStore, runId: string): Promise<number> {
  const key = manifestKey(runId);
  const objects = await store.list(`${runId}/`);
  await store.delete([key]);
  await store.delete(objects.map((o) => o.key).filter((k) => k !== key));
  return objects.length;
}
