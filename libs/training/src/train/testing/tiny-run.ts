// Test helpers for trainer specs: a tiny generated two-class dataset (once per test file) and an
// EngineCache that serves the deterministic parity weights for any weights path, so pretrained
// strategies run without a 45 MB file or a .pth round trip.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { tf } from '../../backend/tf.js';
import { ResNet18 } from '../../model/resnet18.js';
import { exportStateDict } from '../../model/state-dict-mapping.js';
import { Rng } from '../../rng.js';
import type { StateDict } from '../../weights/index.js';
import { EngineCache } from '../engine-cache.js';

export const FAKE_WEIGHTS = '/nonexistent/deterministic-resnet18.pth';

/**
 * Stand-in "pretrained" weights: torchvision's random init with BatchNorm running statistics
 * calibrated by one train-mode pass over noise images (momentum 1), so eval-mode activations stay
 * in range the way real pretrained weights keep them. Needs an initialised backend.
 */
export async function calibratedStateDict(seed = 5, imageSize = 32): Promise<StateDict> {
  const model = new ResNet18(1000);
  try {
    model.initScratch(new Rng(seed));
    for (const bn of model.bns.values()) bn.momentum = 1;
    // Only the side effect (running statistics) is wanted: the logits are disposed with the rest.
    tf.tidy(() => {
      model.forward(tf.randomNormal([16, imageSize, imageSize, 3], 0, 1, 'float32', seed) as tf.Tensor4D, 'train');
    });
    return await exportStateDict(model);
  } finally {
    model.dispose();
  }
}

export class DeterministicWeightsCache extends EngineCache {
  private sd: Promise<StateDict> | undefined;

  override loadStateDict(): Promise<StateDict> {
    this.sd ??= calibratedStateDict();
    return this.sd;
  }
}

export interface TinyDataset {
  dir: string;
  remove(): Promise<void>;
}

const COLOURS: Record<string, [number, number, number]> = { blue: [50, 70, 190], red: [190, 60, 50] };

/**
 * An easy two-class ImageFolder (noisy reddish vs bluish PNGs with random shading): any working
 * training loop separates it within a few steps, so a failure to learn is an engine bug, not a
 * hard dataset. Deterministic from `seed`.
 */
export async function makeTinyDataset(trainPerClass = 8, valPerClass = 6, imageSize = 40, seed = 3): Promise<TinyDataset> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ff-train-'));
  const rng = new Rng(seed);
  for (const [split, count] of [['train', trainPerClass], ['val', valPerClass]] as const) {
    for (const [cls, base] of Object.entries(COLOURS)) {
      const folder = path.join(dir, split, cls);
      await mkdir(folder, { recursive: true });
      for (let i = 0; i < count; i++) {
        const px = Buffer.alloc(imageSize * imageSize * 3);
        const shade = rng.uniform(-40, 40);
        for (let p = 0; p < px.length; p++) px[p] = Math.max(0, Math.min(255, Math.round(base[p % 3]! + shade + rng.uniform(-50, 50))));
        await sharp(px, { raw: { width: imageSize, height: imageSize, channels: 3 } }).png().toFile(path.join(folder, `${i}.png`));
      }
    }
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
