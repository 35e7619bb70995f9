import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DownloadError, downloadFile, hashPrefixFromName } from './index.js';

const BODY = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251));
const SHA = createHash('sha256').update(BODY).digest('hex');

interface Seen {
  url: string;
  range: string | undefined;
}
let server: http.Server;
let base: string;
let seen: Seen[];
let dropNext: number;
let ignoreRange: boolean;
let dir: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', range: req.headers.range });
    if (req.url !== '/file.bin') {
      res.writeHead(404).end('nope');
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m && !ignoreRange ? Number(m[1]) : 0;
    const body = BODY.subarray(start);
    const headers: http.OutgoingHttpHeaders = { 'content-length': body.length, 'accept-ranges': 'bytes' };
    if (start > 0) headers['content-range'] = `bytes ${start}-${BODY.length - 1}/${BODY.length}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    if (dropNext > 0) {
      dropNext--;
      // Send part of the body, then cut the connection mid-transfer.
      res.write(body.subarray(0, 70_000), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(async () => {
  seen = [];
  dropNext = 0;
  ignoreRange = false;
  dir = await mkdtemp(join(tmpdir(), 'download-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('downloads a file, reporting progress, and verifies the sha256 prefix', async () => {
  const progress: number[] = [];
  const dest = join(dir, 'file.bin');
  const result = await downloadFile(`${base}/file.bin`, dest, { sha256Prefix: SHA.slice(0, 8), onProgress: (p) => progress.push(p.received) });
  expect(result).toMatchObject({ bytes: BODY.length, resumedFrom: 0, sha256: SHA });
  expect((await readFile(dest)).equals(BODY)).toBe(true);
  expect(progress.at(-1)).toBe(BODY.length);
  expect(existsSync(`${dest}.part`)).toBe(false);
});

it('keeps the part of a dropped transfer and resumes it with a Range request', async () => {
  const dest = join(dir, 'file.bin');
  dropNext = 1;
  await expect(downloadFile(`${base}/file.bin`, dest, { retries: 0 })).rejects.toThrow(/interrupted/);
  const partSize = (await readFile(`${dest}.part`)).length;
  expect(partSize).toBeGreaterThan(0);
  expect(partSize).toBeLessThan(BODY.length);
  const result = await downloadFile(`${base}/file.bin`, dest, { sha256Prefix: SHA.slice(0, 8) });
  expect(result.resumedFrom).toBe(partSize);
  expect(seen.map((s) => s.range)).toEqual([undefined, `bytes=${partSize}-`]);
  expect((await readFile(dest)).equals(BODY)).toBe(true);
});

it('retries a dropped transfer by itself, resuming from where it stopped', async () => {
  const dest = join(dir, 'file.bin');
  dropNext = 2;
  await downloadFile(`${base}/file.bin`, dest, { retries: 3 });
  expect(seen).toHaveLength(3);
  expect(seen[1]!.range).toMatch(/^bytes=\d+-$/);
  expect((await readFile(dest)).equals(BODY)).toBe(true);
});

it('starts over when the server ignores Range', async () => {
  const dest = join(dir, 'file.bin');
  await writeFile(`${dest}.part`, BODY.subarray(0, 1000));
  ignoreRange = true;
  await downloadFile(`${base}/file.bin`, dest);
  expect(seen[0]!.range).toBe('bytes=1000-');
  expect((await readFile(dest)).equals(BODY)).toBe(true);
});

it('rejects and removes a file whose checksum does not match', async () => {
  const dest = join(dir, 'file.bin');
  const err = await downloadFile(`${base}/file.bin`, dest, { sha256Prefix: 'deadbeef' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DownloadError);
  expect((err as Error).message).toMatch(/checksum mismatch.*deadbeef.*removed/);
  expect(existsSync(dest)).toBe(false);
  expect(existsSync(`${dest}.part`)).toBe(false);
});

it('reports a 404 without retrying or leaving files', async () => {
  const dest = join(dir, 'missing.bin');
  const err = await downloadFile(`${base}/missing.bin`, dest).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DownloadError);
  expect(err).toMatchObject({ status: 404 });
  expect((err as Error).message).toContain('HTTP 404');
  expect(seen).toHaveLength(1);
  expect(existsSync(`${dest}.part`)).toBe(false);
});

it('reports an unreachable server', async () => {
  await expect(downloadFile('http://127.0.0.1:1/x', join(dir, 'x'), { retries: 0 })).rejects.toThrow(/cannot reach/);
});

it('takes the hash prefix from the file name like torch hub', () => {
  expect(hashPrefixFromName('resnet18-5c106cde.pth')).toBe('5c106cde');
  expect(hashPrefixFromName('resnet18-f37072fd.pth')).toBe('f37072fd');
  expect(hashPrefixFromName('hymenoptera_data.zip')).toBeUndefined();
});
