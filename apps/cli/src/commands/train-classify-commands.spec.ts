// train and classify through commander (option parsing, exit codes) and their functions' errors.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { CliError } from '../cli-error.js';
import { classifyCommand, registerClassifyCommand } from './classify.command.js';
import { registerTrainCommand, trainCommand } from './train.command.js';

async function code(p: Promise<unknown>): Promise<number | string> {
  return p.then(
    () => 0,
    (e: unknown) => (e instanceof CliError ? e.exitCode : e instanceof CommanderError ? `commander:${e.code}` : String(e)),
  );
}

function program(): Command {
  const p = new Command('finetune').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerTrainCommand(p);
  registerClassifyCommand(p);
  for (const c of p.commands) c.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  return p;
}

describe('finetune train', () => {
  it.each([
    [['--data', 'd', '--strategy', 'bogus'], 'commander:commander.invalidArgument'],
    [['--data', 'd'], 'commander:commander.missingMandatoryOptionValue'],
    [['--strategy', 'freeze'], 'commander:commander.missingMandatoryOptionValue'],
    [['--data', 'd', '--strategy', 'freeze', '--epochs', '0'], 'commander:commander.invalidArgument'],
    [['--data', 'd', '--strategy', 'freeze', '--lr', 'fast'], 'commander:commander.invalidArgument'],
    [['--data', 'd', '--strategy', 'freeze', '--backend', 'gpu'], 'commander:commander.invalidArgument'],
  ])('rejects bad flags %j', async (args, expected) => {
    expect(await code(program().parseAsync(['node', 'finetune', 'train', ...args]))).toBe(expected);
  });

  it('exits 2 naming the problem for a pretrained strategy without weights or a missing dataset', async () => {
    const err = { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream;
    const out = { write: () => true } as unknown as NodeJS.WritableStream;
    await expect(trainCommand({ data: '/nonexistent', strategy: 'freeze', backend: 'wasm' }, out, err)).rejects.toThrow(/give a weights file/);
    expect(await code(trainCommand({ data: '/nonexistent', strategy: 'freeze', backend: 'wasm' }, out, err))).toBe(2);
    expect(await code(trainCommand({ data: '/nonexistent/data', strategy: 'scratch', backend: 'wasm' }, out, err))).toBe(2);
  });
});

describe('finetune classify', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-classify-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects bad flags', async () => {
    expect(await code(program().parseAsync(['node', 'finetune', 'classify', 'a.jpg']))).toBe(2);
    await expect(classifyCommand(['a.jpg'], { weights: 'w.pth', experiment: 'some-id' })).rejects.toThrow('give either --weights FILE or --experiment ID');
    await expect(classifyCommand(['a.jpg'], { experiment: 'some-id', epoch: 'last' })).rejects.toThrow('--epoch must be one of best, final (got "last")');
    expect(await code(program().parseAsync(['node', 'finetune', 'classify', '--weights', 'w.pth', '--topk', '0', 'a.jpg']))).toBe('commander:commander.invalidArgument');
  });

  it('exits 2 for a weights file that is not a resnet18 state dict', async () => {
    const notPth = join(dir, 'junk.pth');
    await writeFile(notPth, 'not a pickle');
    expect(await code(classifyCommand(['x.jpg'], { weights: notPth, backend: 'wasm' }))).toBe(2);
    const small = join(process.cwd(), 'test/fixtures/pth/small-zip.pth');
    await expect(classifyCommand(['x.jpg'], { weights: small, backend: 'wasm' })).rejects.toThrow(/not a torchvision resnet18 state_dict: missing keys/);
  });
});
