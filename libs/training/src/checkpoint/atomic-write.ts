// Writes a file so that readers never see it torn: the bytes go to a temporary file in the same
// folder, are fsynced, then renamed over the target. A failed write leaves no temporary behind.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Lets `fill(temp)` write a temporary file beside `file` (any way it likes: chunks, a stream, a
 * copy), then fsyncs it and renames it over `file`. If `fill` or the sync fails, the temporary is
 * removed and the error rethrown; `file` is untouched.
 */
export async function replaceFileAtomically(file: string, fill: (temp: string) => Promise<void>): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await fill(temp);
    const fh = await open(temp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Writes `chunks`, in order, to `file` atomically. */
export async function writeFileAtomically(file: string, chunks: readonly Uint8Array[]): Promise<void> {
  await replaceFileAtomically(file, async (temp) => {
    const fh = await open(temp, 'w');
    try {
      for (const chunk of chunks) await fh.write(chunk);
    } finally {
      await fh.close();
    }
  });
}
