// Dataset and weights names must resolve to an existing folder/file INSIDE DATA_ROOT/WEIGHTS_ROOT.
// ExperimentConfig already refuses separators and dot names; this adds what only the filesystem
// can say: existence, kind, and symlinks that lead out of the root (compared after realpath).
import { Inject, Injectable } from '@nestjs/common';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { FLEET_CONFIG, type FleetConfig } from '../api-options.js';
import { FieldValidationException } from '../common/field-errors.js';

type Kind = 'folder' | 'file';

@Injectable()
export class FileRootsService {
  constructor(@Inject(FLEET_CONFIG) private readonly config: FleetConfig) {}

  /** Throws a 400 naming `field` unless `name` is a folder directly or via symlink inside DATA_ROOT. */
  async checkDataset(name: string, field = 'dataset'): Promise<void> {
    await this.check(this.config.dataRoot, 'DATA_ROOT', name, 'folder', field);
  }

  async checkWeights(name: string, field = 'weights'): Promise<void> {
    await this.check(this.config.weightsRoot, 'WEIGHTS_ROOT', name, 'file', field);
  }

  private async check(root: string, rootName: string, name: string, kind: Kind, field: string): Promise<void> {
    const label = field.split('.').at(-1) ?? field;
    if (name.includes('\0') || name.includes('/') || name.includes('\\') || name === '.' || name === '..' || path.isAbsolute(name)) {
      throw FieldValidationException.of(field, `${label} must be a plain ${kind} name under ${rootName}`);
    }
    let realRoot: string;
    try {
      realRoot = await realpath(root);
    } catch {
      throw FieldValidationException.of(field, `${label} "${name}" does not exist (${rootName} is missing on the API host)`);
    }
    let real: string;
    try {
      real = await realpath(path.join(realRoot, name));
    } catch {
      throw FieldValidationException.of(field, `${label} "${name}" does not exist under ${rootName}`);
    }
    if (!real.startsWith(realRoot + path.sep)) {
      throw FieldValidationException.of(field, `${label} "${name}" resolves outside ${rootName}`);
    }
    const info = await stat(real);
    if (kind === 'folder' ? !info.isDirectory() : !info.isFile()) throw FieldValidationException.of(field, `${label} "${name}" is not a ${kind}`);
  }
}
