// The learning curves a sweep comparison reports for one group, computed the plain way from the
// group's per-epoch points: per epoch, how many runs reached it and the mean and sample std (0 below
// two values) of val acc and train loss. The compare tests hold the API's SQL aggregation to it.
import { mean, sampleStd } from '../../apps/api/src/sweeps/statistics.js';

export interface CurvePoint {
  epoch: number;
  valAcc: number;
  trainLoss: number;
}

export function referenceCurves(points: readonly CurvePoint[]) {
  const epochs = [...new Set(points.map((p) => p.epoch))].sort((a, b) => a - b);
  const at = (e: number) => points.filter((p) => p.epoch === e);
  const std = (xs: number[]) => (xs.length < 2 ? 0 : sampleStd(xs));
  return {
    epochs,
    valAccMean: epochs.map((e) => mean(at(e).map((p) => p.valAcc))),
    valAccStd: epochs.map((e) => std(at(e).map((p) => p.valAcc))),
    trainLossMean: epochs.map((e) => mean(at(e).map((p) => p.trainLoss))),
    trainLossStd: epochs.map((e) => std(at(e).map((p) => p.trainLoss))),
    n: epochs.map((e) => at(e).length),
  };
}
