// Writes a file so that readers never see it torn: the bytes go to a temporary file in the same
// folder, are fsynced, then renamed over the target. A failed write leaves no temporary behind.
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Writes `chunks`, in order, to `file` atomically. */
export async function writeFileAtomically(file: string, chunks: readonly Uint8Array[]): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    for (const chunk of chunks) await fh.write(chunk);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await rename(tmp, file);
}
