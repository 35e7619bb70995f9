// A tiled GEMM skeleton in WGSL for implicit-GEMM convolutions: C[m, n] = sum_k A[m, k] * B[k, n],
// where A and B are never materialised: the caller supplies WGSL functions that read them straight
// from the convolution's tensors (loadA/loadB, padding as zeros) and write C (storeC). The skeleton
// owns the speed: 64x64 output tiles per 256-invocation workgroup, A and B staged in workgroup
// memory TK columns of k at a time (loads ordered so neighbouring invocations read neighbouring
// addresses), 4x4 outputs per invocation kept in registers (a vec4 FMA per A value). A GEMM of at
// most 16 rows uses a 16x64 tile (1x4 outputs per invocation) instead of wasting 3/4 of the work.
//
// workgroup_id.z selects a sub-problem with its own M and k range: split-K partial sums for the
// filter gradient, stride phases for the input gradient. Control flow around the barriers must be
// uniform, and tfjs hands the builtins over through private variables (which WGSL's uniformity
// analysis treats as varying), so z and the tile origin are re-read with workgroupUniformLoad.
import { flatLayout, type WebgpuProgram } from './webgpu-program.js';

export const TILE_M = 64;
/** The short tile for GEMMs of few rows (layer4 at batch 1): a 64-row tile would be mostly padding. */
export const SHORT_TILE_M = 16;
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

/** The row tile for a GEMM whose sub-problems have at most `maxM` rows. */
export function tileRows(maxM: number): number {
  return maxM <= SHORT_TILE_M ? SHORT_TILE_M : TILE_M;
}

export function gemmProgram(spec: GemmSpec): WebgpuProgram {
  const tk = spec.tileK;
  const tm = tileRows(spec.maxM);
  const rowsPerThread = tm / 16;
  const fmas = Array.from({ length: rowsPerThread }, (_, i) => `acc[${i}] = fma(vec4<f32>(As[a + ${16 * i}]), b, acc[${i}]);`).join('\n        ');
  const dispatch: [number, number, number] = [Math.ceil(spec.maxM / tm), Math.ceil(spec.n / TILE_N), spec.zCount];
  return {
    outputShape: spec.outputShape,
    shaderKey: `fleetGemm_${tm}_${tk}_${spec.aFast}${spec.bFast}_${spec.key}`,
    dispatchLayout: flatLayout(spec.outputShape),
    dispatch,
    variableNames: spec.variableNames,
    workgroupSize: [THREADS, 1, 1],
    getUserCode: () => `
  ${spec.wgsl}

  var<workgroup> As: array<f32, ${tm * tk}>;
  var<workgroup> Bs: array<f32, ${TILE_N * tk}>;
  var<workgroup> origin: vec3<i32>;

  fn main(index: i32) {
    _ = uniforms.NAN; // every binding tfjs passes must be used, or the 'auto' layout drops it
    if (localIndex == 0u) { origin = vec3<i32>(workgroupId); }
    let o = workgroupUniformLoad(&origin);
    let z = o.z;
    let m0 = o.x * ${tm};
    let n0 = o.y * ${TILE_N};
    let M = sizeM(z);
    if (m0 >= M) { return; }
    let kb = kBegin(z);
    let ke = kEnd(z);
    let li = i32(localIndex);
    let tx = li % 16;
    let ty = li / 16;
    var acc: array<vec4<f32>, ${rowsPerThread}>;
    for (var k0 = kb; k0 < ke; k0 += ${tk}) {
      ${stageLoop('As', tm, spec.aFast === 'k' ? 'k' : 'other', tk, 'loadA(z, m0 + rr, k)', 'm0 + rr < M && k < ke')}
      ${stageLoop('Bs', TILE_N, spec.bFast === 'k' ? 'k' : 'other', tk, 'loadB(z, k, n0 + rr)', `n0 + rr < ${spec.n} && k < ke`)}
      workgroupBarrier();
      for (var kk = 0; kk < ${tk}; kk++) {
        let a = kk * ${tm} + ty;
        let bi = kk * ${TILE_N} + tx;
        let b = vec4<f32>(Bs[bi], Bs[bi + 16], Bs[bi + 32], Bs[bi + 48]);
        ${fmas}
      }
      workgroupBarrier();
    }
    for (var i = 0; i < ${rowsPerThread}; i++) {
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
