// The one place the engine imports TensorFlow.js. The union package is required (not tfjs-core):
// it is what registers the gradients of every op, and the cpu backend as the last-resort fallback.
import * as tf from '@tensorflow/tfjs';

export { tf };
