// Adam's one-kernel update and single-slope PReLU on wasm must follow tfjs's own on the reference cpu backend:
// several training steps of a small net with PReLU layers, weights, moments and the optimiser's state after them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { ADAM_STEP } from '../lib/backend/wasm-adam';
import { TrainOptimizer } from '../lib/train/optim';

/** Five Adam steps of conv -> PReLU -> GAP -> dense -> PReLU -> dense on a fixed batch; every weight and Adam slot after them. */
async function train(): Promise<{ losses: number[]; weights: Float32Array[]; slots: Float32Array[] }> {
  const input = tf.input({ shape: [6, 6, 2] });
  const seed = (s: number) => tf.initializers.glorotUniform({ seed: s });
  let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: seed(1) }).apply(input) as tf.SymbolicTensor;
  h = tf.layers.prelu({ sharedAxes: [1, 2, 3], alphaInitializer: tf.initializers.constant({ value: 0.25 }) }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: 5, kernelInitializer: seed(2) }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.prelu({ sharedAxes: [1], alphaInitializer: tf.initializers.constant({ value: 0.25 }) }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3, kernelInitializer: seed(3) }).apply(h) as tf.SymbolicTensor });
  const opt = new TrainOptimizer({ kind: 'adam', learningRate: 0.05, beta1: 0.5, weightDecay: 1e-3 });
  const x = tf.randomUniform([4, 6, 6, 2], -1, 1, 'float32', 4);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3));
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const losses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const loss = opt.step(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar, vars);
    losses.push(loss.dataSync()[0]);
    loss.dispose();
  }
  const weights = vars.map((v) => v.dataSync() as Float32Array);
  const state = await opt.getState();
  const slots = state.weights.map((w) => Float32Array.from(w.data as ArrayLike<number>));
  opt.dispose();
  tf.dispose([x, y]);
  model.dispose();
  return { losses, weights, slots };
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

test("Adam's one-kernel update and single-slope PReLU on wasm follow tfjs on the cpu backend, step by step", async () => {
  await tf.setBackend('cpu');
  const reference = await train();
  await initBackend('wasm');
  assert.ok(tf.getKernel(ADAM_STEP, 'wasm'));
  const before = tf.memory().numTensors;
  const ours = await train();
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  close(ours.losses, reference.losses, 1e-4, 'loss');
  ours.weights.forEach((w, i) => close(w, reference.weights[i], 2e-4, `weight ${i}`));
  assert.equal(ours.slots.length, reference.slots.length, 'the same optimiser state: iterations, then both moments of every variable');
  ours.slots.forEach((s, i) => close(s, reference.slots[i], 2e-4, `slot ${i}`));
  const profile = await tf.profile(() => tf.tidy(() => tf.prelu(tf.ones([2, 3]), tf.scalar(0.1))));
  assert.ok(profile.kernelNames.includes('Prelu'));
});
