import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStateDict, WeightsError } from './index.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/pth');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pth-rejects-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function write(name: string, bytes: Uint8Array): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, bytes);
  return file;
}

async function rejection(file: string): Promise<WeightsError> {
  const err = await loadStateDict(file).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WeightsError);
  expect((err as WeightsError).message).toContain(file);
  return err as WeightsError;
}

it('refuses a pickle that calls os.system, without running anything', async () => {
  const marker = '/tmp/fleet-pth-evil-ran';
  rmSync(marker, { force: true });
  const err = await rejection(join(FIXTURES, 'evil-os-system.pth'));
  expect(err.message).toMatch(/refusing global (posix|os)\.system/);
  expect(existsSync(marker)).toBe(false);
});

it('refuses builtins.eval through STACK_GLOBAL', async () => {
  const enc = (s: string): number[] => [0x8c, s.length, ...Buffer.from(s)];
  const pickle = Uint8Array.from([0x80, 4, ...enc('builtins'), ...enc('eval'), 0x93, ...enc('1+1'), 0x85, 0x52, 0x2e]);
  // A zip wrapper is not needed: the legacy path reads the first pickle and checks the magic,
  // so wrap it as the state-dict pickle of a legacy file.
  const legacy = readFileSync(join(FIXTURES, 'small-legacy.pth'));
  const sysEnd = legacy.indexOf(0x2e, legacy.indexOf(Buffer.from('type_sizes'))) + 1;
  const err = await rejection(await write('eval.pth', Buffer.concat([legacy.subarray(0, sysEnd), pickle])));
  expect(err.message).toContain('refusing global builtins.eval');
});

it('refuses whole-model pickles with a hint', async () => {
  const err = await rejection(join(FIXTURES, 'model-object.pth'));
  expect(err.message).toMatch(/refusing global .*TinyNet.*state_dict/);
});

it('rejects random bytes', async () => {
  const bytes = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24);
  const err = await rejection(await write('random.pth', bytes));
  expect(err.message).toContain('not a PyTorch weights file');
});

it('rejects a JPEG renamed .pth', async () => {
  const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]);
  const err = await rejection(await write('photo.pth', jpeg));
  expect(err.message).toContain('JPEG');
});

it('rejects a truncated zip-format file', async () => {
  const zip = readFileSync(join(FIXTURES, 'small-zip.pth'));
  const err = await rejection(await write('trunc-zip.pth', zip.subarray(0, Math.floor(zip.length * 0.6))));
  expect(err.message).toMatch(/zip/);
});

it('rejects a truncated tar-format file', async () => {
  const tar = readFileSync(join(FIXTURES, 'small-tar.pth'));
  for (const cut of [600, 2000, 3072, 5600]) {
    const err = await rejection(await write(`trunc-tar-${cut}.pth`, tar.subarray(0, cut)));
    expect(err.message).toMatch(/truncated/);
  }
});

it('rejects a truncated legacy-format file', async () => {
  const legacy = readFileSync(join(FIXTURES, 'small-legacy.pth'));
  for (const cut of [20, 300, legacy.length - 10]) {
    const err = await rejection(await write(`trunc-legacy-${cut}.pth`, legacy.subarray(0, cut)));
    expect(err.message).toMatch(/truncated/);
  }
});

it('rejects a pickle with an opcode torch never writes', async () => {
  const legacy = readFileSync(join(FIXTURES, 'small-legacy.pth'));
  const sysEnd = legacy.indexOf(0x2e, legacy.indexOf(Buffer.from('type_sizes'))) + 1;
  // 'I' (protocol-0 INT) followed by text: unsupported by design.
  const bad = Buffer.concat([legacy.subarray(0, sysEnd), Buffer.from('\x80\x02I42\n.', 'latin1')]);
  const err = await rejection(await write('opcode.pth', bad));
  expect(err.message).toContain('unsupported pickle opcode 0x49');
});

it('names a missing file', async () => {
  const err = await rejection(join(dir, 'nope.pth'));
  expect(err.message).toContain('file not found');
});
