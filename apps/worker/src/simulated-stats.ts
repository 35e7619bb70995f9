// Timings of a simulated worker process for bench:fleet: how long each epoch report took and its
// parts (storing the epoch in Postgres, the early-stop check, Redis events and the cancel check),
// appended once a second as one JSON line per process to <dir>/<pid>.jsonl, so a process killed
// with SIGKILL loses at most its last second. Simulated engine only: the real worker records nothing.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const FLUSH_MS = 1000;

export class SimulatedStats {
  private samples = new Map<string, number[]>();
  private readonly file: string;
  private readonly timer: NodeJS.Timeout;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, `${process.pid}.jsonl`);
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /** Adds one sample (milliseconds) under `name`. */
  readonly record = (name: string, ms: number): void => {
    const list = this.samples.get(name);
    if (list) list.push(ms);
    else this.samples.set(name, [ms]);
  };

  /** Writes the samples gathered since the last flush. */
  flush(): void {
    if (this.samples.size === 0) return;
    const line = JSON.stringify({ pid: process.pid, samples: Object.fromEntries(this.samples) });
    this.samples = new Map();
    appendFileSync(this.file, `${line}\n`);
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
