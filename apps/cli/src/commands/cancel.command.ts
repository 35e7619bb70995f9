// `finetune cancel ID`: cancels an experiment, or every queued or running experiment of a sweep.
// Cancelling something already finished is not an error: the command reports its final status.
import type { Command } from 'commander';
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
    // One request: the API also stops a searched sweep from handing out further runs.
    const { experimentIds } = await client.cancelSweep(id);
    const open = found.sweep.runs.filter((r) => !isFinal(r.status)).length;
    process.stdout.write(`sweep ${id}: cancelled ${experimentIds.length} of ${Math.max(open, experimentIds.length)} unfinished experiment${open === 1 ? '' : 's'}${found.sweep.search ? '; no further trials will be scheduled' : ''}\n`);
  });
}
