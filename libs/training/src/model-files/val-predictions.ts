// What a run's model predicts on its val set: the confusion matrix over every val image and a capped
// list of per-image predictions (wrong ones first, then the least confident right ones), so the file
// stays small for big val sets while the matrix still agrees exactly with the stored val accuracy.

export interface ValPrediction {
  /** path relative to the dataset folder, e.g. 'val/ants/123.jpg' */
  file: string;
  trueLabel: number;
  predictedLabel: number;
  /** softmax probability of the predicted class */
  confidence: number;
}

export interface ValPredictions {
  /** the 1-based epoch whose model made them (the best epoch) */
  epoch: number;
  classes: string[];
  /** val images seen; the confusion matrix counts all of them */
  total: number;
  correct: number;
  /** confusion[true][predicted] */
  confusion: number[][];
  /** at most PREDICTIONS_CAP rows: every wrong one first (by confidence, highest first), then right ones (lowest first) */
  predictions: ValPrediction[];
  /** true when predictions holds fewer rows than total */
  truncated: boolean;
}

/** Rows kept per run; 2000 rows of JSON are ~200 KB, next to a 45 MB model. */
export const PREDICTIONS_CAP = 2000;

/** One row per image from a batch of logits (row-major, numClasses per image). */
export function predictionsFromLogits(logits: ArrayLike<number>, numClasses: number, files: string[], labels: number[]): ValPrediction[] {
  return files.map((file, i) => {
    let best = 0;
    for (let j = 1; j < numClasses; j++) if (logits[i * numClasses + j]! > logits[i * numClasses + best]!) best = j;
    const max = logits[i * numClasses + best]!;
    let sum = 0;
    for (let j = 0; j < numClasses; j++) sum += Math.exp(logits[i * numClasses + j]! - max);
    return { file, trueLabel: labels[i]!, predictedLabel: best, confidence: 1 / sum };
  });
}

export function summarizePredictions(rows: ValPrediction[], classes: string[], epoch: number, cap = PREDICTIONS_CAP): ValPredictions {
  const confusion = classes.map(() => classes.map(() => 0));
  for (const r of rows) confusion[r.trueLabel]![r.predictedLabel]! += 1;
  const wrong = rows.filter((r) => r.predictedLabel !== r.trueLabel).sort((a, b) => b.confidence - a.confidence);
  const right = rows.filter((r) => r.predictedLabel === r.trueLabel).sort((a, b) => a.confidence - b.confidence);
  const predictions = [...wrong, ...right].slice(0, cap);
  return { epoch, classes, total: rows.length, correct: right.length, confusion, predictions, truncated: predictions.length < rows.length };
}
