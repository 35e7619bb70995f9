// The publish/restore protocol of a run's folder, on both stores (the folder store and S3 through
// s3rver): what a worker on another machine restores, what a reader sees while a run publishes,
// what a publish that dies half-way leaves, and what deleting a run leaves.
import { randomBytes } from 'node:crypto';
import { link, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { s3StoreOn, startTestS3, type TestS3 } from '../../../test/support/s3-server.js';
import type { ArtifactStore, StoredObject } from './artifact-store.js';
import { DirArtifactStore } from './dir-artifact-store.js';
import { ArtifactIntegrityError, deleteRunArtifacts, fetchRunFiles, publishRunDir, readRunManifest, restoreRunDir } from './run-artifacts.js';

let s3: TestS3;
let tmp: string;
beforeAll(async () => {
  s3 = await startTestS3('runs-bucket');
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ff-runs-'));
});
afterAll(async () => {
  await s3?.close();
  await rm(tmp, { recursive: true, force: true });
});

/** Delegates to a store, counting uploads and downloads; `failOn` makes a put fail (a worker dying mid-publish). */
class WatchedStore implements ArtifactStore {
  puts: string[] = [];
  reads: string[] = [];
  failOn: ((key: string) => boolean) | undefined;
  constructor(private readonly inner: ArtifactStore) {}
  get url() {
    return this.inner.url;
  }
  check(o: { write: boolean }) {
    return this.inner.check(o);
  }
  async putFile(key: string, file: string) {
    if (this.failOn?.(key)) throw new Error(`simulated failure putting ${key}`);
    this.puts.push(key);
    return this.inner.putFile(key, file);
  }
  async putBytes(key: string, bytes: Uint8Array) {
    if (this.failOn?.(key)) throw new Error(`simulated failure putting ${key}`);
    this.puts.push(key);
    return this.inner.putBytes(key, bytes);
  }
  getBytes(key: string) {
    return this.inner.getBytes(key);
  }
  openRead(key: string) {
    this.reads.push(key);
    return this.inner.openRead(key);
  }
  list(prefix: string): Promise<StoredObject[]> {
    return this.inner.list(prefix);
  }
  delete(keys: readonly string[]) {
    return this.inner.delete(keys);
  }
}

const stores: [string, () => Promise<ArtifactStore>][] = [
  [
    'folder',
    async () => {
      const root = path.join(tmp, `store-${randomBytes(4).toString('hex')}`);
      await mkdir(root);
      return new DirArtifactStore(root);
    },
  ],
  ['s3 (s3rver)', () => Promise.resolve(s3StoreOn(s3, `p-${randomBytes(4).toString('hex')}`))],
];

async function newDir(): Promise<string> {
  const dir = path.join(tmp, `dir-${randomBytes(4).toString('hex')}`);
  await mkdir(dir);
  return dir;
}

/** A run's folder as the engine leaves it after `epoch`: checkpoint, models (final = best: a hard link), classes, predictions. */
async function writeEpoch(dir: string, epoch: number, options: { finalIsBest?: boolean } = {}): Promise<void> {
  const stamp = (bytes: number) => Buffer.concat([Buffer.from(`epoch ${epoch}\n`), randomBytes(bytes)]);
  await writeFile(path.join(dir, 'latest.ckpt'), stamp(600_000));
  await writeFile(path.join(dir, 'model-best.pth'), stamp(300_000));
  if (options.finalIsBest) {
    await rm(path.join(dir, 'model-final.pth'), { force: true });
    await link(path.join(dir, 'model-best.pth'), path.join(dir, 'model-final.pth'));
  }
  await writeFile(path.join(dir, 'classes.json'), '["ants","bees"]\n');
  await writeFile(path.join(dir, 'predictions.json'), JSON.stringify({ epoch }));
}

async function contents(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).filter((n) => !n.startsWith('.')).sort()) out[name] = (await readFile(path.join(dir, name))).toString('base64');
  return out;
}

const epochOf = async (file: string) => Number(/^epoch (\d+)/.exec((await readFile(file)).subarray(0, 20).toString('latin1'))?.[1] ?? NaN);

describe.each(stores)('run artifacts on the %s store', (_name, make) => {
  let inner: ArtifactStore;
  let store: WatchedStore;
  const run = '3f0c9a52-5d1e-4c7b-9a10-6f2d8c1e7b44';
  beforeEach(async () => {
    inner = await make();
    store = new WatchedStore(inner);
  });

  it('restores on another machine exactly what was published, hard link included, dot-files left out', async () => {
    const a = await newDir();
    await writeEpoch(a, 3, { finalIsBest: true });
    await writeFile(path.join(a, '.write-probe'), '');
    await writeFile(path.join(a, '.latest.ckpt.123.tmp'), 'half');
    const published = await publishRunDir(store, run, a, { epoch: 3 });
    expect(published?.uploaded.sort()).toEqual(['classes.json', 'latest.ckpt', 'model-best.pth', 'predictions.json']);
    expect(published?.manifest.files['model-final.pth']?.key).toBe(published?.manifest.files['model-best.pth']?.key);

    const b = await newDir();
    const restored = await restoreRunDir(store, run, b);
    expect(restored?.manifest.meta).toEqual({ epoch: 3 });
    expect(await contents(b)).toEqual(await contents(a).then(({ ...c }) => c));
    expect(Object.keys(await contents(b))).toEqual(['classes.json', 'latest.ckpt', 'model-best.pth', 'model-final.pth', 'predictions.json']);
    const [best, final] = await Promise.all([stat(path.join(b, 'model-best.pth')), stat(path.join(b, 'model-final.pth'))]);
    expect(best.ino).toBe(final.ino);
    expect(store.reads.filter((k) => k.endsWith('model-best.pth') || k.endsWith('model-final.pth'))).toHaveLength(1);
  });

  it('uploads only what changed, writes nothing for an unchanged folder and deletes the blobs it replaced', async () => {
    const dir = await newDir();
    await writeEpoch(dir, 1);
    await publishRunDir(store, run, dir, { epoch: 1 });
    store.puts = [];
    expect(await publishRunDir(store, run, dir, { epoch: 1 })).toBeUndefined();
    expect(store.puts).toEqual([]);

    // Epoch 2 was not the best: only the checkpoint and (a new file) the final model change.
    await writeFile(path.join(dir, 'latest.ckpt'), Buffer.concat([Buffer.from('epoch 2\n'), randomBytes(600_000)]));
    await writeFile(path.join(dir, 'model-final.pth'), randomBytes(1000));
    const second = await publishRunDir(store, run, dir, { epoch: 2 });
    expect(second?.uploaded.sort()).toEqual(['latest.ckpt', 'model-final.pth']);
    expect(store.puts.map((k) => k.split('/').pop())).toEqual(['latest.ckpt', 'model-final.pth', 'manifest.json']);
    const keys = (await inner.list(`${run}/`)).map((o) => o.key).sort();
    expect(keys).toEqual([...new Set(Object.values(second!.manifest.files).map((e) => e.key)), `${run}/manifest.json`].sort());

    // The succeeded run drops its checkpoint: the next publish forgets it and deletes its blob.
    await rm(path.join(dir, 'latest.ckpt'));
    const third = await publishRunDir(store, run, dir, { epoch: 2 });
    expect(Object.keys(third!.manifest.files).sort()).toEqual(['classes.json', 'model-best.pth', 'model-final.pth', 'predictions.json']);
    expect((await inner.list(`${run}/`)).some((o) => o.key.endsWith('latest.ckpt'))).toBe(false);
  });

  it("restore replaces this machine's stale files, drops those the store does not name, and keeps a folder the store knows nothing of", async () => {
    const writer = await newDir();
    await writeEpoch(writer, 4);
    await publishRunDir(store, run, writer, { epoch: 4 });
    const stale = await newDir();
    await writeEpoch(stale, 2);
    await writeFile(path.join(stale, 'model-final.pth'), 'from an earlier attempt');
    const restored = await restoreRunDir(store, run, stale);
    expect(restored?.removed).toEqual(['model-final.pth']);
    expect(await epochOf(path.join(stale, 'latest.ckpt'))).toBe(4);
    expect(await contents(stale)).toEqual(await contents(writer));

    const other = await newDir();
    await writeEpoch(other, 1);
    const before = await contents(other);
    expect(await restoreRunDir(store, 'another-run', other)).toBeUndefined();
    expect(await contents(other)).toEqual(before);
  });

  it('restores from the local copy when it already holds the published bytes (the cache), downloading nothing', async () => {
    const dir = await newDir();
    await writeEpoch(dir, 5);
    await publishRunDir(store, run, dir);
    await rm(path.join(dir, '.artifact-sync.json')); // e.g. a worker restarted with its folder but not its records
    store.reads = [];
    const restored = await restoreRunDir(store, run, dir);
    expect(restored?.downloaded).toEqual([]);
    expect(store.reads).toEqual([]);
  });

  it('a publish that dies before its manifest leaves the previous epoch readable; a later restore deletes what it left', async () => {
    const dir = await newDir();
    await writeEpoch(dir, 1);
    await publishRunDir(store, run, dir, { epoch: 1 });
    await writeEpoch(dir, 2);
    store.failOn = (key) => key.endsWith('/manifest.json');
    await expect(publishRunDir(store, run, dir, { epoch: 2 })).rejects.toThrow('simulated failure');
    store.failOn = undefined;

    const reader = await newDir();
    expect((await fetchRunFiles(store, run, reader, ['latest.ckpt', 'predictions.json']))?.meta).toEqual({ epoch: 1 });
    expect(await epochOf(path.join(reader, 'latest.ckpt'))).toBe(1);
    const objects = async () => (await inner.list(`${run}/`)).length;
    expect(await objects()).toBe(4 + 4); // epoch 1's four blobs and manifest, epoch 2's three orphan blobs
    // A fresh orphan might be a slow writer's upload in progress: kept within the grace period.
    await restoreRunDir(store, run, await newDir());
    expect(await objects()).toBe(8);
    await restoreRunDir(store, run, await newDir(), { orphanGraceMs: 0 });
    expect(await objects()).toBe(5);
  });

  it('readers following the manifest while a run publishes epoch after epoch always get one epoch, never a mix', async () => {
    const writerDir = await newDir();
    const readerDir = await newDir();
    let publishing = true;
    const writer = (async () => {
      for (let epoch = 1; epoch <= 8; epoch++) {
        await writeEpoch(writerDir, epoch);
        await publishRunDir(store, run, writerDir, { epoch });
      }
    })().finally(() => (publishing = false));
    const seen: string[] = [];
    while (publishing) {
      const manifest = await fetchRunFiles(store, run, readerDir, ['latest.ckpt', 'model-best.pth', 'predictions.json']);
      if (!manifest) continue;
      const [ckpt, best, predictions] = await Promise.all([epochOf(path.join(readerDir, 'latest.ckpt')), epochOf(path.join(readerDir, 'model-best.pth')), readFile(path.join(readerDir, 'predictions.json'), 'utf8')]);
      seen.push(`${manifest.meta.epoch}:${ckpt}:${best}:${(JSON.parse(predictions) as { epoch: number }).epoch}`);
    }
    await writer;
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect(new Set(s.split(':')).size).toBe(1);
  });

  it('refuses a blob whose bytes are not what the manifest says, and leaves the local file as it was', async () => {
    const dir = await newDir();
    await writeEpoch(dir, 6);
    const published = await publishRunDir(store, run, dir, { epoch: 6 });
    await inner.putBytes(published!.manifest.files['latest.ckpt']!.key, Buffer.from('not the checkpoint'));
    const other = await newDir();
    await writeEpoch(other, 2);
    const before = await readFile(path.join(other, 'latest.ckpt'));
    await expect(restoreRunDir(store, run, other)).rejects.toThrow(ArtifactIntegrityError);
    expect(Buffer.compare(await readFile(path.join(other, 'latest.ckpt')), before)).toBe(0);
    expect((await readdir(other)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('reports a manifest that is not one instead of following it', async () => {
    await inner.putBytes(`${run}/manifest.json`, Buffer.from('{"version": 1, "runId": "someone-else", "files": {}}'));
    await expect(readRunManifest(store, run)).rejects.toThrow(`${run}/manifest.json: belongs to run someone-else`);
    await inner.putBytes(`${run}/manifest.json`, Buffer.from('{"vers'));
    await expect(fetchRunFiles(store, run, await newDir(), ['latest.ckpt'])).rejects.toThrow('is not JSON');
  });

  it('fetches only the files asked for, and serves a repeat from the local cache', async () => {
    const dir = await newDir();
    await writeEpoch(dir, 7, { finalIsBest: true });
    await publishRunDir(store, run, dir);
    const api = await newDir();
    store.reads = [];
    await fetchRunFiles(store, run, api, ['model-best.pth', 'classes.json']);
    expect((await readdir(api)).filter((n) => !n.startsWith('.')).sort()).toEqual(['classes.json', 'model-best.pth']);
    expect(store.reads).toHaveLength(2);
    await fetchRunFiles(store, run, api, ['model-best.pth', 'classes.json']);
    expect(store.reads).toHaveLength(2);
  });

  it("deleting a run removes every one of its objects and nothing of another run's", async () => {
    const dir = await newDir();
    await writeEpoch(dir, 1);
    await publishRunDir(store, run, dir);
    await publishRunDir(store, 'other-run', dir);
    expect(await deleteRunArtifacts(store, run)).toBe(5);
    expect(await inner.list(`${run}/`)).toEqual([]);
    expect(await readRunManifest(store, run)).toBeUndefined();
    expect((await inner.list('other-run/')).length).toBe(5);
  });
});
