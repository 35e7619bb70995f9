// Training checkpoints: everything needed to continue a run bit for bit after epoch k (weights,
// BatchNorm statistics and counters, momentum buffers, RNG state, best metrics, history). One
// file, `latest.ckpt`, replaced atomically after each epoch: written to a temp file in the same
// folder, fsynced, then renamed over the old one, so a crash leaves either the old or the new
// checkpoint, never a torn one. Format: "FFCKPT1\n", uint32 LE header length, JSON header, then
// the float32 tensors back to back (little endian, as the header's offsets say).
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EpochMetrics, TrainHyperparams } from '../contracts.js';
import type { RngState } from '../rng.js';
import { writeFileAtomically } from './atomic-write.js';

const MAGIC = 'FFCKPT1\n';
export const CHECKPOINT_FILE = 'latest.ckpt';

export interface CheckpointTensor {
  shape: number[];
  data: Float32Array;
}

export interface CheckpointMeta {
  version: 1;
  hyper: TrainHyperparams;
  classes: string[];
  /** epochs completed (1-based number of the last finished epoch) */
  epoch: number;
  rngState: RngState;
  bestValAcc: number;
  bestEpoch: number;
  history: EpochMetrics[];
  /** BatchNorm num_batches_tracked by torch prefix */
  numBatchesTracked: Record<string, number>;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  /** model tensors by torch key (our layouts), momentum buffers as `momentum/<key>` */
  tensors: Map<string, CheckpointTensor>;
}

interface HeaderEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

export async function writeCheckpoint(dir: string, ckpt: Checkpoint): Promise<string> {
  await mkdir(dir, { recursive: true });
  const entries: HeaderEntry[] = [];
  let offset = 0;
  for (const [name, t] of ckpt.tensors) {
    entries.push({ name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length * 4;
  }
  const header = Buffer.from(JSON.stringify({ meta: ckpt.meta, tensors: entries }), 'utf8');
  const prefix = Buffer.alloc(MAGIC.length + 4);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(header.length, MAGIC.length);
  const target = path.join(dir, CHECKPOINT_FILE);
  const tensors = [...ckpt.tensors.values()].map((t) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  await writeFileAtomically(target, [prefix, header, ...tensors]);
  return target;
}

/** The checkpoint in `dir`, or undefined when there is none. Throws on a corrupt file. */
export async function readCheckpoint(dir: string): Promise<Checkpoint | undefined> {
  const file = path.join(dir, CHECKPOINT_FILE);
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (buf.length < MAGIC.length + 4 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) throw new Error(`${file}: not a finetune checkpoint`);
  const headerLength = buf.readUInt32LE(MAGIC.length);
  const dataStart = MAGIC.length + 4 + headerLength;
  const header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, dataStart)) as { meta: CheckpointMeta; tensors: HeaderEntry[] };
  const tensors = new Map<string, CheckpointTensor>();
  for (const e of header.tensors) {
    const start = dataStart + e.offset;
    if (start + e.length * 4 > buf.length) throw new Error(`${file}: truncated at tensor ${e.name}`);
    // Copy into an aligned buffer (the file's offsets need not be 4-byte aligned in memory).
    const data = new Float32Array(e.length);
    new Uint8Array(data.buffer).set(buf.subarray(start, start + e.length * 4));
    tensors.set(e.name, { shape: e.shape, data });
  }
  if (header.meta.version !== 1) throw new Error(`${file}: unsupported checkpoint version ${String(header.meta.version)}`);
  return { meta: header.meta, tensors };
}
