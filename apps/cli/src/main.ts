// The `finetune` command. Each sub-command lives in commands/<name>.command.ts and exports a
// register function; this file only wires them together and maps errors to exit codes.
import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error.js';
import { registerCancelCommand } from './commands/cancel.command.js';
import { registerClassifyCommand } from './commands/classify.command.js';
import { registerCompareCommand } from './commands/compare.command.js';
import { registerDeleteCommand } from './commands/delete.command.js';
import { registerDownloadCommand } from './commands/download.command.js';
import { registerExportCommand } from './commands/export.command.js';
import { registerInspectCommand } from './commands/inspect.command.js';
import { registerMakeDatasetCommand } from './commands/make-dataset.command.js';
import { registerStatusCommand } from './commands/status.command.js';
import { registerSubmitCommand } from './commands/submit.command.js';
import { registerTrainCommand } from './commands/train.command.js';
import { registerWatchCommand } from './commands/watch.command.js';

const program = new Command('finetune')
  .description('Finetune Fleet: train ResNet18 transfer-learning experiments locally or through the fleet API')
  .showHelpAfterError()
  .exitOverride();

// Sub-command registrations (one line each, keep sorted).
registerCancelCommand(program);
registerClassifyCommand(program);
registerCompareCommand(program);
registerDeleteCommand(program);
registerDownloadCommand(program);
registerExportCommand(program);
registerInspectCommand(program);
registerMakeDatasetCommand(program);
registerStatusCommand(program);
registerSubmitCommand(program);
registerTrainCommand(program);
registerWatchCommand(program);

export async function run(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      process.stderr.write(`finetune: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`finetune: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

run(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`finetune: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
