// torch.optim.SGD (dampening 0, no Nesterov) over parameter groups: d = g + weight_decay * p;
// v = d on the first step, else v = momentum * v + d; p -= lr * v. Momentum buffers are kept per
// variable so a checkpoint can carry them for bit-for-bit resume. On webgpu each parameter's update
// is two dispatches of ours (backend/webgpu-kernels/sgd-update.ts) instead of four or five ops.
import { onednnActive, SGD_MOMENTUM } from '../backend/onednn-kernels.js';
import { tf } from '../backend/tf.js';
import { webgpuTrainingKernelsActive } from '../backend/webgpu-kernels/register-webgpu-kernels.js';
import { webgpuSgdStep } from '../backend/webgpu-kernels/sgd-update.js';

export interface ParamGroup {
  /** 'backbone' or 'head'; reported in that order in EpochMetrics.lrs */
  name: string;
  params: tf.Variable[];
  lr: number;
}

/** Options of {@link Sgd}. */
export interface SgdOptions {
  /** Default 0.9 */
  momentum?: number;
  /** Default 0 */
  weightDecay?: number;
}

export class Sgd {
  readonly momentum: number;
  readonly weightDecay: number;
  /** momentum buffers by variable name; absent until the variable's first step */
  readonly buffers = new Map<string, tf.Tensor>();

  constructor(
    readonly groups: ParamGroup[],
    options: SgdOptions = {},
  ) {
    this.momentum = options.momentum ?? 0.9;
    this.weightDecay = options.weightDecay ?? 0;
  }

  /** Applies one step. `grads` by variable name (as tf.variableGrads returns them); not disposed. */
  step(grads: tf.NamedTensorMap): void {
    const native = onednnActive();
    for (const group of this.groups) {
      for (const p of group.params) {
        const g = grads[p.name];
        if (!g) throw new Error(`no gradient for parameter ${p.name} of group ${group.name}`);
        if (native) {
          this.nativeStep(p, g, group.lr);
          continue;
        }
        tf.tidy(() => {
          const prev = this.buffers.get(p.name);
          const fused = webgpuTrainingKernelsActive() ? webgpuSgdStep(p, g, prev, { lr: group.lr, momentum: this.momentum, weightDecay: this.weightDecay }) : undefined;
          if (fused) {
            if (fused.velocity) {
              this.buffers.set(p.name, tf.keep(fused.velocity));
              prev?.dispose();
            }
            p.assign(fused.param);
            return;
          }
          const d = this.weightDecay !== 0 ? tf.add(g, tf.mul(p, this.weightDecay)) : g;
          let v: tf.Tensor;
          if (this.momentum === 0) v = d;
          else {
            v = prev ? tf.add(tf.mul(prev, this.momentum), d) : d === g ? tf.clone(g) : d;
            this.buffers.set(p.name, tf.keep(v));
            prev?.dispose();
          }
          p.assign(tf.sub(p, tf.mul(v, group.lr)));
        });
      }
    }
  }

  /** The same update as one native kernel per parameter (same float32 arithmetic, one pass). */
  private nativeStep(p: tf.Variable, g: tf.Tensor, lr: number): void {
    const prev = this.buffers.get(p.name);
    const inputs: tf.NamedTensorMap = prev ? { param: p, grad: g, buffer: prev } : { param: p, grad: g };
    const [param, buffer] = tf.engine().runKernel(SGD_MOMENTUM, inputs, { lr, momentum: this.momentum, weightDecay: this.weightDecay }) as [tf.Tensor, tf.Tensor];
    p.assign(param);
    param.dispose();
    if (this.momentum === 0) buffer.dispose();
    else {
      this.buffers.set(p.name, tf.keep(buffer));
      prev?.dispose();
    }
  }

  dispose(): void {
    tf.dispose([...this.buffers.values()]);
    this.buffers.clear();
  }
}

/**
 * torch.optim.lr_scheduler.StepLR, stepped once per epoch: the lr of 0-based epoch e, multiplied by
 * gamma at every multiple of stepSize exactly as torch does it (repeated float multiplication, not
 * gamma ** k, so the values match torch's to the last bit).
 */
export function stepLr(baseLr: number, epochIndex: number, stepSize: number, gamma: number): number {
  let lr = baseLr;
  for (let e = 1; e <= epochIndex; e++) if (e % stepSize === 0) lr *= gamma;
  return lr;
}
