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

/**
 * One SGD step on `trainable` from the logits `forward` computes: gradients of the mean
 * cross-entropy, the optimizer's update, then the batch's loss sum and correct count.
 */
async function sgdStep(optimizer: Sgd, trainable: tf.Variable[], forward: () => tf.Tensor2D, labels: tf.Tensor1D): Promise<StepResult> {
  const [loss, correct] = tf.tidy(() => {
    let correctT: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const logits = forward();
      // kept: variableGrads disposes everything its function creates except the loss
      correctT = tf.keep(countCorrect(logits, labels));
      return crossEntropy(logits, labels);
    }, trainable);
    optimizer.step(grads);
    return [value, correctT!];
  });
  return readStep(loss, correct, labels.shape[0]);
}

/** Train-mode step on the whole model (backbone forward included). */
export function trainStep(model: ResNet18, optimizer: Sgd, images: tf.Tensor4D, labels: tf.Tensor1D): Promise<StepResult> {
  return sgdStep(optimizer, optimizer.groups.flatMap((g) => g.params), () => model.forward(images, 'train'), labels);
}

/** Step on the head only, from precomputed features (linear-probe). */
export function headStep(model: ResNet18, optimizer: Sgd, features: tf.Tensor2D, labels: tf.Tensor1D): Promise<StepResult> {
  return sgdStep(optimizer, model.headVariables(), () => model.head(features), labels);
}

/** Loss sum and correct count without gradients (validation). */
export async function evalLogits(logits: tf.Tensor2D, labels: tf.Tensor1D): Promise<StepResult> {
  const [loss, correct] = tf.tidy(() => [crossEntropy(logits, labels), countCorrect(logits, labels)]);
  return readStep(loss, correct, logits.shape[0]);
}
