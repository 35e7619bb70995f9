// A one-line progress bar for terminals; prints nothing when the stream is not a TTY (logs, CI).
import type { DownloadProgress } from './http-download.js';

const mb = (n: number): string => (n / 1048576).toFixed(1);

/** Returns an onProgress callback drawing `label [#####.....] 12.3/45.6 MB` and a done() that ends the line. */
export function createProgressBar(label: string, stream: NodeJS.WriteStream = process.stderr): { onProgress: (p: DownloadProgress) => void; done: () => void } {
  let last = 0;
  let drawn = false;
  if (!stream.isTTY) return { onProgress: () => undefined, done: () => undefined };
  return {
    onProgress: ({ received, total }) => {
      const now = Date.now();
      if (now - last < 100 && (total === undefined || received < total)) return;
      last = now;
      drawn = true;
      const width = 30;
      const bar = total ? '#'.repeat(Math.round((received / total) * width)).padEnd(width, '.') : '';
      const text = total ? `${label} [${bar}] ${mb(received)}/${mb(total)} MB` : `${label} ${mb(received)} MB`;
      stream.write(`\r${text}`);
    },
    done: () => {
      if (drawn) stream.write('\n');
    },
  };
}
