// `finetune export ID [-o FILE] [--epoch best|final]`: saves a succeeded run's model as a PyTorch
// .pth (torchvision resnet18 state dict) and its class names beside it as FILE's .classes.json.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError, ExitCode } from '../cli-error.js';
import { clientFromOptions, withApiOptions } from '../api-client.js';

const EPOCHS = ['best', 'final'] as const;

/** model.pth -> model.classes.json; any other name gets .classes.json appended. */
export function classesFileFor(file: string): string {
  return file.endsWith('.pth') ? `${file.slice(0, -'.pth'.length)}.classes.json` : `${file}.classes.json`;
}

export function registerExportCommand(program: Command): void {
  withApiOptions(
    program
      .command('export')
      .description("save a succeeded run's model as a PyTorch .pth (load with torchvision.models.resnet18(num_classes=N).load_state_dict(torch.load(FILE)))")
      .argument('<id>', 'experiment id')
      .option('-o, --output <file>', 'where to write the .pth (default <id>-<epoch>.pth); class names go to <file>.classes.json')
      .option('--epoch <which>', 'best (highest val accuracy) or final (last epoch)', 'best'),
  ).action(async (id: string, opts: { output?: string; epoch: string; api?: string; apiKey?: string }) => {
    if (!(EPOCHS as readonly string[]).includes(opts.epoch)) throw new CliError(`--epoch must be one of ${EPOCHS.join(', ')} (got "${opts.epoch}")`, ExitCode.Usage);
    const epoch = opts.epoch as (typeof EPOCHS)[number];
    const model = await clientFromOptions(opts).downloadModel(id, epoch);
    const file = opts.output ?? `${id}-${epoch}.pth`;
    await writeFile(file, model.bytes);
    await writeFile(classesFileFor(file), `${JSON.stringify(model.classes)}\n`);
    process.stdout.write(`${file}: ${epoch} model (epoch ${model.epochNumber}, ${(model.bytes.length / 1e6).toFixed(1)} MB, ${model.classes.length} classes: ${model.classes.join(', ')}); class names in ${classesFileFor(file)}\n`);
  });
}
