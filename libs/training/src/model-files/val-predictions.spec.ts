import { predictionsFromLogits, summarizePredictions } from './val-predictions.js';

describe('val predictions', () => {
  it('takes the argmax and its softmax probability per image', () => {
    const rows = predictionsFromLogits([0, Math.log(3), 2, 2], 2, ['a.png', 'b.png'], [1, 1]);
    expect(rows[0]).toMatchObject({ file: 'a.png', trueLabel: 1, predictedLabel: 1 });
    expect(rows[0]!.confidence).toBeCloseTo(0.75, 12);
    expect(rows[1]).toMatchObject({ predictedLabel: 0, confidence: 0.5 }); // ties go to the first class, as tf.argMax
  });

  it('counts every image in the confusion matrix and keeps wrong ones first under the cap', () => {
    const rows = [
      { file: 'r1', trueLabel: 0, predictedLabel: 0, confidence: 0.9 },
      { file: 'w1', trueLabel: 0, predictedLabel: 1, confidence: 0.6 },
      { file: 'r2', trueLabel: 1, predictedLabel: 1, confidence: 0.55 },
      { file: 'w2', trueLabel: 1, predictedLabel: 0, confidence: 0.8 },
    ];
    const s = summarizePredictions(rows, ['a', 'b'], 3, 3);
    expect(s).toMatchObject({ epoch: 3, total: 4, correct: 2, confusion: [[1, 1], [1, 1]], truncated: true });
    expect(s.predictions.map((p) => p.file)).toEqual(['w2', 'w1', 'r2']);
  });
});
