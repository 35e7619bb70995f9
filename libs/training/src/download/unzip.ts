// Unpacks a downloaded zip into a folder, refusing entries that would land outside it (zip-slip:
// absolute paths, '..' segments, drive letters) before writing anything.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative } from 'node:path';
import { unzipSync } from 'fflate';

export class UnsafeZipError extends Error {
  constructor(
    readonly entry: string,
    zip: string,
  ) {
    super(`${zip}: refusing entry "${entry}" that would be written outside the target folder`);
    this.name = 'UnsafeZipError';
  }
}

/** Resolved path of a zip entry inside `dir`, or null if the entry would escape it. */
export function safeEntryPath(dir: string, entry: string): string | null {
  const name = entry.replace(/\\/g, '/');
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name) || isAbsolute(name)) return null;
  if (name.split('/').includes('..')) return null;
  const target = normalize(join(dir, name));
  const rel = relative(dir, target);
  return rel.startsWith('..') || isAbsolute(rel) ? null : target;
}

export interface UnzipResult {
  files: number;
  bytes: number;
}

/** Extracts every entry of `zipFile` under `dir`; validates all names first. */
export async function unzipTo(zipFile: string, dir: string): Promise<UnzipResult> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(await readFile(zipFile));
  } catch (err) {
    throw new Error(`${zipFile}: not a readable zip archive (${(err as Error).message})`);
  }
  const plan: [string, Uint8Array, boolean][] = [];
  for (const [name, data] of Object.entries(entries)) {
    const target = safeEntryPath(dir, name);
    if (target === null) throw new UnsafeZipError(name, zipFile);
    plan.push([target, data, name.endsWith('/')]);
  }
  let files = 0;
  let bytes = 0;
  for (const [target, data, isDir] of plan) {
    if (isDir) {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(join(target, '..'), { recursive: true });
    await writeFile(target, data);
    files++;
    bytes += data.length;
  }
  return { files, bytes };
}

