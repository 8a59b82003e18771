// Identity and same-dtype Cast on the wasm backend share the input's data
// (wasm-shared-identity.ts): values must survive disposing either side, other
// casts must still convert, nothing may leak, and gradients through them
// (tf.layers and optimisers use both) must match the cpu backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';

/** Gradient of a small conv + dense loss that goes through Identity and float32 Casts. */
function gradients(): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.randomUniform([3, 7, 5, 2], -1, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomUniform([3, 3, 2, 4], -1, 1, 'float32', 2) as tf.Tensor4D;
    const v = tf.randomUniform([4, 3], -1, 1, 'float32', 3) as tf.Tensor2D;
    const loss = (a: tf.Tensor, b: tf.Tensor) => {
      const h = tf.relu(tf.conv2d(tf.clone(x), a as tf.Tensor4D, 1, 'same')).cast('float32');
      return tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, tf.clone(b) as tf.Tensor2D).square().sum();
    };
    return tf.grads(loss)([w, v]).map((g) => g.dataSync() as Float32Array);
  });
}

test('wasm Identity and same-dtype Cast share data safely and keep gradients exact', async () => {
  await tf.setBackend('cpu');
  const reference = gradients();
  const report = await initBackend('wasm');
  assert.equal(report.tfBackend, 'wasm');
  const before = tf.memory().numTensors;

  const x = tf.tensor([1.5, -2, 3.25, 0]);
  const copy = tf.clone(x);
  const same = x.cast('float32');
  x.dispose();
  assert.deepEqual([...copy.dataSync()], [1.5, -2, 3.25, 0], 'a clone outlives its source');
  copy.dispose();
  assert.deepEqual([...same.dataSync()], [1.5, -2, 3.25, 0], 'a same-dtype cast outlives its source and the clone');
  const ints = same.cast('int32');
  assert.equal(ints.dtype, 'int32');
  assert.deepEqual([...ints.dataSync()], [1, -2, 3, 0], 'a cast to another dtype still converts');
  tf.dispose([same, ints]);

  const wasm = gradients();
  wasm.forEach((g, i) => g.forEach((value, j) => {
    assert.ok(Math.abs(value - reference[i][j]) <= 1e-4 * (1 + Math.abs(reference[i][j])), `gradient ${i}[${j}]: ${value} vs ${reference[i][j]}`);
  }));
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
});
