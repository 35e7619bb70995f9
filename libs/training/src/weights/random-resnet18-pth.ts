// Writes a ResNet18-shaped PyTorch state dict (.pth, torch >= 1.6 zip format) with seeded
// He-initialised weights and identity BatchNorm: what the pretrained strategies need in tests
// (without committing 45 MB or needing Python) and the demo's loudly named offline stand-in.
// Not ImageNet weights: numbers are random, only names, shapes and format are real.
import { writeFile } from 'node:fs/promises';
import { zipSync, type Zippable } from 'fflate';
import { stateKeys } from '../model/resnet18-spec.js';

class PickleWriter {
  private readonly chunks: number[] = [];

  op(...bytes: number[]): this {
    this.chunks.push(...bytes);
    return this;
  }

  str(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    this.op(0x58, ...u32(bytes.length)); // BINUNICODE
    for (const b of bytes) this.chunks.push(b);
    return this;
  }

  int(value: number): this {
    return this.op(0x4a, ...u32(value >>> 0)); // BININT (fits: shapes and numels < 2^31)
  }

  global(module: string, name: string): this {
    this.op(0x63); // GLOBAL
    for (const b of Buffer.from(`${module}\n${name}\n`, 'ascii')) this.chunks.push(b);
    return this;
  }

  tuple(values: number[]): this {
    this.op(0x28); // MARK
    for (const v of values) this.int(v);
    return this.op(0x74); // TUPLE
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

/** Writes the state dict to `file`; `numClasses` sizes fc (1000 = ImageNet, as torchvision's). */
export async function writeRandomResnet18Pth(file: string, options: { seed?: number; numClasses?: number } = {}): Promise<string> {
  let state = (options.seed ?? 7) >>> 0 || 7;
  const uniform = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
  const pickle = new PickleWriter().op(0x80, 0x02); // PROTO 2
  pickle.global('collections', 'OrderedDict').op(0x29, 0x52); // EMPTY_TUPLE, REDUCE
  pickle.op(0x28); // MARK for SETITEMS
  const files: Zippable = {};
  stateKeys(options.numClasses ?? 1000).forEach((entry, index) => {
    const numel = entry.shape.reduce((a, b) => a * b, 1);
    const isCount = entry.key.endsWith('num_batches_tracked');
    let data: Uint8Array;
    if (isCount) {
      data = new Uint8Array(new BigInt64Array([0n]).buffer);
    } else {
      const values = new Float32Array(numel);
      const fanIn = entry.shape.slice(1).reduce((a, b) => a * b, 1);
      const bound = Math.sqrt(6 / Math.max(1, fanIn));
      for (let i = 0; i < numel; i++) {
        if (entry.key.endsWith('running_var') || (entry.kind === 'bn' && entry.key.endsWith('.weight'))) values[i] = 1;
        else if (entry.kind === 'bn') values[i] = 0;
        else values[i] = (uniform() * 2 - 1) * bound;
      }
      data = new Uint8Array(values.buffer);
    }
    files[`archive/data/${index}`] = [data, { level: 0 }];
    const stride = entry.shape.map((_, i) => entry.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    pickle.str(entry.key);
    pickle.global('torch._utils', '_rebuild_tensor_v2');
    pickle.op(0x28); // MARK (args)
    pickle.op(0x28).str('storage').global('torch', isCount ? 'LongStorage' : 'FloatStorage').str(String(index)).str('cpu').int(numel).op(0x74); // pid tuple
    pickle.op(0x51); // BINPERSID
    pickle.int(0).tuple(entry.shape).tuple(stride).op(0x89); // offset, size, stride, requires_grad=False
    pickle.global('collections', 'OrderedDict').op(0x29, 0x52); // backward_hooks
    pickle.op(0x74, 0x52); // TUPLE, REDUCE
  });
  pickle.op(0x75, 0x2e); // SETITEMS, STOP
  files['archive/data.pkl'] = [pickle.bytes(), { level: 0 }];
  files['archive/version'] = [Buffer.from('3\n'), { level: 0 }];
  await writeFile(file, zipSync(files));
  return file;
}
