// `finetune delete ID`: deletes a finished experiment, or a sweep whose runs have all ended, with
// their metrics and the files they left under ARTIFACTS_DIR (model files, predictions, checkpoint).
// Nothing is deleted while runs are queued or running: the API's 409 says to cancel first.
import type { Command } from 'commander';
import { clientFromOptions, withApiOptions } from '../api-client.js';

export function registerDeleteCommand(program: Command): void {
  withApiOptions(
    program
      .command('delete')
      .description('delete a finished experiment, or a finished sweep with all its runs (metrics and model files)')
      .argument('<id>', 'experiment or sweep id'),
  ).action(async (id: string, opts: { api?: string; apiKey?: string }) => {
    const client = clientFromOptions(opts);
    const found = await client.resolve(id);
    if (found.kind === 'experiment') {
      await client.deleteExperiment(id);
      process.stdout.write(`experiment ${id} deleted\n`);
      return;
    }
    const { experimentIds } = await client.deleteSweep(id);
    process.stdout.write(`sweep ${id} deleted with its ${experimentIds.length} run${experimentIds.length === 1 ? '' : 's'}\n`);
  });
}
