// `finetune cancel ID`: cancels an experiment, or every queued or running experiment of a sweep.
// Cancelling something already finished is not an error: the command reports its final status.
import type { Command } from 'commander';
import { CliError, ExitCode } from '../cli-error.js';
import { clientFromOptions, isFinal, withApiOptions } from '../api-client.js';

export function registerCancelCommand(program: Command): void {
  withApiOptions(
    program
      .command('cancel')
      .description('cancel an experiment, or all unfinished experiments of a sweep')
      .argument('<id>', 'experiment or sweep id'),
  ).action(async (id: string, opts: { api?: string; apiKey?: string }) => {
    const client = clientFromOptions(opts);
    const found = await client.resolve(id);
    if (found.kind === 'experiment') {
      if (isFinal(found.experiment.status)) {
        process.stdout.write(`experiment ${id} already ${found.experiment.status}\n`);
        return;
      }
      const exp = await client.cancelExperiment(id);
      process.stdout.write(`experiment ${id}: ${exp.status}\n`);
      return;
    }
    const open = found.sweep.runs.filter((r) => !isFinal(r.status));
    let failed = 0;
    for (const row of open) {
      try {
        await client.cancelExperiment(row.id);
      } catch (err) {
        // A run that finished between the listing and the cancel answers 409; the rest is reported.
        if (err instanceof CliError && err.exitCode === ExitCode.Usage) continue;
        failed += 1;
        process.stderr.write(`finetune: cancel ${row.id}: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    process.stdout.write(`sweep ${id}: cancelled ${open.length - failed} of ${open.length} unfinished experiment${open.length === 1 ? '' : 's'}\n`);
    if (failed > 0) throw new CliError(`${failed} cancellation${failed === 1 ? '' : 's'} failed`, ExitCode.Failure);
  });
}
