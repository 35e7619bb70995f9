// A child process started for a test: its output kept line by line, waits on lines or exit, and a
// teardown that kills it with its whole process group (workers fork training children).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

export interface ManagedProcessOptions {
  /** Arguments after `node`: the script and its flags. */
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Prefix of echoed output lines; output is echoed to stderr only when FLEET_TEST_VERBOSE=1. */
  label: string;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ManagedProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<ProcessExit>;
  private exit: ProcessExit | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(readonly options: ManagedProcessOptions) {
    // detached: the process leads its own group, so teardown can kill it and its children at once.
    this.child = spawn(process.execPath, options.args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const verbose = process.env.FLEET_TEST_VERBOSE === '1';
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let buffer = '';
      stream?.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const parts = buffer.split('\n');
        buffer = parts.pop() ?? '';
        for (const line of parts) {
          this.lines.push(line);
          if (verbose) process.stderr.write(`[${options.label}] ${line}\n`);
        }
        this.notify();
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        this.notify();
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.options.label} did not start`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  get output(): string {
    return this.lines.join('\n');
  }

  /** Resolves with the first output line matching `pattern` (already printed or still to come). */
  waitForLine(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const check = (): void => {
        for (const line of this.lines) {
          const match = line.match(pattern);
          if (match) return finish(() => resolve(match));
        }
        if (this.exit) finish(() => reject(new Error(`${this.options.label} exited (${this.exit?.signal ?? `code ${this.exit?.code}`}) before printing ${pattern}; output:\n${this.tail()}`)));
      };
      const finish = (then: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        then();
      };
      timer = setTimeout(() => finish(() => reject(new Error(`${this.options.label} printed no line matching ${pattern} within ${timeoutMs} ms; output:\n${this.tail()}`))), timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Sends a signal to the process only (not its group). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, signal);
  }

  /** SIGKILLs the whole process group and waits for the process to be gone. */
  async kill(): Promise<ProcessExit> {
    if (this.running) {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        // Group already gone.
      }
    }
    return this.exited;
  }

  tail(lines = 40): string {
    return this.lines.slice(-lines).join('\n');
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Whether a process with this pid exists (and is not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    // /proc/<pid>/stat: "pid (comm) S ..." — state Z is a zombie waiting to be reaped.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** Pids of the direct children of `pid` (read from /proc, Linux). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) out.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}
