// One contract, two stores: the shared-folder store and the S3 store against s3rver (an
// S3-compatible server started here on a free port). Whatever the worker and the API rely on is
// asserted for both.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { s3StoreOn as s3Store, startTestS3, type TestS3 } from '../../../test/support/s3-server.js';
import { InvalidKeyError, type ArtifactStore } from './artifact-store.js';
import { DirArtifactStore } from './dir-artifact-store.js';
import { S3ArtifactStore } from './s3-artifact-store.js';

let s3: TestS3;
let tmp: string;
beforeAll(async () => {
  s3 = await startTestS3('contract-bucket');
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ff-store-'));
});
afterAll(async () => {
  await s3?.close();
  await rm(tmp, { recursive: true, force: true });
});

const stores: [string, () => Promise<ArtifactStore>][] = [
  [
    'folder',
    async () => {
      const root = path.join(tmp, `root-${randomBytes(4).toString('hex')}`);
      await mkdir(root);
      return new DirArtifactStore(root);
    },
  ],
  ['s3 (s3rver)', () => Promise.resolve(s3Store(s3, `p-${randomBytes(4).toString('hex')}/fleet`))],
];

async function readAll(opened: { stream: NodeJS.ReadableStream } | undefined): Promise<Buffer | undefined> {
  if (!opened) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe.each(stores)('ArtifactStore contract: %s', (_name, make) => {
  let store: ArtifactStore;
  beforeEach(async () => {
    store = await make();
  });

  it('passes its boot check, for reading and for writing', async () => {
    await expect(store.check({ write: false })).resolves.toBeUndefined();
    await expect(store.check({ write: true })).resolves.toBeUndefined();
    expect(await store.list('')).toEqual([]); // the write probe left nothing
  });

  it('gives back what was put, as bytes and as a stream with its size; nothing for an absent key', async () => {
    const bytes = randomBytes(300_000);
    await store.putBytes('run-a/blobs/1/model.pth', bytes);
    expect(Buffer.compare((await store.getBytes('run-a/blobs/1/model.pth'))!, bytes)).toBe(0);
    const opened = await store.openRead('run-a/blobs/1/model.pth');
    expect(opened?.bytes).toBe(bytes.length);
    expect(Buffer.compare((await readAll(opened))!, bytes)).toBe(0);
    expect(await store.getBytes('run-a/blobs/1/absent')).toBeUndefined();
    expect(await store.openRead('run-b/manifest.json')).toBeUndefined();
  });

  it('uploads a file', async () => {
    const file = path.join(tmp, `f-${randomBytes(4).toString('hex')}`);
    const bytes = randomBytes(2_000_000);
    await writeFile(file, bytes);
    await store.putFile('run-a/blobs/2/latest.ckpt', file);
    expect(Buffer.compare((await store.getBytes('run-a/blobs/2/latest.ckpt'))!, bytes)).toBe(0);
  });

  it('lists by prefix at segment boundaries, in key order, with sizes', async () => {
    for (const key of ['run-1/manifest.json', 'run-1/blobs/b/y', 'run-1/blobs/a/x', 'run-10/manifest.json', 'other/z']) await store.putBytes(key, Buffer.from(key));
    const listed = await store.list('run-1/');
    expect(listed.map((o) => o.key)).toEqual(['run-1/blobs/a/x', 'run-1/blobs/b/y', 'run-1/manifest.json']);
    expect(listed.map((o) => o.bytes)).toEqual([15, 15, 19]);
    for (const o of listed) expect(Math.abs(o.lastModified.getTime() - Date.now())).toBeLessThan(120_000);
    expect((await store.list('')).map((o) => o.key)).toEqual(['other/z', 'run-1/blobs/a/x', 'run-1/blobs/b/y', 'run-1/manifest.json', 'run-10/manifest.json']);
  });

  it('replaces an object as a whole and deletes objects (absent keys are no error)', async () => {
    await store.putBytes('run-a/manifest.json', Buffer.from('one'));
    await store.putBytes('run-a/manifest.json', Buffer.from('two, longer'));
    expect((await store.getBytes('run-a/manifest.json'))?.toString()).toBe('two, longer');
    await store.putBytes('run-a/blobs/x/f', Buffer.from('f'));
    await store.delete(['run-a/manifest.json', 'run-a/blobs/x/f', 'run-a/never-was']);
    expect(await store.list('')).toEqual([]);
    expect(await store.getBytes('run-a/manifest.json')).toBeUndefined();
  });

  it('refuses keys that could escape or mean different things on S3 and on disk', async () => {
    for (const key of ['../x', 'a/../../x', 'a//b', '/a', 'a/', '.hidden', 'a/.tmp', 'a\\b', '']) {
      await expect(store.putBytes(key, Buffer.from('x'))).rejects.toThrow(InvalidKeyError);
    }
    await expect(store.list('a')).rejects.toThrow(InvalidKeyError);
  });
});

// Atomic writes are S3's promise (a GET sees no object or all of it, the old or the new version)
// and the folder store's (rename). s3rver does not keep it: it writes the object's file in place
// and serves whatever is on disk, so a GET during a PUT can be torn or cut short ("aborted"). The
// fleet does not depend on it: a blob is read only once a manifest names it, and the manifest is
// written after the blob's PUT returned; the only object ever replaced is a run's manifest, and a
// reader reads one that does not parse again (run-artifacts.ts). The run-level spec checks that
// protocol on s3rver as well.
describe('atomic writes (folder store; S3 promises them, s3rver does not keep them)', () => {
  let store: DirArtifactStore;
  beforeAll(async () => {
    const root = path.join(tmp, 'atomic');
    await mkdir(root);
    store = new DirArtifactStore(root);
  });

  it('shows a reader a new object whole or not at all while it is being written', async () => {
    const key = 'run-a/blobs/new/latest.ckpt';
    const bytes = randomBytes(8_000_000);
    let writing = true;
    const writer = store.putBytes(key, bytes).finally(() => (writing = false));
    const seen = new Set<string>();
    while (writing) {
      const got = await store.getBytes(key);
      seen.add(got === undefined ? 'none' : Buffer.compare(got, bytes) === 0 ? 'whole' : `torn (${got.length} bytes)`);
    }
    await writer;
    expect([...seen].filter((s) => s !== 'none' && s !== 'whole')).toEqual([]);
    expect(Buffer.compare((await store.getBytes(key))!, bytes)).toBe(0);
  });

  it('shows a reader the old or the new object, never a mix', async () => {
    const key = 'run-a/manifest.json';
    const [v1, v2] = [randomBytes(8_000_000), randomBytes(8_000_000)];
    await store.putBytes(key, v1);
    let writing = true;
    const writer = store.putBytes(key, v2).finally(() => (writing = false));
    const seen = new Set<string>();
    while (writing) {
      const got = await store.getBytes(key);
      seen.add(got && Buffer.compare(got, v1) === 0 ? 'old' : got && Buffer.compare(got, v2) === 0 ? 'new' : `torn (${got?.length ?? 'none'})`);
    }
    await writer;
    expect([...seen].filter((s) => s !== 'old' && s !== 'new')).toEqual([]);
    expect(Buffer.compare((await store.getBytes(key))!, v2)).toBe(0);
  });
});

describe('boot check failures say what is wrong in one line', () => {
  it('folder store: a missing folder', async () => {
    await expect(new DirArtifactStore(path.join(tmp, 'nope')).check({ write: false })).rejects.toThrow(/^artifact store file:\/\/.*nope is not usable: ENOENT: no such file or directory/);
  });

  it('s3: a bucket that does not exist, an unknown key, an endpoint that does not answer', async () => {
    await expect(s3Store(s3, 'p', { bucket: 'no-such-bucket' }).check({ write: false })).rejects.toThrow('artifact store s3://no-such-bucket/p is not usable: the bucket does not exist (404)');
    // (s3rver checks the access key id only, never a SigV4 signature: a wrong secret would pass.)
    await expect(s3Store(s3, 'p', { credentials: { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'S3RVER' } }).check({ write: true })).rejects.toThrow(/is not usable for writing: access denied \(403/);
    const dead = new S3ArtifactStore({ bucket: 'b-1', prefix: '', forcePathStyle: true, env: {}, client: { endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 } });
    const err = await dead.check({ write: false }).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/^artifact store s3:\/\/b-1 is not usable: .*ECONNREFUSED/);
    expect(err?.message).not.toContain('\n');
  });
});
