// Writes a state dict as a PyTorch .pth in the zip format torch >= 1.6 saves by default: what
// `torch.load(f)` reads back as an OrderedDict of tensors (no module classes, nothing to execute).
// Supports the dtypes a ResNet18 state dict holds: float32 tensors and int64 counters.
import type { StateDict, StateTensor } from './pth-loader.js';
import { zipStored, type StoredEntry } from './zip-store.js';

class PickleWriter {
  private readonly chunks: number[] = [];

  op(...bytes: number[]): this {
    for (const b of bytes) this.chunks.push(b);
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

const STORAGES: Record<string, string> = { float32: 'FloatStorage', int64: 'LongStorage' };

function storageBytes(t: StateTensor): Uint8Array {
  if (t.dtype === 'int64') {
    const values = t.data instanceof BigInt64Array ? t.data : BigInt64Array.from(t.data as ArrayLike<number>, (v) => BigInt(v));
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  }
  const values = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** The bytes of a torch zip-format file holding `sd` (keys in the map's order, contiguous tensors). */
export function encodePth(sd: StateDict, archiveName = 'archive'): Uint8Array {
  return Buffer.concat(encodePthChunks(sd, archiveName));
}

/**
 * The same file as chunks to write with one writev: the tensors' bytes are not copied (a model
 * file is written at every new best epoch and at the last one).
 */
export function encodePthChunks(sd: StateDict, archiveName = 'archive'): Uint8Array[] {
  const pickle = new PickleWriter().op(0x80, 0x02); // PROTO 2
  pickle.global('collections', 'OrderedDict').op(0x29, 0x52); // EMPTY_TUPLE, REDUCE
  pickle.op(0x28); // MARK for SETITEMS
  const storages: StoredEntry[] = [];
  let index = 0;
  for (const [key, tensor] of sd) {
    const storage = STORAGES[tensor.dtype];
    if (!storage) throw new Error(`${key}: cannot write dtype ${tensor.dtype} (float32 and int64 only)`);
    const numel = tensor.shape.reduce((a, b) => a * b, 1);
    if (tensor.data.length !== numel) throw new Error(`${key}: ${tensor.data.length} values for shape [${tensor.shape.join(', ')}]`);
    storages.push({ name: `${archiveName}/data/${index}`, data: storageBytes(tensor) });
    const stride = tensor.shape.map((_, i) => tensor.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    pickle.str(key);
    pickle.global('torch._utils', '_rebuild_tensor_v2');
    pickle.op(0x28); // MARK (args)
    pickle.op(0x28).str('storage').global('torch', storage).str(String(index)).str('cpu').int(numel).op(0x74); // pid tuple
    pickle.op(0x51); // BINPERSID
    pickle.int(0).tuple(tensor.shape).tuple(stride).op(0x89); // offset, size, stride, requires_grad=False
    pickle.global('collections', 'OrderedDict').op(0x29, 0x52); // backward_hooks
    pickle.op(0x74, 0x52); // TUPLE, REDUCE
    index++;
  }
  pickle.op(0x75, 0x2e); // SETITEMS, STOP
  return zipStored([...storages, { name: `${archiveName}/data.pkl`, data: pickle.bytes() }, { name: `${archiveName}/version`, data: Buffer.from('3\n') }]);
}
