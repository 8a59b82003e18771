/**
 * Classifier heads the papers' models share: the baseline's linear softmax
 * classifier (SPNDL Sec. 4, GNDL Sec. 4.3) also ends SPNDL's and GNDL's
 * networks, so it lives with the models rather than with the baseline method.
 */
import * as tf from '@tensorflow/tfjs';

/** A linear classifier [B, D] -> [B, K], seeded. */
export function linearClassifier(inputDim: number, numClasses: number, seed: number, name = 'classifier'): tf.LayersModel {
  const input = tf.input({ shape: [inputDim], name: `${name}.input` });
  const logits = tf.layers.dense({
    name: `${name}.fc`, units: numClasses, kernelInitializer: tf.initializers.glorotUniform({ seed }),
  }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name });
}
