// Loads PyTorch state dicts (.pth) in the formats torch.save has written: the zip archive of
// data.pkl + data/<key> (torch >= 1.6, e.g. resnet18-f37072fd.pth), the legacy sequence of pickles
// followed by raw storages (torch 0.4 - 1.5, and 1.6+ with _use_new_zipfile_serialization=False) and
// the older tar archive (torch <= 0.3: torchvision's 2017 resnet18-5c106cde.pth is one; tar files
// report format 'legacy'). Only reads the
// file; the pickles go through our allow-listed unpickler, never through anything that executes.
import { readFile } from 'node:fs/promises';
import { PickleError, PyDict, PyGlobal, PyPersistent, PyTensorRef, PyTuple, PyValue, STORAGE_DTYPES, unpickle } from './unpickler.js';
import { isTar, readTarMembers } from './tar-reader.js';
import { isZip, ZipReader } from './zip-reader.js';

export interface StateTensor {
  shape: number[];
  /** torch dtype name: 'float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'uint8', ... */
  dtype: string;
  /** Floating dtypes are converted to Float32Array; int16/int8 widen to Int32Array, bool to Uint8Array. */
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

export type StateDict = Map<string, StateTensor>;

export type WeightsFormat = 'legacy' | 'zip';

export interface WeightsEntry {
  key: string;
  shape: number[];
  dtype: string;
}

export interface WeightsInspection {
  format: WeightsFormat;
  entries: WeightsEntry[];
}

/** Any problem reading a weights file; the message names the file and what is wrong. */
export class WeightsError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'WeightsError';
  }
}

const ELEMENT_SIZE: Readonly<Record<string, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** A storage as the pickle refers to it; `bytes` is filled once the storage data has been read. */
interface StorageRef {
  key: string;
  dtype: string;
  /** Elements the pickle says the storage holds. */
  numel: number;
  /** Legacy view storages: element offset into the root storage. */
  elementOffset: number;
  bytes?: Uint8Array;
}

interface ParsedPth {
  format: WeightsFormat;
  tensors: { key: string; ref: PyTensorRef; storage: StorageRef }[];
}

/** Loads a state dict; floating tensors become Float32Array, views are materialised contiguous. */
export async function loadStateDict(file: string): Promise<StateDict> {
  return decodeStateDict(await readWeightsFile(file), file);
}

/** loadStateDict on bytes already in memory; `file` names them in errors. */
export function decodeStateDict(buf: Uint8Array, file: string): StateDict {
  const parsed = parsePth(buf, file);
  const out: StateDict = new Map();
  for (const { key, ref, storage } of parsed.tensors) {
    assertViewInsideStorage(key, ref, storage, file);
    out.set(key, { shape: ref.size, dtype: storage.dtype, data: materialise(ref, storage) });
  }
  return out;
}

/**
 * A tensor's (offset, sizes, strides) must address only elements of its storage: a corrupt file
 * can claim any view, and materialise() must never read outside the storage's bytes.
 */
function assertViewInsideStorage(key: string, ref: PyTensorRef, storage: StorageRef, file: string): void {
  const available = (storage.bytes?.length ?? 0) / ELEMENT_SIZE[storage.dtype]!;
  const numel = ref.size.reduce((a, b) => a * b, 1);
  if (numel === 0) return;
  let last = ref.storageOffset;
  const ok =
    Number.isSafeInteger(ref.storageOffset) &&
    ref.storageOffset >= 0 &&
    ref.size.length === ref.stride.length &&
    ref.size.every((n, d) => {
      const stride = ref.stride[d]!;
      if (!Number.isSafeInteger(n) || n < 0 || !Number.isSafeInteger(stride) || stride < 0) return false;
      last += (n - 1) * stride;
      return true;
    });
  if (!ok || last >= available) {
    throw new WeightsError(
      file,
      `tensor ${key} (shape [${ref.size.join(', ')}], stride [${ref.stride.join(', ')}], offset ${ref.storageOffset}) reaches outside its storage of ${available} elements`,
    );
  }
}

/** Format, keys, shapes and dtypes of a weights file, without converting tensor data. */
export async function inspectWeights(file: string): Promise<WeightsInspection> {
  const parsed = parsePth(await readWeightsFile(file), file);
  return { format: parsed.format, entries: parsed.tensors.map(({ key, ref, storage }) => ({ key, shape: ref.size, dtype: storage.dtype })) };
}

async function readWeightsFile(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new WeightsError(file, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(err)})`);
  }
}

/** Parses the file's pickles and locates every tensor's storage bytes (exported for tests). */
export function parsePth(buf: Uint8Array, file: string): ParsedPth {
  try {
    if (isZip(buf)) return parseZip(buf, file);
    if (isTar(buf)) return parseTar(buf, file);
    if (buf.length >= 2 && buf[0] === 0x80 && buf[1] <= 5) return parseLegacy(buf, file);
  } catch (err) {
    if (err instanceof WeightsError) throw err;
    const reason =
      err instanceof PickleError ? (err.message.startsWith('refusing') ? `unsafe pickle: ${err.message}` : `malformed pickle: ${err.message}`) : err instanceof Error ? err.message : String(err);
    throw new WeightsError(file, reason);
  }
  throw new WeightsError(file, `not a PyTorch weights file (${describeMagic(buf)})`);
}

function describeMagic(buf: Uint8Array): string {
  if (buf.length === 0) return 'the file is empty';
  if (buf[0] === 0xff && buf[1] === 0xd8) return 'it looks like a JPEG image';
  if (buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47) return 'it looks like a PNG image';
  const head = Array.from(buf.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `starts with bytes ${head}; expected a zip archive or a pickle`;
}

function storageFromPid(pid: PyValue, file: string): { root: StorageRef; view?: { key: string; offset: number; numel: number } } {
  const items = pid instanceof PyTuple ? pid.items : null;
  if (!items || items[0] !== 'storage' || items.length < 5) throw new WeightsError(file, 'unexpected persistent id in the pickle (not a torch storage)');
  const [, type, key, , numel] = items;
  if (!(type instanceof PyGlobal) || !(type.name in STORAGE_DTYPES)) throw new WeightsError(file, 'persistent id without a storage class');
  if (typeof key !== 'string' || typeof numel !== 'number') throw new WeightsError(file, `storage reference ${String(key)} is malformed`);
  const root: StorageRef = { key, dtype: STORAGE_DTYPES[type.name]!, numel, elementOffset: 0 };
  const view = items[5];
  if (!(view instanceof PyTuple)) return { root };
  // Legacy storage views (torch < 0.4): (view_key, offset, view_size) in elements of the root.
  const [viewKey, offset, size] = view.items;
  if (typeof viewKey !== 'string' || typeof offset !== 'number' || typeof size !== 'number') throw new WeightsError(file, `storage view of ${key} is malformed`);
  return { root, view: { key: viewKey, offset, numel: size } };
}

function parseZip(buf: Uint8Array, file: string): ParsedPth {
  let zip: ZipReader;
  try {
    zip = new ZipReader(buf);
  } catch (err) {
    throw new WeightsError(file, `broken zip archive: ${(err as Error).message}`);
  }
  const pkl = [...zip.entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) throw new WeightsError(file, 'zip archive has no <archive>/data.pkl (not a torch.save file)');
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const byteorder = zip.entries.has(`${prefix}byteorder`) ? new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim() : 'little';
  if (byteorder !== 'little') throw new WeightsError(file, `byteorder "${byteorder}" is not supported`);
  const storages = new Map<string, StorageRef>();
  const { value } = unpickle(zip.read(pkl), 0, {
    persistentLoad: (pid) => {
      const ref = storageFromPid(pid, file).root;
      const known = storages.get(ref.key);
      if (known) return new PyPersistent(known);
      const name = `${prefix}data/${ref.key}`;
      if (!zip.entries.has(name)) throw new WeightsError(file, `storage ${name} is missing from the archive`);
      ref.bytes = zip.read(name);
      storages.set(ref.key, ref);
      return new PyPersistent(ref);
    },
  });
  return { format: 'zip', tensors: collectTensors(value, file) };
}

function parseLegacy(buf: Uint8Array, file: string): ParsedPth {
  const magic = unpickle(buf, 0);
  if (magic.value !== LEGACY_MAGIC && magic.value !== Number(LEGACY_MAGIC)) {
    throw new WeightsError(file, 'a pickle, but not a torch.save file (missing the torch magic number)');
  }
  const protocol = unpickle(buf, magic.end);
  if (protocol.value !== LEGACY_PROTOCOL) throw new WeightsError(file, `unsupported torch protocol version ${String(protocol.value)}`);
  const sysInfo = unpickle(buf, protocol.end);
  if (sysInfo.value instanceof PyDict && sysInfo.value.entries.get('little_endian') === false) {
    throw new WeightsError(file, 'big-endian files are not supported');
  }
  const storages = new Map<string, StorageRef>();
  const views = new Map<string, StorageRef>();
  const result = unpickle(buf, sysInfo.end, {
    persistentLoad: (pid) => {
      const { root, view } = storageFromPid(pid, file);
      const known = storages.get(root.key) ?? root;
      storages.set(root.key, known);
      if (!view) return new PyPersistent(known);
      const knownView = views.get(view.key) ?? { key: root.key, dtype: root.dtype, numel: view.numel, elementOffset: view.offset };
      views.set(view.key, knownView);
      return new PyPersistent(knownView);
    },
  });
  const keys = unpickle(buf, result.end);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) throw new WeightsError(file, 'storage key list is malformed');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = keys.end;
  for (const key of keys.value as string[]) {
    const ref = storages.get(key);
    if (!ref) throw new WeightsError(file, `storage ${key} is listed but never referenced`);
    if (pos + 8 > buf.length) throw new WeightsError(file, `truncated: storage ${key} header missing at byte ${pos}`);
    const numel = Number(view.getBigInt64(pos, true));
    pos += 8;
    const nbytes = numel * ELEMENT_SIZE[ref.dtype]!;
    if (numel < ref.numel) throw new WeightsError(file, `storage ${key} holds ${numel} elements, the pickle expects ${ref.numel}`);
    if (pos + nbytes > buf.length) throw new WeightsError(file, `truncated: storage ${key} needs ${nbytes} bytes at byte ${pos}, file has ${buf.length - pos}`);
    ref.bytes = buf.subarray(pos, pos + nbytes);
    pos += nbytes;
  }
  for (const v of views.values()) {
    const root = storages.get(v.key);
    if (!root?.bytes) throw new WeightsError(file, `storage view of ${v.key} has no root storage`);
    const size = ELEMENT_SIZE[v.dtype]!;
    v.bytes = root.bytes.subarray(v.elementOffset * size, (v.elementOffset + v.numel) * size);
  }
  for (const [key, ref] of storages) if (!ref.bytes) throw new WeightsError(file, `storage ${key} has no data`);
  return { format: 'legacy', tensors: collectTensors(result.value, file) };
}

/** Tensor classes the tar format names in its tensor records (never called, only compared). */
const TAR_TENSOR_GLOBALS = new Set(['Float', 'Double', 'Half', 'Long', 'Int', 'Short', 'Char', 'Byte', 'Bool'].map((t) => `torch.${t}Tensor`));

/**
 * The tar format of torch <= 0.3: members `sys_info`, `pickle` (the object, tensors as persistent
 * ids), `tensors` (per tensor: a pickle (key, storage key, tensor class), then ndim as 8 bytes,
 * sizes, strides and storage offset as int64) and `storages` (count, per storage a pickle
 * (key, location, storage class) + int64 element count + raw data, then a list of storage views
 * (view key, root key, element offset, numel)).
 */
function parseTar(buf: Uint8Array, file: string): ParsedPth {
  let tar: ReturnType<typeof readTarMembers>;
  try {
    tar = readTarMembers(buf);
  } catch (err) {
    throw new WeightsError(file, `broken tar archive: ${(err as Error).message}`);
  }
  const member = (name: string): Uint8Array => {
    const m = tar.members.get(name);
    if (!m) throw new WeightsError(file, tar.complete ? `tar archive has no "${name}" member (not a torch.save file)` : `tar archive is truncated (no "${name}" member)`);
    return m;
  };
  const sysInfo = unpickle(member('sys_info')).value;
  if (sysInfo instanceof PyDict && sysInfo.entries.get('little_endian') === false) throw new WeightsError(file, 'big-endian files are not supported');

  const storages = new Map<string, StorageRef>();
  const sbuf = member('storages');
  const sview = new DataView(sbuf.buffer, sbuf.byteOffset, sbuf.byteLength);
  let r = unpickle(sbuf, 0);
  if (typeof r.value !== 'number') throw new WeightsError(file, 'storage count is malformed');
  let pos = r.end;
  for (let i = 0, n = r.value; i < n; i++) {
    r = unpickle(sbuf, pos);
    const rec = r.value instanceof PyTuple ? r.value.items : [];
    const [key, , type] = rec;
    if (rec.length !== 3 || !(type instanceof PyGlobal) || !(type.name in STORAGE_DTYPES)) throw new WeightsError(file, `storage record ${i} is malformed`);
    const dtype = STORAGE_DTYPES[type.name]!;
    pos = r.end;
    if (pos + 8 > sbuf.length) throw new WeightsError(file, `truncated: storage ${String(key)} header missing`);
    const numel = Number(sview.getBigInt64(pos, true));
    const nbytes = numel * ELEMENT_SIZE[dtype]!;
    pos += 8;
    if (numel < 0 || pos + nbytes > sbuf.length) throw new WeightsError(file, `truncated: storage ${String(key)} needs ${nbytes} bytes`);
    storages.set(String(key), { key: String(key), dtype, numel, elementOffset: 0, bytes: sbuf.subarray(pos, pos + nbytes) });
    pos += nbytes;
  }
  const views = unpickle(sbuf, pos).value;
  for (const v of Array.isArray(views) ? views : []) {
    const [viewKey, rootKey, offset, numel] = v instanceof PyTuple ? v.items : [];
    const root = storages.get(String(rootKey));
    if (!root?.bytes || typeof offset !== 'number' || typeof numel !== 'number') throw new WeightsError(file, `storage view ${String(viewKey)} is malformed`);
    const size = ELEMENT_SIZE[root.dtype]!;
    if ((offset + numel) * size > root.bytes.length) throw new WeightsError(file, `storage view ${String(viewKey)} reaches past its root storage`);
    storages.set(String(viewKey), { key: String(viewKey), dtype: root.dtype, numel, elementOffset: 0, bytes: root.bytes.subarray(offset * size, (offset + numel) * size) });
  }

  const tensors = new Map<string, PyTensorRef>();
  const tbuf = member('tensors');
  const tview = new DataView(tbuf.buffer, tbuf.byteOffset, tbuf.byteLength);
  r = unpickle(tbuf, 0);
  if (typeof r.value !== 'number') throw new WeightsError(file, 'tensor count is malformed');
  pos = r.end;
  const int64 = (): number => {
    if (pos + 8 > tbuf.length) throw new WeightsError(file, 'truncated tensor metadata');
    const v = Number(tview.getBigInt64(pos, true));
    pos += 8;
    return v;
  };
  for (let i = 0, n = r.value; i < n; i++) {
    r = unpickle(tbuf, pos, { extraGlobals: TAR_TENSOR_GLOBALS });
    const [key, storageKey] = r.value instanceof PyTuple ? r.value.items : [];
    pos = r.end;
    const storage = storages.get(String(storageKey));
    if (!storage) throw new WeightsError(file, `tensor ${String(key)} refers to missing storage ${String(storageKey)}`);
    // ndim was written as 8 bytes; torch reads the low 4 as int32.
    const ndim = int64() & 0x7fffffff;
    if (ndim > 64) throw new WeightsError(file, `tensor ${String(key)} has ${ndim} dimensions`);
    const size = Array.from({ length: ndim }, int64);
    const stride = Array.from({ length: ndim }, int64);
    tensors.set(String(key), new PyTensorRef(new PyPersistent(storage), int64(), size, stride));
  }

  const result = unpickle(member('pickle'), 0, {
    persistentLoad: (pid) => {
      if (typeof pid !== 'string' && typeof pid !== 'number') throw new WeightsError(file, 'the pickle holds a module source reference (a whole-model save); only state dicts are supported');
      const t = tensors.get(String(pid));
      if (!t) throw new WeightsError(file, `the pickle refers to tensor ${String(pid)}, which the file does not contain`);
      return t;
    },
  });
  return { format: 'legacy', tensors: collectTensors(result.value, file) };
}

const NESTED_KEYS = ['state_dict', 'model_state_dict'];
const MAX_TENSOR_ELEMENTS = 2 ** 28;

function collectTensors(value: PyValue, file: string): ParsedPth['tensors'] {
  if (!(value instanceof PyDict)) throw new WeightsError(file, `expected a state dict, found ${describe(value)}`);
  let dict = value;
  const allTensors = [...dict.entries.values()].every((v) => v instanceof PyTensorRef);
  if (!allTensors) {
    const nestedKey = NESTED_KEYS.find((k) => dict.entries.get(k) instanceof PyDict);
    if (!nestedKey) {
      const bad = [...dict.entries].filter(([, v]) => !(v instanceof PyTensorRef)).map(([k]) => String(k));
      throw new WeightsError(file, `not a state dict of tensors: entries ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', ...' : ''} are not tensors (and there is no nested "state_dict")`);
    }
    dict = dict.entries.get(nestedKey) as PyDict;
    const bad = [...dict.entries].filter(([, v]) => !(v instanceof PyTensorRef)).map(([k]) => String(k));
    if (bad.length > 0) throw new WeightsError(file, `"${nestedKey}" is not a plain dict of tensors: ${bad.slice(0, 5).join(', ')} are not tensors`);
  }
  const out: ParsedPth['tensors'] = [];
  for (const [key, v] of dict.entries) {
    if (typeof key !== 'string') throw new WeightsError(file, `state dict key ${String(key)} is not a string`);
    const ref = v as PyTensorRef;
    const storage = ref.storage instanceof PyPersistent ? (ref.storage.value as StorageRef) : null;
    if (!storage) throw new WeightsError(file, `tensor ${key} has no storage`);
    if (ref.size.length !== ref.stride.length) throw new WeightsError(file, `tensor ${key}: size ${fmt(ref.size)} and stride ${fmt(ref.stride)} differ in length`);
    const natural = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;
    if (![...ref.size, ...ref.stride, ref.storageOffset].every(natural)) {
      throw new WeightsError(file, `tensor ${key} has an invalid size ${fmt(ref.size)}, stride ${fmt(ref.stride)} or offset ${ref.storageOffset}`);
    }
    const numel = ref.size.reduce((a, b) => a * b, 1);
    // Stride-0 (expanded) views could claim any size; refuse what no ResNet checkpoint holds.
    if (numel > MAX_TENSOR_ELEMENTS) throw new WeightsError(file, `tensor ${key} has ${numel} elements (shape ${fmt(ref.size)}), more than ${MAX_TENSOR_ELEMENTS}`);
    if (numel > 0) {
      const last = ref.storageOffset + ref.size.reduce((acc, s, i) => acc + (s - 1) * ref.stride[i]!, 0);
      if (last >= storage.numel) throw new WeightsError(file, `tensor ${key} (shape ${fmt(ref.size)}, offset ${ref.storageOffset}) reaches past its storage of ${storage.numel} elements`);
    }
    out.push({ key, ref, storage });
  }
  return out;
}

function describe(v: PyValue): string {
  if (v instanceof PyTensorRef) return 'a single tensor';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof PyTuple) return 'a tuple';
  return v === null ? 'None' : typeof v;
}

function fmt(a: number[]): string {
  return `[${a.join(', ')}]`;
}

type OutArray = StateTensor['data'];

function allocate(dtype: string, n: number): OutArray {
  switch (dtype) {
    case 'int64':
      return new BigInt64Array(n);
    case 'int32':
    case 'int16':
    case 'int8':
      return new Int32Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
    default:
      return new Float32Array(n);
  }
}

function reader(dtype: string, view: DataView): (i: number) => number | bigint {
  switch (dtype) {
    case 'float32':
      return (i) => view.getFloat32(i * 4, true);
    case 'float64':
      return (i) => view.getFloat64(i * 8, true);
    case 'float16':
      return (i) => halfToFloat(view.getUint16(i * 2, true));
    case 'bfloat16':
      return (i) => bf16ToFloat(view.getUint16(i * 2, true));
    case 'int64':
      return (i) => view.getBigInt64(i * 8, true);
    case 'int32':
      return (i) => view.getInt32(i * 4, true);
    case 'int16':
      return (i) => view.getInt16(i * 2, true);
    case 'int8':
      return (i) => view.getInt8(i);
    case 'uint8':
    case 'bool':
      return (i) => view.getUint8(i);
    default:
      throw new Error(`unsupported dtype ${dtype}`);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function bf16ToFloat(bits: number): number {
  u32[0] = bits << 16;
  return f32[0]!;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function materialise(ref: PyTensorRef, storage: StorageRef): OutArray {
  const bytes = storage.bytes!;
  const numel = ref.size.reduce((a, b) => a * b, 1);
  const out = allocate(storage.dtype, numel);
  const elem = ELEMENT_SIZE[storage.dtype]!;
  if (numel === 0) return out;
  const contiguous = isContiguous(ref.size, ref.stride);
  // Fast path: the dtype needs no conversion and the view is contiguous: one byte copy.
  const sameLayout = storage.dtype === 'float32' || storage.dtype === 'int64' || storage.dtype === 'int32' || storage.dtype === 'uint8' || storage.dtype === 'bool';
  if (contiguous && sameLayout) {
    const start = ref.storageOffset * elem;
    new Uint8Array(out.buffer).set(bytes.subarray(start, start + numel * elem));
    return out;
  }
  const read = reader(storage.dtype, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const nd = ref.size.length;
  const index = new Array<number>(nd).fill(0);
  let src = ref.storageOffset;
  for (let i = 0; i < numel; i++) {
    (out as unknown as (number | bigint)[])[i] = read(src);
    // Odometer over the view's indices, innermost dimension fastest (row-major like torch).
    for (let d = nd - 1; d >= 0; d--) {
      index[d]!++;
      src += ref.stride[d]!;
      if (index[d]! < ref.size[d]!) break;
      src -= ref.stride[d]! * ref.size[d]!;
      index[d] = 0;
    }
  }
  return out;
}

function isContiguous(size: number[], stride: number[]): boolean {
  let expected = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expected) return false;
    expected *= size[d]!;
  }
  return true;
}
