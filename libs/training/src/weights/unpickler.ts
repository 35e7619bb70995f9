// A safe, minimal reader for the Python pickles inside PyTorch .pth files. It understands only the
// opcodes torch state dicts use and resolves globals against an allow-list: it never executes
// anything, and a pickle that references any other callable (os.system, builtins.eval, a model
// class) is refused at the GLOBAL opcode, before anything could use it.

/** A Python tuple (kept distinct from lists so the loader can tell them apart). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A Python dict or collections.OrderedDict; keys keep insertion order. */
export class PyDict {
  readonly entries = new Map<PyKey, PyValue>();
  /** Attributes set by BUILD (torch puts `_metadata` there); kept, never interpreted. */
  attributes: PyValue = null;
  constructor(readonly ordered: boolean) {}
}

/** A reference to an allow-listed global, e.g. `torch FloatStorage`. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** What `_rebuild_tensor_v2` / `_rebuild_parameter` describe: a strided view into a storage. */
export class PyTensorRef {
  constructor(
    readonly storage: PyValue,
    readonly storageOffset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

export type PyKey = string | number | bigint | boolean | null;
export type PyValue = PyKey | PyValue[] | PyTuple | PyDict | PyGlobal | PyTensorRef | Uint8Array | PyPersistent;

/** The result of the caller's persistent_load, carried opaquely through the pickle. */
export class PyPersistent {
  constructor(readonly value: unknown) {}
}

export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

/** Storage classes torch writes into persistent ids, mapped to torch dtype names. */
export const STORAGE_DTYPES: Readonly<Record<string, string>> = Object.freeze({
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
});

const ALLOWED_GLOBALS = new Set<string>([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
]);

export interface UnpickleOptions {
  /** Called for BINPERSID with the persistent id; torch uses ('storage', cls, key, location, numel, ...). */
  persistentLoad?: (pid: PyValue) => PyValue;
  /** Globals allowed beyond the default list (e.g. torch.FloatTensor in the tar format's tensor records). */
  extraGlobals?: ReadonlySet<string>;
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/**
 * Reads one pickle starting at `offset`; returns the value and the offset just after STOP, so
 * the legacy format's consecutive pickles can be read one after another.
 */
export function unpickle(buf: Uint8Array, offset = 0, options: UnpickleOptions = {}): { value: PyValue; end: number } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pos = offset;

  const need = (n: number): void => {
    if (pos + n > buf.length) throw new PickleError(`pickle truncated at byte ${pos} (needs ${n} more bytes)`);
  };
  const u8 = (): number => {
    need(1);
    return buf[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new PickleError(`length ${v} too large`);
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const b = buf.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const text = (n: number): string => {
    const raw = bytes(n);
    try {
      return decoder.decode(raw);
    } catch {
      throw new PickleError(`invalid UTF-8 string at byte ${pos - n}`);
    }
  };
  const line = (): string => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0 || end - pos > 256) throw new PickleError(`unterminated GLOBAL name at byte ${pos}`);
    const s = new TextDecoder('latin1').decode(buf.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined) throw new PickleError(`stack underflow at byte ${pos - 1}`);
    if (v === MARK) throw new PickleError(`unexpected MARK on the stack at byte ${pos - 1}`);
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw new PickleError(`empty stack at byte ${pos - 1}`);
    return v;
  };
  const popMark = (): PyValue[] => {
    const items: PyValue[] = [];
    for (;;) {
      const v = stack.pop();
      if (v === undefined) throw new PickleError(`MARK not found at byte ${pos - 1}`);
      if (v === MARK) return items.reverse();
      items.push(v);
    }
  };
  const memoGet = (i: number): PyValue => {
    if (!memo.has(i)) throw new PickleError(`memo key ${i} not found`);
    return memo.get(i)!;
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const qualified = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(qualified) && !options.extraGlobals?.has(qualified)) {
      throw new PickleError(
        `refusing global ${qualified}: only torch tensors, storages and OrderedDict are allowed ` +
          `(a whole-model pickle or a hostile file; save and load model.state_dict() instead)`,
      );
    }
    return new PyGlobal(module, name);
  };
  const setItem = (dict: PyValue, key: PyValue, value: PyValue): void => {
    if (!(dict instanceof PyDict)) throw new PickleError(`SETITEM on a non-dict at byte ${pos - 1}`);
    if (!isKey(key)) throw new PickleError(`unsupported dict key type at byte ${pos - 1}`);
    dict.entries.set(key, value);
  };
  const append = (list: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(list)) throw new PickleError(`APPEND on a non-list at byte ${pos - 1}`);
    list.push(...items);
  };

  for (;;) {
    const opPos = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw new PickleError(`unsupported pickle protocol at byte ${opPos}`);
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict(false));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(readLong(bytes(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(readLong(bytes(u32())));
        break;
      case 0x47: {
        // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x55: // SHORT_BINSTRING (protocol 1 str; latin-1 like Python 3's encoding='latin1')
        stack.push(new TextDecoder('latin1').decode(bytes(u8())));
        break;
      case 0x54: // BINSTRING
        stack.push(new TextDecoder('latin1').decode(bytes(u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(resolveGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new PickleError(`STACK_GLOBAL needs two strings at byte ${opPos}`);
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) throw new PickleError(`unexpected persistent id at byte ${opPos}`);
        stack.push(options.persistentLoad(pid));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(reduce(callable, args, opPos));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) obj.attributes = state;
        else if (!(obj instanceof PyTensorRef)) throw new PickleError(`BUILD on an unsupported object at byte ${opPos}`);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItem(top(), key, value);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) throw new PickleError(`SETITEMS with an odd number of items at byte ${opPos}`);
        const dict = top();
        for (let i = 0; i < items.length; i += 2) setItem(dict, items[i]!, items[i + 1]!);
        break;
      }
      case 0x61: {
        // APPEND
        const value = pop();
        append(top(), [value]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      default:
        throw new PickleError(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${opPos}`);
    }
  }
}

function isKey(v: PyValue): v is PyKey {
  return v === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof v);
}

/** Python's little-endian two's-complement long; a number when it fits exactly. */
function readLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function intList(v: PyValue, what: string, at: number): number[] {
  if (!(v instanceof PyTuple) && !Array.isArray(v)) throw new PickleError(`${what} is not a tuple at byte ${at}`);
  const items = v instanceof PyTuple ? v.items : v;
  return items.map((x) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) throw new PickleError(`${what} holds a non-integer at byte ${at}`);
    return x;
  });
}

function reduce(callable: PyValue, args: PyValue, at: number): PyValue {
  if (!(callable instanceof PyGlobal)) throw new PickleError(`REDUCE on a non-callable at byte ${at}`);
  if (!(args instanceof PyTuple)) throw new PickleError(`REDUCE arguments are not a tuple at byte ${at}`);
  const a = args.items;
  switch (callable.qualifiedName) {
    case 'collections.OrderedDict': {
      const dict = new PyDict(true);
      if (a.length === 0) return dict;
      // Python 2.7 pickles OrderedDict as OrderedDict([[key, value], ...]).
      const items = a[0];
      if (a.length > 1 || !Array.isArray(items)) throw new PickleError(`OrderedDict with unexpected arguments at byte ${at}`);
      for (const pair of items) {
        const kv = pair instanceof PyTuple ? pair.items : pair;
        if (!Array.isArray(kv) || kv.length !== 2 || !isKey(kv[0]!)) throw new PickleError(`OrderedDict item is not a (key, value) pair at byte ${at}`);
        dict.entries.set(kv[0] as PyKey, kv[1]!);
      }
      return dict;
    }
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': {
      // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]]); the
      // first version (torch 0.2/0.3) has just the four.
      if (a.length < 4) throw new PickleError(`_rebuild_tensor_v2 with ${a.length} arguments at byte ${at}`);
      const offset = a[1];
      if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) throw new PickleError(`bad storage offset at byte ${at}`);
      return new PyTensorRef(a[0]!, offset, intList(a[2]!, 'tensor size', at), intList(a[3]!, 'tensor stride', at));
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state': {
      const data = a[0];
      if (!(data instanceof PyTensorRef)) throw new PickleError(`parameter without tensor data at byte ${at}`);
      return data;
    }
    default:
      throw new PickleError(`${callable.qualifiedName} cannot be called at byte ${at}`);
  }
}
