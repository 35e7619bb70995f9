// Reads member files of an in-memory (ustar/PAX) tar archive, as written by Python's tarfile for
// the torch <= 0.3 .pth format. Extended PAX headers are skipped: torch's member names are short.

export function isTar(buf: Uint8Array): boolean {
  return buf.length >= 512 && new TextDecoder('latin1').decode(buf.subarray(257, 262)) === 'ustar';
}

function field(buf: Uint8Array, start: number, len: number): string {
  const raw = buf.subarray(start, start + len);
  const end = raw.indexOf(0);
  return new TextDecoder('latin1').decode(end < 0 ? raw : raw.subarray(0, end));
}

/**
 * Regular-file members by name (views into `buf`), and whether the end-of-archive marker was
 * reached. Throws plain Errors; callers add the file name.
 */
export function readTarMembers(buf: Uint8Array): { members: Map<string, Uint8Array>; complete: boolean } {
  const members = new Map<string, Uint8Array>();
  let pos = 0;
  while (pos + 512 <= buf.length) {
    const header = buf.subarray(pos, pos + 512);
    if (header.every((b) => b === 0)) return { members, complete: true };
    const sizeText = field(header, 124, 12).trim();
    if (!/^[0-7]+$/.test(sizeText)) throw new Error(`tar header at byte ${pos} has a bad size field`);
    const size = parseInt(sizeText, 8);
    const type = String.fromCharCode(header[156]!);
    const prefix = field(header, 345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(header, 0, 100);
    const start = pos + 512;
    if (start + size > buf.length) throw new Error(`tar member ${name} is truncated`);
    if (type === '0' || type === '\0') members.set(name, buf.subarray(start, start + size));
    pos = start + Math.ceil(size / 512) * 512;
  }
  return { members, complete: false };
}
