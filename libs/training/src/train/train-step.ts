// One optimisation step over a batch: forward in train mode, mean cross-entropy, gradients of the
// trainable variables only (tfjs prunes the rest of the tape, so a frozen backbone's gradient is
// never computed), SGD update. Returns the batch's summed loss and number correct for the metrics.
import { tf } from '../backend/tf.js';
import type { ResNet18 } from '../model/resnet18.js';
import type { Sgd } from '../optim/sgd.js';

export interface StepResult {
  /** sum over the batch of per-sample losses (mean loss x batch size, as the tutorial accumulates) */
  lossSum: number;
  correct: number;
}

/** Mean softmax cross-entropy of logits [N, C] against integer labels [N]. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels, logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1)));
  });
}

function countCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')));
}

/** Train-mode step on the whole model (backbone forward included). */
export function trainStep(model: ResNet18, optimizer: Sgd, images: tf.Tensor4D, labels: tf.Tensor1D): StepResult {
  const trainable = optimizer.groups.flatMap((g) => g.params);
  const [loss, correct] = tf.tidy(() => {
    let correctT: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.forward(images, 'train');
      // kept: variableGrads disposes everything its function creates except the loss
      correctT = tf.keep(countCorrect(logits, labels));
      return crossEntropy(logits, labels);
    }, trainable);
    optimizer.step(grads);
    return [value, correctT!];
  });
  const result = { lossSum: loss.dataSync()[0]! * images.shape[0], correct: correct.dataSync()[0]! };
  tf.dispose([loss, correct]);
  return result;
}

/** Step on the head only, from precomputed features (linear-probe). */
export function headStep(model: ResNet18, optimizer: Sgd, features: tf.Tensor2D, labels: tf.Tensor1D): StepResult {
  const trainable = model.headVariables();
  const [loss, correct] = tf.tidy(() => {
    let correctT: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.head(features);
      // kept: variableGrads disposes everything its function creates except the loss
      correctT = tf.keep(countCorrect(logits, labels));
      return crossEntropy(logits, labels);
    }, trainable);
    optimizer.step(grads);
    return [value, correctT!];
  });
  const result = { lossSum: loss.dataSync()[0]! * features.shape[0], correct: correct.dataSync()[0]! };
  tf.dispose([loss, correct]);
  return result;
}

/** Loss sum and correct count without gradients (validation). */
export function evalLogits(logits: tf.Tensor2D, labels: tf.Tensor1D): StepResult {
  const [loss, correct] = tf.tidy(() => [crossEntropy(logits, labels), countCorrect(logits, labels)]);
  const result = { lossSum: loss.dataSync()[0]! * logits.shape[0], correct: correct.dataSync()[0]! };
  tf.dispose([loss, correct]);
  return result;
}
