// The model files a run leaves behind: its best-epoch and final weights as PyTorch .pth state dicts
// (torchvision resnet18 keys, the run's own classes in fc) and classes.json, the class names in
// label order (fc row i is classes[i]). All model-file I/O goes through here, so the storage can
// move (e.g. behind an artifact store) without touching the engine, the worker or the API. Never
// imports TensorFlow.js: the API reads these files without loading the engine.
import { link, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomically } from '../checkpoint/atomic-write.js';
import type { ModelEpoch } from '../contracts.js';
import type { StateDict } from '../weights/pth-loader.js';
import { encodePthChunks } from '../weights/pth-writer.js';
import type { ValPredictions } from './val-predictions.js';

export { MODEL_EPOCHS, type ModelEpoch } from '../contracts.js';

export const CLASSES_FILE = 'classes.json';
/** the best epoch's val predictions (see val-predictions) */
export const PREDICTIONS_FILE = 'predictions.json';

export function modelFileName(epoch: ModelEpoch): string {
  return `model-${epoch}.pth`;
}

export function modelFilePath(dir: string, epoch: ModelEpoch): string {
  return path.join(dir, modelFileName(epoch));
}

/** Every file findModelFile reads for `epoch`: what to copy out of an artifact store first. */
export function modelFileNames(epoch: ModelEpoch): string[] {
  return [modelFileName(epoch), CLASSES_FILE];
}

export function classesFilePath(dir: string): string {
  return path.join(dir, CLASSES_FILE);
}

/** Stores `sd` as the run's `epoch` model and the class names beside it. */
export async function writeModelFiles(dir: string, epochs: readonly ModelEpoch[], sd: StateDict, classes: readonly string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomically(classesFilePath(dir), [Buffer.from(`${JSON.stringify(classes)}\n`, 'utf8')]);
  const [first, ...rest] = epochs;
  if (first === undefined) return;
  await writeFileAtomically(modelFilePath(dir, first), encodePthChunks(sd));
  // When the last epoch is also the best one, both names share one file (a hard link): half the disk.
  for (const epoch of rest) {
    const tmp = path.join(dir, `.model-${epoch}.${process.pid}.link`);
    await rm(tmp, { force: true });
    await link(modelFilePath(dir, first), tmp);
    await rename(tmp, modelFilePath(dir, epoch));
  }
}

export interface StoredModel {
  file: string;
  bytes: number;
  classes: string[];
}

/** The stored model of `epoch` in `dir`, or undefined when the run left none. */
export async function findModelFile(dir: string, epoch: ModelEpoch): Promise<StoredModel | undefined> {
  const file = modelFilePath(dir, epoch);
  try {
    const [info, classes] = await Promise.all([stat(file), readFile(classesFilePath(dir), 'utf8')]);
    return { file, bytes: info.size, classes: JSON.parse(classes) as string[] };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The stored `epoch` model of experiment `experimentId` under `artifactsDir`, or undefined when the
 * run left none (or it was removed). The one place that maps a run to its model's location: the
 * API (downloads, checking a chained run's parent) and the worker (a chained run's starting
 * weights) both come through here, so an artifact store replaces this function and nothing else.
 */
export function findRunModel(artifactsDir: string, experimentId: string, epoch: ModelEpoch): Promise<StoredModel | undefined> {
  return findModelFile(path.join(artifactsDir, experimentId), epoch);
}

/** Removes everything a run left under `artifactsDir` (models, predictions, checkpoint); a no-op when nothing is there. */
export async function removeRunArtifacts(artifactsDir: string, experimentId: string): Promise<void> {
  await rm(path.join(artifactsDir, experimentId), { recursive: true, force: true });
}

export async function writePredictions(dir: string, predictions: ValPredictions): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomically(path.join(dir, PREDICTIONS_FILE), [Buffer.from(JSON.stringify(predictions), 'utf8')]);
}

/** The stored val predictions in `dir`, or undefined when the run left none. */
export async function readPredictions(dir: string): Promise<ValPredictions | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, PREDICTIONS_FILE), 'utf8')) as ValPredictions;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
