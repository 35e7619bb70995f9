// `finetune inspect FILE.pth [--json]`: what a weights file holds (format, keys, shapes, dtypes),
// read with the engine's safe loader, so a hostile or broken file is reported, never executed.
import type { Command } from 'commander';
import { inspectWeights, WeightsError } from '@fleet/training/weights/index.js';
import { CliError, ExitCode } from '../cli-error.js';

export interface InspectCommandOptions {
  /** Print JSON instead of a table. Default false */
  json?: boolean;
}

/** The command's output text; throws CliError (2 bad file, 3 missing file). */
export async function inspectCommand(file: string, options: InspectCommandOptions = {}): Promise<string> {
  let info: Awaited<ReturnType<typeof inspectWeights>>;
  try {
    info = await inspectWeights(file);
  } catch (err) {
    if (err instanceof WeightsError) throw new CliError(err.message, /file not found/.test(err.message) ? ExitCode.NotFound : ExitCode.Usage);
    throw err;
  }
  if (options.json) return `${JSON.stringify({ file, format: info.format, entries: info.entries }, null, 2)}\n`;
  const params = info.entries.reduce((sum, e) => sum + e.shape.reduce((a, b) => a * b, 1), 0);
  const rows = info.entries.map((e) => [e.key, e.dtype, `[${e.shape.join(', ')}]`]);
  const header = ['key', 'dtype', 'shape'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [
    `${file}: ${info.format} format, ${info.entries.length} tensors, ${params.toLocaleString('en-US')} values`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
  ].join('\n');
}

export function registerInspectCommand(program: Command): void {
  program
    .command('inspect')
    .description('show the format, keys, shapes and dtypes of a PyTorch .pth weights file')
    .argument('<file>', '.pth file (legacy or zip format)')
    .option('--json', 'print JSON instead of a table')
    .action(async (file: string, opts: InspectCommandOptions) => {
      process.stdout.write(await inspectCommand(file, opts));
    });
}
