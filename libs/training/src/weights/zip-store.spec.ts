import { unzipSync } from 'fflate';
import { ZipReader } from './zip-reader.js';
import { zipStored } from './zip-store.js';

/** Bitwise CRC-32 (IEEE), independent of the zlib one the writer uses. */
function referenceCrc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('zipStored', () => {
  const entries = [
    { name: 'archive/data/0', data: bytes(1000, 1) },
    { name: 'archive/data/1', data: bytes(3, 2) },
    { name: 'archive/data/2', data: new Uint8Array(0) },
    { name: 'archive/data.pkl', data: bytes(77, 3) },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ];
  const file = Buffer.concat(zipStored(entries));

  it('is a zip that another reader (fflate) and ours read back entry for entry', () => {
    const unzipped = unzipSync(file);
    expect(Object.keys(unzipped)).toEqual(entries.map((e) => e.name));
    const reader = new ZipReader(file);
    for (const e of entries) {
      expect(Buffer.from(unzipped[e.name]!).equals(Buffer.from(e.data))).toBe(true);
      expect(Buffer.from(reader.read(e.name)).equals(Buffer.from(e.data))).toBe(true);
    }
  });

  it('records each entry stored with its CRC-32 and sizes, and its data on a 64-byte boundary (as torch.save)', () => {
    const reader = new ZipReader(file);
    for (const e of entries) {
      const entry = reader.entries.get(e.name)!;
      expect(entry).toMatchObject({ method: 0, size: e.data.length, compressedSize: e.data.length });
      const local = entry.localHeaderOffset;
      expect(file.readUInt32LE(local + 14)).toBe(referenceCrc32(e.data));
      const dataStart = local + 30 + file.readUInt16LE(local + 26) + file.readUInt16LE(local + 28);
      expect(dataStart % 64).toBe(0);
      expect(Buffer.from(file.subarray(dataStart, dataStart + e.data.length)).equals(Buffer.from(e.data))).toBe(true);
    }
  });

  it('references the entries instead of copying them', () => {
    const data = bytes(4096, 9);
    const chunks = zipStored([{ name: 'a', data }]);
    expect(chunks).toContain(data);
  });

  it('depends on the contents only (no clock in it)', () => {
    expect(Buffer.concat(zipStored(entries)).equals(file)).toBe(true);
  });
});
