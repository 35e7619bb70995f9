// Reads entries of an in-memory zip archive through its central directory, without copying
// STORED entries (torch writes its tensor storages STORED, 64-byte aligned). Throws plain Errors
// with a reason; the callers wrap them with the file name.
import { inflateSync } from 'fflate';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const CEN_SIG = 0x02014b50;
const LOC_SIG = 0x04034b50;

export function isZip(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
}

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const eocd = this.findEocd();
    const count = this.view.getUint16(eocd + 10, true);
    const cdSize = this.view.getUint32(eocd + 12, true);
    const cdOffset = this.view.getUint32(eocd + 16, true);
    if (count === 0xffff || cdOffset === 0xffffffff) throw new Error('zip64 archives are not supported');
    if (cdOffset + cdSize > eocd) throw new Error('zip central directory lies outside the file (truncated?)');
    let p = cdOffset;
    const decoder = new TextDecoder();
    for (let i = 0; i < count; i++) {
      if (p + 46 > buf.length || this.view.getUint32(p, true) !== CEN_SIG) throw new Error(`bad zip central directory entry ${i}`);
      const method = this.view.getUint16(p + 10, true);
      const compressedSize = this.view.getUint32(p + 20, true);
      const size = this.view.getUint32(p + 24, true);
      const nameLen = this.view.getUint16(p + 28, true);
      const extraLen = this.view.getUint16(p + 30, true);
      const commentLen = this.view.getUint16(p + 32, true);
      const localHeaderOffset = this.view.getUint32(p + 42, true);
      const name = decoder.decode(buf.subarray(p + 46, p + 46 + nameLen));
      this.entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  /** The entry's bytes; a view into the archive for STORED entries. */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new Error(`zip entry ${name} is missing`);
    const p = e.localHeaderOffset;
    if (p + 30 > this.buf.length || this.view.getUint32(p, true) !== LOC_SIG) throw new Error(`zip entry ${name} has a bad local header`);
    const start = p + 30 + this.view.getUint16(p + 26, true) + this.view.getUint16(p + 28, true);
    const end = start + e.compressedSize;
    if (end > this.buf.length) throw new Error(`zip entry ${name} is truncated`);
    const raw = this.buf.subarray(start, end);
    if (e.method === 0) return raw;
    if (e.method === 8) {
      const out = inflateSync(raw);
      if (out.length !== e.size) throw new Error(`zip entry ${name} inflated to ${out.length} bytes, expected ${e.size}`);
      return out;
    }
    throw new Error(`zip entry ${name} uses unsupported compression method ${e.method}`);
  }

  private findEocd(): number {
    const min = Math.max(0, this.buf.length - 22 - 0xffff);
    for (let p = this.buf.length - 22; p >= min; p--) {
      if (this.view.getUint32(p, true) === EOCD_SIG) return p;
    }
    throw new Error('zip end-of-central-directory record not found (truncated or not a zip)');
  }
}
