// The artifact store as a folder that every machine mounts (NFS, CephFS, a cluster filesystem):
// ARTIFACTS_URL=file:///mnt/fleet-artifacts. Same keys and the same publish protocol as S3, so each
// worker trains in its local ARTIFACTS_DIR and only finished files cross the network. An object
// appears by rename(2) of a fsynced temp file in its folder: whole or not at all.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { replaceFileAtomically } from '@fleet/training/checkpoint/atomic-write.js';
import { assertKey, assertPrefix, type ArtifactStore, type StoredObject } from './artifact-store.js';

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The message of an error, also one made in another realm (Node's fs errors under Jest's VM). */
function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

export class DirArtifactStore implements ArtifactStore {
  readonly url: string;

  constructor(private readonly root: string) {
    this.url = `file://${root}`;
  }

  async check({ write }: { write: boolean }): Promise<void> {
    try {
      if (!(await stat(this.root)).isDirectory()) throw new Error('not a folder');
      if (write) {
        const probe = path.join(this.root, `.probe-${randomBytes(6).toString('hex')}`);
        await writeFile(probe, '');
        await rm(probe, { force: true });
      }
    } catch (err) {
      throw new Error(`artifact store ${this.url} is not usable${write ? ' for writing' : ''}: ${messageOf(err)}`);
    }
  }

  private file(key: string): string {
    assertKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  /** Runs `fill(temp)` then makes the temp file durable and renames it to the key's file. */
  private async place(key: string, fill: (temp: string) => Promise<void>): Promise<void> {
    const target = this.file(key);
    await mkdir(path.dirname(target), { recursive: true });
    await replaceFileAtomically(target, fill);
  }

  putFile(key: string, file: string): Promise<void> {
    return this.place(key, (temp) => copyFile(file, temp));
  }

  putBytes(key: string, bytes: Uint8Array): Promise<void> {
    return this.place(key, (temp) => writeFile(temp, bytes));
  }

  async getBytes(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.file(key));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async openRead(key: string): Promise<{ stream: Readable; bytes: number } | undefined> {
    const file = this.file(key);
    // Opened before the size is read: a later delete (unlink) cannot cut the stream short.
    let fh;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const { size } = await fh.stat();
    // The stream owns the handle and closes it (a bare fd would be closed again when the handle is collected).
    return { stream: fh.createReadStream(), bytes: size };
  }

  async list(prefix: string): Promise<StoredObject[]> {
    assertPrefix(prefix);
    const out: StoredObject[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue; // temp files and probes
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full, `${keyPrefix}${entry.name}/`);
        else if (entry.isFile()) {
          const info = await stat(full).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
          if (info) out.push({ key: `${keyPrefix}${entry.name}`, bytes: info.size, lastModified: info.mtime });
        }
      }
    };
    await walk(prefix === '' ? this.root : path.join(this.root, ...prefix.slice(0, -1).split('/')), prefix);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const file = this.file(key);
      await rm(file, { force: true });
      // Empty folders left behind go too, up to the root: a deleted run leaves nothing.
      for (let dir = path.dirname(file); dir !== this.root && dir.startsWith(this.root); dir = path.dirname(dir)) {
        try {
          await rmdir(dir);
        } catch {
          break; // not empty (or already gone)
        }
      }
    }
  }
}
