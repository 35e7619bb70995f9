// libs/training: the engine. Trains torchvision's ResNet18 with TensorFlow.js under one of six
// strategies and reports per-epoch metrics that mean what the same PyTorch run's would.
// Depends on nothing of ours (no Nest, Prisma, Redis). No I/O besides reading datasets and weights
// (and writing checkpoints); download/ is the one module that touches the network, and only when
// called. Pure vocabulary without TensorFlow.js: import '@fleet/training/contracts.js'.
export * from './contracts.js';
export { Rng, type RngState } from './rng.js';

export { currentBackend, initBackend, type BackendPreference } from './backend/init-backend.js';
export { registerWasmTrainingKernels } from './backend/wasm-kernels.js';
export { engineMemory, wasmHeapBytes, type EngineMemory } from './backend/engine-memory.js';
export { assertNoWebgpuErrors, assertWebgpuStepFits } from './backend/webgpu-backend.js';

export { ResNet18, type ForwardMode } from './model/resnet18.js';
export { BN_EPS, BN_MOMENTUM, type BatchNormState } from './model/batch-norm.js';
export { FEATURE_DIM, IMAGENET_CLASSES, stateKeys, type StateKey } from './model/resnet18-spec.js';
export { checkStateDict, exportStateDict, modelFromStateDict, StateDictMismatchError } from './model/state-dict-mapping.js';
export { deterministicStateDict } from './model/deterministic-state-dict.js';

export { Sgd, stepLr, type ParamGroup, type SgdOptions } from './optim/sgd.js';

export { planFor, type StrategyPlan } from './train/strategy.js';
export { EngineCache, type EngineCacheOptions } from './train/engine-cache.js';
export { checkMemoryFits, estimateTrainingBytes, InsufficientMemoryError } from './train/memory-estimate.js';
export { resolveHyper, TrainConfigError, trainRun, type TrainRunOptions, type TrainRunResult, type TrainStartInfo } from './train/train-run.js';
export { CHECKPOINT_FILE, readCheckpoint, writeCheckpoint, type Checkpoint, type CheckpointMeta } from './checkpoint/checkpoint.js';

export * from './weights/index.js';
export { classesFilePath, findModelFile, MODEL_EPOCHS, modelFilePath, writeModelFiles, type ModelEpoch, type StoredModel } from './model-files/model-files.js';
export * from './data/index.js';
export * from './download/index.js';
