// One optimisation step over a batch: forward in train mode, mean cross-entropy, gradients of the
// trainable variables only (tfjs prunes the rest of the tape, so a frozen backbone's gradient is
// never computed), SGD update. Returns the batch's summed loss and number correct for the metrics.
// Results are read with data() (not dataSync()): the webgpu backend cannot read synchronously in Node.
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

/** Reads (asynchronously) and disposes a step's loss and correct count. */
async function readStep(loss: tf.Scalar, correct: tf.Scalar, batch: number): Promise<StepResult> {
  try {
    const [l, c] = await Promise.all([loss.data(), correct.data()]);
    return { lossSum: l[0]! * batch, correct: c[0]! };
  } finally {
    tf.dispose([loss, correct]);
  }
}

/** Train-mode step on the whole model (backbone forward included). */
export async function trainStep(model: ResNet18, optimizer: Sgd, images: tf.Tensor4D, labels: tf.Tensor1D): Promise<StepResult> {
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
  return readStep(loss, correct, images.shape[0]);
}

/** Step on the head only, from precomputed features (linear-probe). */
export async function headStep(model: ResNet18, optimizer: Sgd, features: tf.Tensor2D, labels: tf.Tensor1D): Promise<StepResult> {
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
  return readStep(loss, correct, features.shape[0]);
}

/** Loss sum and correct count without gradients (validation). */
export async function evalLogits(logits: tf.Tensor2D, labels: tf.Tensor1D): Promise<StepResult> {
  const [loss, correct] = tf.tidy(() => [crossEntropy(logits, labels), countCorrect(logits, labels)]);
  return readStep(loss, correct, logits.shape[0]);
}
