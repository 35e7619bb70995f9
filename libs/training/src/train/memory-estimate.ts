// The wasm backend's heap is capped at 4 GB and never shrinks: a batch that does not fit would
// abort the process (or poison the heap) hours into a queue of runs. So the run is refused up
// front, with the numbers, when the estimate exceeds what the heap can give.
import type { BackendName, TrainHyperparams } from '../contracts.js';
import type { StrategyPlan } from './strategy.js';

const MB = 1024 * 1024;
/** ~4 copies of ResNet18's 11.7M parameters (weights, drift baseline, gradients, momentum) + runtime */
const BASE_BYTES = 400 * MB;
/** Per image at 224x224, measured on wasm: activations kept for the backward pass. */
const TRAIN_BYTES_PER_IMAGE_224 = 145 * MB;
/** Forward-only passes (freeze/zero-lr backbone, eval, feature extraction) keep ~1/4 of that. */
const FORWARD_BYTES_PER_IMAGE_224 = 40 * MB;
export const WASM_HEAP_LIMIT_BYTES = 4 * 1024 * MB;
const HEADROOM = 0.92;

export function estimateTrainingBytes(hyper: Pick<TrainHyperparams, 'batchSize' | 'imageSize'>, plan: Pick<StrategyPlan, 'backboneGradients'>): number {
  const perImage = plan.backboneGradients ? TRAIN_BYTES_PER_IMAGE_224 : FORWARD_BYTES_PER_IMAGE_224;
  return BASE_BYTES + hyper.batchSize * perImage * (hyper.imageSize / 224) ** 2;
}

export class InsufficientMemoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InsufficientMemoryError';
  }
}

/** Throws InsufficientMemoryError before training when a wasm run cannot fit the heap. */
export function checkMemoryFits(backend: BackendName, hyper: Pick<TrainHyperparams, 'batchSize' | 'imageSize' | 'strategy'>, plan: Pick<StrategyPlan, 'backboneGradients'>): void {
  if (backend !== 'wasm' && backend !== 'wasm+onednn') return;
  const need = estimateTrainingBytes(hyper, plan);
  if (need <= WASM_HEAP_LIMIT_BYTES * HEADROOM) return;
  let fits = hyper.batchSize;
  while (fits > 1 && estimateTrainingBytes({ ...hyper, batchSize: fits }, plan) > WASM_HEAP_LIMIT_BYTES * HEADROOM) fits--;
  throw new InsufficientMemoryError(
    `${hyper.strategy} at batch ${hyper.batchSize}, ${hyper.imageSize}px needs about ${(need / 1024 ** 3).toFixed(1)} GB of wasm memory (limit 4 GB): use batch size ${fits} or less, a smaller image size, or the tensorflow backend`,
  );
}
