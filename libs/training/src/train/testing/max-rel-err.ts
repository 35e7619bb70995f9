/**
 * Largest absolute difference between `got` and `want`, relative to `want`'s largest magnitude.
 * A ReLU may zero a whole small output: then the error itself must be (near) zero.
 */
export function maxRelErr(got: Float32Array, want: Float32Array): number {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < got.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
  }
  return err / Math.max(scale, 1e-6);
}
