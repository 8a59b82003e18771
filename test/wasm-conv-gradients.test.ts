// The wasm conv2d gradients (built from forward convolutions) must match the
// reference cpu backend's gradients on every shape a CNN can ask for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';

interface Case {
  name: string; batch: number; h: number; w: number; cin: number; cout: number;
  kh: number; kw: number; stride: number | [number, number]; pad: 'same' | 'valid';
}

const cases: Case[] = [];
for (const pad of ['same', 'valid'] as const)
  for (const stride of [1, 2, 3] as const)
    for (const [kh, kw] of [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [3, 1]])
      for (const [cin, cout] of [[1, 8], [3, 4], [16, 5]])
        for (const [h, w] of [[7, 7], [8, 6], [12, 9]])
          if (kh <= h && kw <= w) cases.push({ name: '', batch: 2, h, w, cin, cout, kh, kw, stride, pad });
cases.push({ name: '', batch: 3, h: 9, w: 11, cin: 5, cout: 7, kh: 3, kw: 3, stride: [2, 1], pad: 'same' });
cases.push({ name: '', batch: 1, h: 32, w: 32, cin: 32, cout: 64, kh: 3, kw: 3, stride: 1, pad: 'same' });
for (const c of cases) c.name = `b${c.batch} ${c.h}x${c.w}x${c.cin} k${c.kh}x${c.kw}->${c.cout} s${c.stride} ${c.pad}`;

/** conv(x, w), and the gradients of sum(conv(x, w) * r) (r makes every output matter). */
function gradients(c: Case, fused: boolean): Float32Array[] {
  return tf.tidy(() => {
    const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);
    const x = rand([c.batch, c.h, c.w, c.cin], 1);
    const w = rand([c.kh, c.kw, c.cin, c.cout], 2);
    const bias = rand([c.cout], 3);
    const y0 = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad);
    const r = rand(y0.shape, 4);
    const conv = (a: tf.Tensor, b: tf.Tensor) => fused
      ? tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: c.stride, pad: c.pad, bias, activation: 'relu' })
      : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => conv(a, b).mul(r).sum())([x, w]);
    return [conv(x, w), ...grads].map((g) => g.dataSync() as Float32Array);
  });
}

function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0, scale = 1e-12;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

test('wasm conv2d outputs and gradients match the cpu backend', async () => {
  await tf.setBackend('cpu');
  const reference = cases.map((c) => [gradients(c, false), gradients(c, true)]);
  assert.equal(tf.memory().numTensors, 0);
  const report = await initBackend('wasm');
  assert.equal(report.tfBackend, 'wasm');
  assert.ok(report.convGradientsFromForward);
  const before = tf.memory().numTensors;
  cases.forEach((c, i) => {
    [false, true].forEach((fused, j) => {
      const got = gradients(c, fused);
      ['output', 'dx', 'dw'].forEach((which, k) => {
        assert.equal(got[k].length, reference[i][j][k].length, `${c.name} ${which} size`);
        const err = relativeError(got[k], reference[i][j][k]);
        assert.ok(err < 1e-5, `${c.name}${fused ? ' fused' : ''}: ${which} relative error ${err.toExponential(2)}`);
      });
    });
  });
  assert.equal(tf.memory().numTensors, before, 'gradient kernels leak no tensors');
  assert.ok(cases.length > 100, `${cases.length} shapes checked`);
});
