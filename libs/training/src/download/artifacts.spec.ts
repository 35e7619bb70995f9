import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { downloadDefaults, downloadHymenoptera, downloadResnet18Weights, safeEntryPath, UnsafeZipError } from './index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const GOOD_ZIP = zipSync({
  'hymenoptera_data/train/ants/a.jpg': enc('ant'),
  'hymenoptera_data/train/bees/b.jpg': enc('bee'),
  'hymenoptera_data/val/ants/c.jpg': enc('ant2'),
  'hymenoptera_data/val/bees/d.jpg': enc('bee2'),
});
const SLIP_ZIP = zipSync({ 'hymenoptera_data/train/ants/a.jpg': enc('ant'), '../escaped.txt': enc('pwned') });

let server: http.Server;
let base: string;
let files: Record<string, Uint8Array>;
let dir: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const body = files[req.url ?? ''];
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(Buffer.from(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'artifacts-'));
  files = {};
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('downloads and unpacks hymenoptera into the data root, then skips when present', async () => {
  files['/tutorial/hymenoptera_data.zip'] = GOOD_ZIP;
  const result = await downloadHymenoptera({ to: dir, baseUrl: `${base}/` });
  expect(result).toEqual({ path: join(dir, 'hymenoptera_data'), downloaded: true, url: `${base}/tutorial/hymenoptera_data.zip` });
  expect(await readFile(join(dir, 'hymenoptera_data/val/bees/d.jpg'), 'utf8')).toBe('bee2');
  expect(existsSync(join(dir, 'hymenoptera_data.zip'))).toBe(false);
  files = {};
  expect((await downloadHymenoptera({ to: dir, baseUrl: base })).downloaded).toBe(false);
});

it('refuses a zip with a zip-slip entry and writes nothing', async () => {
  const to = join(dir, 'data');
  files['/tutorial/hymenoptera_data.zip'] = SLIP_ZIP;
  const err = await downloadHymenoptera({ to, baseUrl: base }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UnsafeZipError);
  expect((err as Error).message).toContain('../escaped.txt');
  expect(existsSync(join(dir, 'escaped.txt'))).toBe(false);
  expect(existsSync(join(to, 'hymenoptera_data'))).toBe(false);
  expect(existsSync(join(to, 'hymenoptera_data.zip'))).toBe(false);
});

it('rejects weights whose sha256 does not match the name and removes them', async () => {
  files['/models/resnet18-5c106cde.pth'] = enc('not the real weights');
  await expect(downloadResnet18Weights('legacy', { to: dir, baseUrl: base })).rejects.toThrow(/checksum mismatch.*5c106cde/);
  expect(existsSync(join(dir, 'resnet18-5c106cde.pth'))).toBe(false);
  expect(existsSync(join(dir, 'resnet18-5c106cde.pth.part'))).toBe(false);
});

it('reports a 404 for the zip-format weights', async () => {
  await expect(downloadResnet18Weights('zip', { to: dir, baseUrl: base })).rejects.toThrow(/resnet18-f37072fd\.pth answered HTTP 404/);
});

it('classifies zip entry names', () => {
  expect(safeEntryPath('/data', 'a/b.jpg')).toBe('/data/a/b.jpg');
  for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'C:/x', 'a\\..\\..\\x']) expect(safeEntryPath('/data', bad)).toBeNull();
});

it('takes defaults from DATA_ROOT, WEIGHTS_ROOT and FLEET_DOWNLOAD_BASE_URL', () => {
  expect(downloadDefaults({})).toEqual({ dataRoot: './data', weightsRoot: './weights', baseUrl: 'https://download.pytorch.org' });
  expect(downloadDefaults({ DATA_ROOT: '/d', WEIGHTS_ROOT: '/w', FLEET_DOWNLOAD_BASE_URL: 'http://x' })).toEqual({ dataRoot: '/d', weightsRoot: '/w', baseUrl: 'http://x' });
});
