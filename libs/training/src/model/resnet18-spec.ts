// torchvision's resnet18 as data: every state_dict key in torch order with its torch shape. The
// model, the key mapping, the deterministic parity weights and the checkpoint format all derive
// from this one list, so they cannot disagree about names or order.

export type ParamKind = 'conv' | 'bn' | 'fc';

export interface ConvSpec {
  /** torch key prefix, e.g. 'layer2.0.downsample.0' (the weight key is `${name}.weight`) */
  name: string;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: number;
}

export interface BnSpec {
  /** torch key prefix, e.g. 'layer1.0.bn1' */
  name: string;
  channels: number;
}

export interface BlockSpec {
  prefix: string;
  conv1: ConvSpec;
  bn1: BnSpec;
  conv2: ConvSpec;
  bn2: BnSpec;
  downsample?: { conv: ConvSpec; bn: BnSpec };
}

export const FEATURE_DIM = 512;
export const IMAGENET_CLASSES = 1000;

function conv(name: string, inChannels: number, outChannels: number, kernel: number, stride: number, pad: number): ConvSpec {
  return { name, inChannels, outChannels, kernel, stride, pad };
}

export const STEM = { conv: conv('conv1', 3, 64, 7, 2, 3), bn: { name: 'bn1', channels: 64 } as BnSpec };

export const BLOCKS: readonly BlockSpec[] = (() => {
  const blocks: BlockSpec[] = [];
  let inC = 64;
  [64, 128, 256, 512].forEach((outC, li) => {
    for (let b = 0; b < 2; b++) {
      const prefix = `layer${li + 1}.${b}`;
      const stride = b === 0 && li > 0 ? 2 : 1;
      const block: BlockSpec = {
        prefix,
        conv1: conv(`${prefix}.conv1`, inC, outC, 3, stride, 1),
        bn1: { name: `${prefix}.bn1`, channels: outC },
        conv2: conv(`${prefix}.conv2`, outC, outC, 3, 1, 1),
        bn2: { name: `${prefix}.bn2`, channels: outC },
      };
      if (stride !== 1 || inC !== outC) {
        block.downsample = { conv: conv(`${prefix}.downsample.0`, inC, outC, 1, stride, 0), bn: { name: `${prefix}.downsample.1`, channels: outC } };
      }
      blocks.push(block);
      inC = outC;
    }
  });
  return blocks;
})();

export const ALL_CONVS: readonly ConvSpec[] = [STEM.conv, ...BLOCKS.flatMap((b) => [b.conv1, b.conv2, ...(b.downsample ? [b.downsample.conv] : [])])];
export const ALL_BNS: readonly BnSpec[] = [STEM.bn, ...BLOCKS.flatMap((b) => [b.bn1, b.bn2, ...(b.downsample ? [b.downsample.bn] : [])])];

export interface StateKey {
  key: string;
  /** torch shape */
  shape: number[];
  kind: ParamKind;
  /** conv/bn weight/bias and fc: a learnable parameter; running stats are buffers */
  learnable: boolean;
}

/** Every torchvision resnet18 state_dict entry, in torch's order (module registration order). */
export function stateKeys(numClasses = IMAGENET_CLASSES): StateKey[] {
  const keys: StateKey[] = [];
  const addConv = (c: ConvSpec) => keys.push({ key: `${c.name}.weight`, shape: [c.outChannels, c.inChannels, c.kernel, c.kernel], kind: 'conv', learnable: true });
  const addBn = (b: BnSpec) => {
    keys.push({ key: `${b.name}.weight`, shape: [b.channels], kind: 'bn', learnable: true });
    keys.push({ key: `${b.name}.bias`, shape: [b.channels], kind: 'bn', learnable: true });
    keys.push({ key: `${b.name}.running_mean`, shape: [b.channels], kind: 'bn', learnable: false });
    keys.push({ key: `${b.name}.running_var`, shape: [b.channels], kind: 'bn', learnable: false });
    keys.push({ key: `${b.name}.num_batches_tracked`, shape: [], kind: 'bn', learnable: false });
  };
  addConv(STEM.conv);
  addBn(STEM.bn);
  for (const b of BLOCKS) {
    addConv(b.conv1);
    addBn(b.bn1);
    addConv(b.conv2);
    addBn(b.bn2);
    if (b.downsample) {
      addConv(b.downsample.conv);
      addBn(b.downsample.bn);
    }
  }
  keys.push({ key: 'fc.weight', shape: [numClasses, FEATURE_DIM], kind: 'fc', learnable: true });
  keys.push({ key: 'fc.bias', shape: [numClasses], kind: 'fc', learnable: true });
  return keys;
}
