// inspect, make-dataset and download through commander (option parsing) and their functions.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { Command, CommanderError } from 'commander';
import { CliError } from '../cli-error.js';
import { downloadCommand, registerDownloadCommand } from './download.command.js';
import { inspectCommand } from './inspect.command.js';
import { makeDatasetCommand, registerMakeDatasetCommand } from './make-dataset.command.js';

const PTH = join(process.cwd(), 'test/fixtures/pth');
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-data-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function code(p: Promise<unknown>): Promise<number | string> {
  return p.then(
    () => 0,
    (e: unknown) => (e instanceof CliError ? e.exitCode : e instanceof CommanderError ? `commander:${e.code}` : String(e)),
  );
}

describe('inspect', () => {
  it('prints a table with format, keys, dtypes and shapes', async () => {
    const text = await inspectCommand(join(PTH, 'small-legacy.pth'));
    expect(text).toMatch(/legacy format, 16 tensors/);
    expect(text).toMatch(/^conv1\.weight\s+float32\s+\[3, 2, 3, 3\]$/m);
    expect(text).toMatch(/^bn1\.num_batches_tracked\s+int64\s+\[\]$/m);
  });

  it('prints JSON with --json', async () => {
    const json = JSON.parse(await inspectCommand(join(PTH, 'small-zip.pth'), { json: true })) as { format: string; entries: { key: string }[] };
    expect(json.format).toBe('zip');
    expect(json.entries[0]).toEqual({ key: 'conv1.weight', shape: [3, 2, 3, 3], dtype: 'float32' });
  });

  it('exits 2 with the loader message for a bad file and 3 for a missing one', async () => {
    const err = await inspectCommand(join(PTH, 'evil-os-system.pth')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ exitCode: 2 });
    expect((err as Error).message).toMatch(/evil-os-system\.pth: .*refusing global/);
    expect(await code(inspectCommand(join(dir, 'none.pth')))).toBe(3);
  });
});

describe('make-dataset', () => {
  function program(): Command {
    const p = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    registerMakeDatasetCommand(p);
    return p;
  }

  it('parses its options and writes the dataset', async () => {
    const out = join(dir, 'demo');
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await program().parseAsync(['node', 'finetune', 'make-dataset', out, '--seed', '3', '--train-per-class', '2', '--val-per-class', '1', '--image-size', '32'], { from: 'node' });
    const printed = String(write.mock.calls[0]?.[0]);
    write.mockRestore();
    expect(printed).toMatch(/wrote 6 images/);
    expect(existsSync(join(out, 'train/ants/ant_0001.jpg'))).toBe(true);
    expect(existsSync(join(out, 'train/ants/ant_0002.jpg'))).toBe(false);
    expect(existsSync(join(out, 'val/bees/bee_0000.jpg'))).toBe(true);
  });

  it('refuses bad numbers and an existing dataset', async () => {
    expect(await code(program().parseAsync(['node', 'f', 'make-dataset', dir, '--seed', 'x'], { from: 'node' }))).toBe('commander:commander.invalidArgument');
    expect(await code(makeDatasetCommand(dir, { imageSize: 4 }))).toBe(2);
    await makeDatasetCommand(dir, { trainPerClass: 1, valPerClass: 1, imageSize: 16 });
    expect(await code(makeDatasetCommand(dir, { trainPerClass: 1, valPerClass: 1, imageSize: 16 }))).toBe(2);
    expect(await code(makeDatasetCommand(dir, { trainPerClass: 1, valPerClass: 1, imageSize: 16, force: true }))).toBe(0);
  });
});

describe('download', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/models/resnet18-f37072fd.pth') res.writeHead(200, { 'content-length': 3 }).end('bad');
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('maps failures to exit codes: 404 -> 3, checksum -> 1, unreachable -> 4', async () => {
    const env = { FLEET_DOWNLOAD_BASE_URL: base, WEIGHTS_ROOT: dir, DATA_ROOT: dir };
    expect(await code(downloadCommand('hymenoptera', {}, env))).toBe(3);
    expect(await code(downloadCommand('resnet18', { format: 'zip' }, env))).toBe(1);
    expect(existsSync(join(dir, 'resnet18-f37072fd.pth'))).toBe(false);
    expect(await code(downloadCommand('resnet18', { baseUrl: 'http://127.0.0.1:1' }, env))).toBe(4);
  });

  it('rejects an unknown target and format at parse time', async () => {
    const p = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    registerDownloadCommand(p);
    expect(await code(p.parseAsync(['node', 'f', 'download', 'imagenet'], { from: 'node' }))).toBe('commander:commander.invalidArgument');
    expect(await code(p.parseAsync(['node', 'f', 'download', 'resnet18', '--format', 'tar'], { from: 'node' }))).toBe('commander:commander.invalidArgument');
  });
});
