// Training-mode batch normalisation on wasm (one kernel forward, one for the gradient) must match tfjs's own path
// on the reference cpu backend: outputs, moving statistics and every gradient, through a conv -> BN -> ReLU net.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { BN_FORWARD } from '../lib/backend/wasm-batch-norm';

interface Case { batch: number; h: number; w: number; cin: number; c: number; momentum: number; epsilon: number }
const cases: Case[] = [
  { batch: 4, h: 8, w: 8, cin: 3, c: 5, momentum: 0.9, epsilon: 1e-5 },
  { batch: 32, h: 16, w: 16, cin: 1, c: 8, momentum: 0.99, epsilon: 1e-3 },
  { batch: 2, h: 3, w: 5, cin: 4, c: 1, momentum: 0.5, epsilon: 1e-5 },
  { batch: 1, h: 4, w: 4, cin: 2, c: 3, momentum: 0.9, epsilon: 1e-5 },
];

/** One training-mode pass: y, the gradients of sum(relu(bn(conv(x))) * r) w.r.t. x, conv kernel, γ, β, and the moving statistics after it. */
function run(c: Case): Record<string, Float32Array> {
  const input = tf.input({ shape: [c.h, c.w, c.cin] });
  const conv = tf.layers.conv2d({ filters: c.c, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: 3 }) });
  const bn = tf.layers.batchNormalization({ momentum: c.momentum, epsilon: c.epsilon, gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 4 }), betaInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 5 }) });
  const model = tf.model({ inputs: input, outputs: tf.layers.reLU().apply(bn.apply(conv.apply(input))) as tf.SymbolicTensor });
  const out = tf.tidy(() => {
    const x = tf.randomUniform([c.batch, c.h, c.w, c.cin], -1, 2, 'float32', 1);
    const r = tf.randomUniform([c.batch, c.h, c.w, c.c], -1, 1, 'float32', 2);
    const weights = model.trainableWeights.map((v) => v.read() as tf.Variable);
    const f = (xx: tf.Tensor) => (model.apply(xx, { training: true }) as tf.Tensor).mul(r).sum() as tf.Scalar;
    const dx = tf.grad(f)(x);
    const { value, grads } = tf.variableGrads(() => f(x), weights);
    return {
      loss: value.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array,
      ...Object.fromEntries(weights.map((v, k) => [`d weight ${k}`, grads[v.name].dataSync() as Float32Array])),
      movingMean: bn.getWeights()[2].dataSync() as Float32Array, movingVariance: bn.getWeights()[3].dataSync() as Float32Array,
    };
  });
  model.dispose();
  return out;
}

const maxRelative = (a: Float32Array, b: Float32Array) => {
  let diff = 0, scale = 1e-6;
  for (let i = 0; i < a.length; i++) { diff = Math.max(diff, Math.abs(a[i] - b[i])); scale = Math.max(scale, Math.abs(b[i])); }
  return diff / scale;
};

test('training-mode batch norm on wasm matches tfjs on the cpu backend: outputs, moving statistics, gradients', async () => {
  await tf.setBackend('cpu');
  const reference = cases.map(run);
  await initBackend('wasm');
  assert.ok(tf.getKernel(BN_FORWARD, 'wasm'), 'the kernel is registered on wasm');
  const before = tf.memory().numTensors;
  const ours = cases.map(run);
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  cases.forEach((c, i) => {
    assert.deepEqual(Object.keys(ours[i]).sort(), Object.keys(reference[i]).sort());
    for (const k of Object.keys(reference[i])) {
      const err = maxRelative(ours[i][k], reference[i][k]);
      assert.ok(err < 2e-4, `${JSON.stringify(c)} ${k}: relative error ${err.toExponential(2)}`);
    }
  });
});

test('inference and other backends keep tfjs\'s own batch norm', async () => {
  await initBackend('wasm');
  const bn = tf.layers.batchNormalization({});
  const x = tf.randomUniform([2, 3, 3, 4], 0, 1, 'float32', 7);
  const profiled = async (training: boolean) => (await tf.profile(() => bn.apply(x, { training }) as tf.Tensor)).kernelNames;
  assert.ok((await profiled(true)).includes(BN_FORWARD));
  assert.ok(!(await profiled(false)).includes(BN_FORWARD), 'inference uses the moving statistics, as before');
  tf.dispose([x]);
  bn.dispose();
});
