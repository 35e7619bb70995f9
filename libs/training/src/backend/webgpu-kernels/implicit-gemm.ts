// A tiled GEMM skeleton in WGSL for implicit-GEMM convolutions: C[m, n] = sum_k A[m, k] * B[k, n],
// where A and B are never materialised: the caller supplies WGSL functions that read them straight
// from the convolution's tensors (loadA/loadB, padding as zeros) and write C (storeC). The skeleton
// owns the speed: 64x64 output tiles per 256-invocation workgroup, A and B staged in workgroup
// memory TK columns of k at a time (loads ordered so neighbouring invocations read neighbouring
// addresses), 4x4 outputs per invocation kept in registers (a vec4 FMA per A value).
//
// workgroup_id.z selects a sub-problem with its own M and k range: split-K partial sums for the
// filter gradient, stride phases for the input gradient. Control flow around the barriers must be
// uniform, and tfjs hands the builtins over through private variables (which WGSL's uniformity
// analysis treats as varying), so z and the tile origin are re-read with workgroupUniformLoad.
import { flatLayout, type WebgpuProgram } from './webgpu-program.js';

export const TILE_M = 64;
export const TILE_N = 64;
const THREADS = 256;

/** One implicit GEMM: the problem-specific WGSL and the dispatch extents. */
export interface GemmSpec {
  /** unique per distinct WGSL (all baked constants), used as the pipeline cache key */
  key: string;
  /** input tensor binding names, in the order the inputs are passed */
  variableNames: string[];
  outputShape: number[];
  /**
   * WGSL defining: fn sizeM(z: i32) -> i32; fn kBegin(z: i32) -> i32; fn kEnd(z: i32) -> i32;
   * fn loadA(z: i32, m: i32, k: i32) -> f32; fn loadB(z: i32, k: i32, n: i32) -> f32;
   * fn storeC(z: i32, m: i32, n: i32, v: f32). loadA/loadB are only called in range.
   */
  wgsl: string;
  /** columns of C (the same for every z) */
  n: number;
  /** largest sizeM(z) */
  maxM: number;
  /** number of sub-problems (workgroup_id.z) */
  zCount: number;
  /** k per staged tile; any value with 64 * tk floats of workgroup memory per operand */
  tileK: number;
  /** which index is contiguous in memory for A ('k': consecutive invocations take consecutive k) */
  aFast: 'm' | 'k';
  /** which index is contiguous in memory for B */
  bFast: 'n' | 'k';
}

function stageLoop(tile: 'As' | 'Bs', rows: number, fast: 'k' | 'other', tk: number, load: string, inRange: string): string {
  // e enumerates the tile's rows*tk elements; the fast index varies first so invocations coalesce.
  const decode = fast === 'k' ? `let kk = e % ${tk}; let rr = e / ${tk};` : `let rr = e % ${rows}; let kk = e / ${rows};`;
  return `
    for (var e = li; e < ${rows * tk}; e += ${THREADS}) {
      ${decode}
      let k = k0 + kk;
      var v = 0.0;
      if (${inRange}) { v = ${load}; }
      ${tile}[kk * ${rows} + rr] = v;
    }`;
}

export function gemmProgram(spec: GemmSpec): WebgpuProgram {
  const tk = spec.tileK;
  const dispatch: [number, number, number] = [Math.ceil(spec.maxM / TILE_M), Math.ceil(spec.n / TILE_N), spec.zCount];
  return {
    outputShape: spec.outputShape,
    shaderKey: `fleetGemm_${tk}_${spec.aFast}${spec.bFast}_${spec.key}`,
    dispatchLayout: flatLayout(spec.outputShape),
    dispatch,
    variableNames: spec.variableNames,
    workgroupSize: [THREADS, 1, 1],
    getUserCode: () => `
  ${spec.wgsl}

  var<workgroup> As: array<f32, ${TILE_M * tk}>;
  var<workgroup> Bs: array<f32, ${TILE_N * tk}>;
  var<workgroup> origin: vec3<i32>;

  fn main(index: i32) {
    _ = uniforms.NAN; // every binding tfjs passes must be used, or the 'auto' layout drops it
    if (localIndex == 0u) { origin = vec3<i32>(workgroupId); }
    let o = workgroupUniformLoad(&origin);
    let z = o.z;
    let m0 = o.x * ${TILE_M};
    let n0 = o.y * ${TILE_N};
    let M = sizeM(z);
    if (m0 >= M) { return; }
    let kb = kBegin(z);
    let ke = kEnd(z);
    let li = i32(localIndex);
    let tx = li % 16;
    let ty = li / 16;
    var acc: array<vec4<f32>, 4>;
    for (var k0 = kb; k0 < ke; k0 += ${tk}) {
      ${stageLoop('As', TILE_M, spec.aFast === 'k' ? 'k' : 'other', tk, 'loadA(z, m0 + rr, k)', 'm0 + rr < M && k < ke')}
      ${stageLoop('Bs', TILE_N, spec.bFast === 'k' ? 'k' : 'other', tk, 'loadB(z, k, n0 + rr)', `n0 + rr < ${spec.n} && k < ke`)}
      workgroupBarrier();
      for (var kk = 0; kk < ${tk}; kk++) {
        let a = kk * ${TILE_M} + ty;
        let bi = kk * ${TILE_N} + tx;
        let b = vec4<f32>(Bs[bi], Bs[bi + 16], Bs[bi + 32], Bs[bi + 48]);
        acc[0] = fma(vec4<f32>(As[a]), b, acc[0]);
        acc[1] = fma(vec4<f32>(As[a + 16]), b, acc[1]);
        acc[2] = fma(vec4<f32>(As[a + 32]), b, acc[2]);
        acc[3] = fma(vec4<f32>(As[a + 48]), b, acc[3]);
      }
      workgroupBarrier();
    }
    for (var i = 0; i < 4; i++) {
      let m = m0 + ty + 16 * i;
      if (m < M) {
        let row = acc[i];
        for (var j = 0; j < 4; j++) {
          let n = n0 + tx + 16 * j;
          if (n < ${spec.n}) { storeC(z, m, n, row[j]); }
        }
      }
    }
  }`,
  };
}

/** Sums `parts` [S, L] over S into [L] (reshaped to `outputShape`): the split-K epilogue. */
export function splitKSumProgram(parts: number, length: number, outputShape: number[]): WebgpuProgram {
  return {
    outputShape,
    shaderKey: `fleetSplitKSum_${parts}_${length}`,
    dispatchLayout: flatLayout(outputShape),
    dispatch: [Math.ceil(length / THREADS), 1, 1],
    variableNames: ['parts'],
    workgroupSize: [THREADS, 1, 1],
    getUserCode: () => `
  fn main(index: i32) {
    _ = uniforms.NAN; // see gemmProgram
    let i = i32(workgroupId.x) * ${THREADS} + i32(localIndex);
    if (i >= ${length}) { return; }
    var s = 0.0;
    for (var p = 0; p < ${parts}; p++) { s += parts[p * ${length} + i]; }
    result[i] = s;
  }`,
  };
}
