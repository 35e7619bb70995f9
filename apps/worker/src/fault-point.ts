// Test-only fault injection. With NODE_ENV=test and FLEET_FAULT_PAUSE=<phase>[:<epoch>], the
// process that reaches that point of a run prints one marker line and stops itself (SIGSTOP), so a
// fault test can kill -9 the worker exactly there instead of hoping its timing lands in the phase.
// Ignored in every other environment: production code paths never stop.
import { writeSync } from 'node:fs';

/**
 * Points of a run a fault test can stop at. Only the worker's own step is here: the training
 * process's phases (loading data, mid-epoch, checkpointing) are caught from outside by the test.
 */
export type FaultPhase = 'metrics';

function requested(phase: FaultPhase, epoch: number | undefined): boolean {
  if (process.env.NODE_ENV !== 'test') return false;
  const raw = process.env.FLEET_FAULT_PAUSE;
  if (!raw) return false;
  const [name, at] = raw.split(':');
  if (name !== phase) return false;
  return at === undefined || Number(at) === epoch;
}

/** Stops this process here when FLEET_FAULT_PAUSE asks for it (NODE_ENV=test only). */
export function faultPoint(phase: FaultPhase, epoch?: number): void {
  if (!requested(phase, epoch)) return;
  // Written synchronously: an asynchronous pipe write could still be queued when the process stops.
  writeSync(1, `fault point ${phase}${epoch === undefined ? '' : `:${epoch}`} reached: pid ${process.pid} stops\n`);
  process.kill(process.pid, 'SIGSTOP');
}
