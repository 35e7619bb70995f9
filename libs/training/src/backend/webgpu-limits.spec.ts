import { checkWebgpuStepFits, maxWebgpuBatchSize, resnet18LargestTensor, WebgpuSizeError } from './webgpu-limits.js';

const MIB = 2 ** 20;
// lavapipe's real limits (Mesa 25): 128 MiB per binding, 4 GiB per buffer.
const LAVAPIPE = { maxStorageBufferBindingSize: 128 * MIB, maxBufferSize: 2 ** 32 - 1, adapter: 'Mesa / llvmpipe (lavapipe, software)' };

describe('resnet18LargestTensor', () => {
  it('is the conv1 output at training sizes: [B, ceil(S/2), ceil(S/2), 64] float32', () => {
    expect(resnet18LargestTensor({ batchSize: 16, imageSize: 224 })).toEqual({ what: 'conv1 output', shape: [16, 112, 112, 64], bytes: 16 * 112 * 112 * 64 * 4 });
    expect(resnet18LargestTensor({ batchSize: 3, imageSize: 225 }).shape).toEqual([3, 113, 113, 64]);
  });

  it('is layer4s 3x3x512x512 weight (or the fc weight) when activations are small', () => {
    expect(resnet18LargestTensor({ batchSize: 4, imageSize: 64 })).toMatchObject({ shape: [3, 3, 512, 512], bytes: 9 * 512 * 512 * 4 });
    expect(resnet18LargestTensor({ batchSize: 1, imageSize: 32, numClasses: 10_000 })).toMatchObject({ what: 'fc weight', shape: [512, 10_000] });
  });
});

describe('checkWebgpuStepFits', () => {
  it('passes the tutorial run (224, batch 16) on lavapipe limits', () => {
    expect(() => checkWebgpuStepFits({ batchSize: 16, imageSize: 224 }, LAVAPIPE)).not.toThrow();
  });

  it('fires for an oversized batch on lavapipe limits and names tensor, limit and the batch that fits', () => {
    let err: unknown;
    try {
      checkWebgpuStepFits({ batchSize: 64, imageSize: 224 }, LAVAPIPE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WebgpuSizeError);
    const e = err as WebgpuSizeError;
    expect(e.maxBatchSize).toBe(41); // 41 x 3.06 MiB = 125.4 MiB <= 128 MiB < 42 x 3.06 MiB
    expect(e.message).toContain('batch size 64 at image size 224 needs a 196.0 MiB tensor (conv1 output [64, 112, 112, 64])');
    expect(e.message).toContain('binds at most 128.0 MiB per tensor (maxStorageBufferBindingSize)');
    expect(e.message).toContain('Use a batch size of at most 41 at image size 224');
  });

  it('fires with a fake small limit, at exactly one byte over', () => {
    const need = resnet18LargestTensor({ batchSize: 2, imageSize: 128 }).bytes;
    expect(() => checkWebgpuStepFits({ batchSize: 2, imageSize: 128 }, { maxStorageBufferBindingSize: need, maxBufferSize: need })).not.toThrow();
    expect(() => checkWebgpuStepFits({ batchSize: 2, imageSize: 128 }, { maxStorageBufferBindingSize: need - 1, maxBufferSize: 2 ** 40 })).toThrow(WebgpuSizeError);
    expect(() => checkWebgpuStepFits({ batchSize: 2, imageSize: 128 }, { maxStorageBufferBindingSize: 2 ** 40, maxBufferSize: need - 1 })).toThrow(/maxBufferSize/);
  });

  it('says when no batch size fits the image size', () => {
    expect(() => checkWebgpuStepFits({ batchSize: 1, imageSize: 4096 }, LAVAPIPE)).toThrow(/Image size 4096 does not fit even at batch size 1/);
  });
});

describe('maxWebgpuBatchSize', () => {
  it('is the largest batch that passes the check', () => {
    for (const imageSize of [64, 224, 500]) {
      const b = maxWebgpuBatchSize(imageSize, LAVAPIPE);
      expect(() => checkWebgpuStepFits({ batchSize: b, imageSize }, LAVAPIPE)).not.toThrow();
      expect(() => checkWebgpuStepFits({ batchSize: b + 1, imageSize }, LAVAPIPE)).toThrow(WebgpuSizeError);
    }
  });
});
