/**
 * How each strategy trains ResNet18 (all: SGD with PyTorch semantics, StepLR per epoch,
 * mean cross-entropy, a fresh N-class fc head initialised like torch.nn.Linear):
 *
 * - `scratch`: no weights file; torchvision's random init (conv kaiming_normal_ fan_out, BN 1/0).
 *   One param group, everything trainable at `lr`, BatchNorm in train mode.
 * - `finetune`: pretrained backbone; one param group, everything trainable at `lr`.
 * - `freeze`: pretrained; only fc is optimised. The backbone gets no gradient at all (it is run
 *   outside the gradient tape, so not one backbone gradient is computed), but it stays in train
 *   mode as in PyTorch's tutorial: BatchNorm normalises with batch statistics and its running
 *   statistics keep updating. Reported lrs: [lr].
 * - `zero-lr`: PyTorch's two param groups with backbone lr 0. Numerically the same run as
 *   `freeze` (same fc updates, same BN statistics updates; lr 0 stays 0 under StepLR, so backbone
 *   weights never change); unlike PyTorch we skip the wasted backbone gradient and keep no
 *   backbone momentum buffers, because they can never move a weight. Reported lrs: [0, lr].
 * - `group-lr`: pretrained; two groups, backbone at lrFactor x lr (default 0.1), fc at lr.
 *   Reported lrs: [lrFactor x lr, lr].
 * - `linear-probe` (ours, not in the tutorial): pretrained backbone in eval mode (running BN
 *   statistics, never updated) with the deterministic val-style transform for train images too
 *   (no augmentation), so each image's 512-d feature is computed once and cached; then only fc is
 *   trained on the cached features, with the same optimiser, schedule and batch order rules.
 *   All epochs together cost about one forward pass over the data. Reported lrs: [lr].
 *
 * Data order as torch's DataLoader: train shuffled every epoch (seeded), val in order, last
 * partial batch kept (drop_last=False). A train batch of one image, where PyTorch's BatchNorm
 * raises ("Expected more than 1 value per channel") because the last feature map is 1x1 (inputs
 * of 32px or less), is merged into the previous batch instead; at larger sizes a batch of one
 * trains exactly as in PyTorch.
 */
import type { Strategy, TrainHyperparams } from '../contracts.js';
import type { ResNet18 } from '../model/resnet18.js';
import type { ParamGroup } from '../optim/sgd.js';

export interface StrategyPlan {
  pretrained: boolean;
  /** linear-probe: eval-mode backbone, cached features, head-only training */
  cachedFeatures: boolean;
  /** whether backbone gradients are computed (scratch, finetune, group-lr) */
  backboneGradients: boolean;
  /** optimiser groups with their base lrs */
  groups(model: ResNet18): ParamGroup[];
  /** zero-lr: report a backbone group at lr 0 in front of the optimiser's groups */
  zeroBackboneGroup: boolean;
}

export function planFor(hyper: Pick<TrainHyperparams, 'strategy' | 'lr' | 'lrFactor'>): StrategyPlan {
  const { lr, lrFactor } = hyper;
  const strategy: Strategy = hyper.strategy;
  const all = (m: ResNet18): ParamGroup[] => [{ name: 'all', params: [...m.backboneVariables(), ...m.headVariables()], lr }];
  const head = (m: ResNet18): ParamGroup[] => [{ name: 'head', params: m.headVariables(), lr }];
  switch (strategy) {
    case 'scratch':
      return { pretrained: false, cachedFeatures: false, backboneGradients: true, groups: all, zeroBackboneGroup: false };
    case 'finetune':
      return { pretrained: true, cachedFeatures: false, backboneGradients: true, groups: all, zeroBackboneGroup: false };
    case 'freeze':
      return { pretrained: true, cachedFeatures: false, backboneGradients: false, groups: head, zeroBackboneGroup: false };
    case 'zero-lr':
      return { pretrained: true, cachedFeatures: false, backboneGradients: false, groups: head, zeroBackboneGroup: true };
    case 'group-lr':
      return {
        pretrained: true,
        cachedFeatures: false,
        backboneGradients: true,
        groups: (m) => [
          { name: 'backbone', params: m.backboneVariables(), lr: lr * lrFactor },
          { name: 'head', params: m.headVariables(), lr },
        ],
        zeroBackboneGroup: false,
      };
    case 'linear-probe':
      return { pretrained: true, cachedFeatures: true, backboneGradients: false, groups: head, zeroBackboneGroup: false };
    default: {
      const never: never = strategy;
      throw new Error(`unknown strategy ${String(never)}`);
    }
  }
}
