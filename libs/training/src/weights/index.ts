// Reading PyTorch weights (.pth state dicts, legacy and zip formats) without executing pickles.
export { decodeStateDict, inspectWeights, loadStateDict, WeightsError } from './pth-loader.js';
export type { StateDict, StateTensor, WeightsEntry, WeightsFormat, WeightsInspection } from './pth-loader.js';
export { writeRandomResnet18Pth } from './random-resnet18-pth.js';
export { encodePth } from './pth-writer.js';
