// torch.optim.SGD's update of one parameter on webgpu in two dispatches instead of tfjs's four or
// five elementwise kernels: v' = momentum * v + (g + weight_decay * p) (v' = d on the first step),
// then p' = p - lr * v'. lr, momentum and weight decay travel as uniforms, so a schedule changing
// lr compiles nothing new. Results are new tensors (no in-place writes: a variable's buffer may be
// shared with a clone someone still holds).
import { tf } from '../tf.js';
import { flatLayout, type WebgpuBackendInternals, type WebgpuProgram } from './webgpu-program.js';

const THREADS = 256;

const INPUTS = ['pIn', 'gIn', 'vIn'] as const;

/** A program of `expression` over the inputs it names (an unused binding would fail Dawn's 'auto' layout). */
function elementwise(key: string, size: number, expression: string): WebgpuProgram {
  const variableNames = INPUTS.filter((name) => expression.includes(name));
  return {
    outputShape: [size],
    shaderKey: `fleetSgd_${key}_${size}`,
    dispatchLayout: flatLayout([size]),
    dispatch: [Math.ceil(size / THREADS), 1, 1],
    variableNames,
    workgroupSize: [THREADS, 1, 1],
    uniforms: 'lr : f32, momentum : f32, weightDecay : f32, ',
    getUserCode: () => `
  fn main(index: i32) {
    let i = i32(workgroupId.x) * ${THREADS} + i32(localIndex);
    _ = uniforms.lr; // the uniform binding must be used whatever the expression
    if (i >= ${size}) { return; }
    result[i] = ${expression};
  }`,
  };
}

export interface SgdHyper {
  lr: number;
  momentum: number;
  weightDecay: number;
}

/**
 * One SGD step of parameter `p` with gradient `g` and momentum buffer `v` (undefined on the first
 * step): the new parameter and the new buffer (undefined when momentum is 0). Undefined when the
 * tensor is too large for one flat dispatch (the caller then uses tf ops).
 */
export function webgpuSgdStep(p: tf.Tensor, g: tf.Tensor, v: tf.Tensor | undefined, hyper: SgdHyper): { param: tf.Tensor; velocity?: tf.Tensor } | undefined {
  const backend = tf.backend() as unknown as WebgpuBackendInternals;
  const size = p.size;
  if (Math.ceil(size / THREADS) > backend.device.limits.maxComputeWorkgroupsPerDimension) return undefined;
  // One entry per scalar field: tfjs aligns a 3-value entry like a vec3 (16 bytes), not like 3 f32s.
  const uniforms = [hyper.lr, hyper.momentum, hyper.weightDecay].map((x) => ({ type: 'float32' as const, data: [x] }));
  const flat = (t: tf.Tensor): tf.TensorInfo => ({ dataId: t.dataId, shape: [size], dtype: t.dtype });
  const given: Record<(typeof INPUTS)[number], tf.TensorInfo | undefined> = { pIn: flat(p), gIn: flat(g), vIn: v && flat(v) };
  const run = (key: string, expression: string, extra: Partial<typeof given> = {}) => {
    const program = elementwise(key, size, expression);
    const inputs = program.variableNames.map((name) => ({ ...given, ...extra })[name as keyof typeof given]!);
    return backend.runWebGPUProgram(program, inputs, 'float32', uniforms);
  };
  const asTensor = (info: tf.TensorInfo) => tf.engine().makeTensorFromTensorInfo({ ...info, shape: p.shape });
  const d = hyper.weightDecay !== 0 ? '(gIn[i] + uniforms.weightDecay * pIn[i])' : 'gIn[i]';
  if (hyper.momentum === 0) return { param: asTensor(run(`plain_${d.length}`, `pIn[i] - uniforms.lr * ${d}`)) };
  const velocity = v ? run(`vel_${d.length}`, `uniforms.momentum * vIn[i] + ${d}`) : run(`vel0_${d.length}`, d);
  const param = run('param', 'pIn[i] - uniforms.lr * vIn[i]', { vIn: velocity });
  return { param: asTensor(param), velocity: asTensor(velocity) };
}
