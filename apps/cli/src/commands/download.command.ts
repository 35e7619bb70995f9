// `finetune download hymenoptera|resnet18`: fetches the tutorial's data into DATA_ROOT or
// torchvision's ResNet18 weights into WEIGHTS_ROOT (resumable, checksummed, progress on a TTY).
import type { Command } from 'commander';
import { Option } from 'commander';
import { DownloadError, UnsafeZipError, createProgressBar, downloadDefaults, downloadHymenoptera, downloadResnet18Weights } from '@fleet/training/download/index.js';
import type { ArtifactResult, WeightsFileFormat } from '@fleet/training/download/index.js';
import { CliError, ExitCode } from '../cli-error.js';

export const DOWNLOAD_TARGETS = ['hymenoptera', 'resnet18'] as const;
export type DownloadTarget = (typeof DOWNLOAD_TARGETS)[number];

export interface DownloadCommandOptions {
  /** Target folder. Default $DATA_ROOT (./data) for hymenoptera, $WEIGHTS_ROOT (./weights) for resnet18 */
  to?: string;
  /** Which torchvision file for resnet18. Default 'legacy' (resnet18-5c106cde.pth, the tutorial's) */
  format?: WeightsFileFormat;
  /** Default $FLEET_DOWNLOAD_BASE_URL or https://download.pytorch.org */
  baseUrl?: string;
  /** Download again even if present. Default false */
  force?: boolean;
}

export async function downloadCommand(target: string, options: DownloadCommandOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<ArtifactResult> {
  const defaults = downloadDefaults(env);
  const baseUrl = options.baseUrl ?? defaults.baseUrl;
  const bar = createProgressBar(`${target}`);
  try {
    switch (target) {
      case 'hymenoptera':
        return await downloadHymenoptera({ to: options.to ?? defaults.dataRoot, baseUrl, force: options.force, onProgress: bar.onProgress });
      case 'resnet18':
        return await downloadResnet18Weights(options.format ?? 'legacy', { to: options.to ?? defaults.weightsRoot, baseUrl, force: options.force, onProgress: bar.onProgress });
      default:
        throw new CliError(`unknown download "${target}"; choose one of ${DOWNLOAD_TARGETS.join(', ')}`, ExitCode.Usage);
    }
  } catch (err) {
    if (err instanceof DownloadError) {
      const code = err.status === 404 ? ExitCode.NotFound : err.status === undefined && /cannot reach|no response/.test(err.message) ? ExitCode.Unreachable : ExitCode.Failure;
      throw new CliError(err.message, code);
    }
    if (err instanceof UnsafeZipError) throw new CliError(err.message, ExitCode.Failure);
    throw err;
  } finally {
    bar.done();
  }
}

export function registerDownloadCommand(program: Command): void {
  program
    .command('download')
    .description('download the tutorial data (hymenoptera) into $DATA_ROOT or ResNet18 weights into $WEIGHTS_ROOT')
    .addArgument(program.createArgument('<what>', 'what to download').choices(DOWNLOAD_TARGETS))
    .option('--to <dir>', 'target folder (default $DATA_ROOT or ./data; $WEIGHTS_ROOT or ./weights)')
    .addOption(new Option('--format <format>', 'resnet18 file: legacy (resnet18-5c106cde.pth) or zip (resnet18-f37072fd.pth)').choices(['legacy', 'zip']).default('legacy'))
    .option('--base-url <url>', 'server to download from (default $FLEET_DOWNLOAD_BASE_URL or https://download.pytorch.org)')
    .option('--force', 'download again even if already present')
    .action(async (what: string, opts: DownloadCommandOptions) => {
      const result = await downloadCommand(what, opts);
      process.stdout.write(`${result.downloaded ? 'downloaded' : 'already present:'} ${result.path}\n`);
    });
}
