// The wasm conv2d gradients (built from forward convolutions) must match the
// reference cpu backend's gradients on every shape a CNN can ask for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { requestedThreads } from '../lib/backend/wasm-threads';

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
// batch 1 on the patch-copy paths: whole planes (stride 1 'same'), row runs (stride [2, 1]), single pixels
for (const [stride, pad] of [[1, 'same'], [[2, 1], 'same'], [2, 'same'], [2, 'valid'], [1, 'valid']] as const)
  cases.push({ name: '', batch: 1, h: 6, w: 5, cin: 2, cout: 3, kh: 3, kw: 3, stride: stride as Case['stride'], pad });
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

interface PoolCase {
  batch: number; h: number; w: number; c: number;
  size: number | readonly [number, number]; stride: number | readonly [number, number]; pad: 'same' | 'valid';
}
const poolCases: PoolCase[] = [];
for (const [size, stride] of [[2, 2], [3, 2], [3, 1], [2, 1], [[2, 3], [2, 1]]] as const)
  for (const pad of ['same', 'valid'] as const)
    for (const [h, w, c] of [[8, 8, 1], [9, 7, 3], [6, 10, 5]]) poolCases.push({ batch: 2, h, w, c, size, stride, pad });
poolCases.push({ batch: 1, h: 4, w: 6, c: 3, size: 2, stride: 2, pad: 'valid' });

/** Gradient of sum(maxPool(relu(x)) * r): ReLU makes windows of tied zeros, where the tie rule shows. */
function poolGradient(p: PoolCase): Float32Array {
  return tf.tidy(() => {
    const x = tf.randomUniform([p.batch, p.h, p.w, p.c], -1, 1, 'float32', 5).relu() as tf.Tensor4D;
    const r = tf.randomUniform(tf.maxPool(x, p.size, p.stride, p.pad).shape, -1, 1, 'float32', 6);
    return tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, p.size, p.stride, p.pad).mul(r).sum())(x).dataSync() as Float32Array;
  });
}

test('wasm conv2d outputs and gradients match the cpu backend', async () => {
  await tf.setBackend('cpu');
  const reference = cases.map((c) => [gradients(c, false), gradients(c, true)]);
  const poolReference = poolCases.map(poolGradient);
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
  poolCases.forEach((p, i) => {
    const err = relativeError(poolGradient(p), poolReference[i]);
    // disjoint windows: one term per element, so exact; overlapping ones add a few terms
    const pair = (v: number | readonly number[]) => (typeof v === 'number' ? [v, v] : v);
    const disjoint = pair(p.stride).every((st, k) => st >= pair(p.size)[k]);
    assert.ok(disjoint ? err === 0 : err < 1e-6, `maxPool ${p.size} stride ${p.stride} ${p.pad} on ${p.h}x${p.w}x${p.c}: gradient relative error ${err.toExponential(2)}`);
  });
  assert.equal(tf.memory().numTensors, before, 'gradient kernels leak no tensors');
  assert.ok(cases.length > 100, `${cases.length} shapes checked`);
});

/** Spatial reductions the wasm backend does by average pooling (bias gradients, global average pooling). */
const reductions: { shape: number[]; op: 'sum' | 'mean'; axis: number[]; keepDims: boolean }[] = [];
for (const shape of [[2, 7, 5, 3], [1, 4, 4, 8], [3, 1, 6, 2]])
  for (const op of ['sum', 'mean'] as const)
    for (const axis of [[0, 1, 2], [1, 2], [-3, -2], [0, 1, 2, 3], [2]])
      for (const keepDims of [false, true]) reductions.push({ shape, op, axis, keepDims });

function reduce(r: (typeof reductions)[number]): tf.Tensor {
  const x = tf.randomUniform(r.shape, -1, 1, 'float32', 7);
  return tf.tidy(() => (r.op === 'sum' ? tf.sum(x, r.axis, r.keepDims) : tf.mean(x, r.axis, r.keepDims)));
}

test('wasm Sum and Mean over spatial axes match the cpu backend and float64 sums', async () => {
  await initBackend('wasm');
  const got = reductions.map((r) => { const t = reduce(r); const out = { shape: t.shape, values: t.dataSync() as Float32Array }; t.dispose(); return out; });
  // large enough for rounding to show: a first conv layer's bias gradient
  const dy = tf.randomUniform([8, 64, 64, 16], -1, 1, 'float32', 8);
  const biasGrad = tf.sum(dy, [0, 1, 2]).dataSync();
  const exact = new Float64Array(16);
  dy.dataSync().forEach((v, i) => { exact[i % 16] += v; });
  dy.dispose();
  for (let c = 0; c < 16; c++) assert.ok(Math.abs(biasGrad[c] - exact[c]) < 1e-3, `channel ${c}: ${biasGrad[c]} vs ${exact[c]}`);
  await tf.setBackend('cpu');
  reductions.forEach((r, i) => {
    const want = reduce(r);
    const name = `${r.op} of ${r.shape} over ${r.axis}${r.keepDims ? ' keepDims' : ''}`;
    assert.deepEqual(got[i].shape, want.shape, `${name}: shape`);
    const err = relativeError(got[i].values, want.dataSync() as Float32Array);
    assert.ok(err < 1e-6, `${name}: relative error ${err.toExponential(2)}`);
    want.dispose();
  });
  await tf.setBackend('wasm');
});

test('FER_THREADS picks the wasm thread count and rejects nonsense', () => {
  assert.equal(requestedThreads({ FER_THREADS: '1' }), 1);
  assert.equal(requestedThreads({ FER_THREADS: ' 3 ' }), 3);
  assert.ok(requestedThreads({}) >= 1);
  for (const bad of ['0', '9', '2.5', 'two']) assert.throws(() => requestedThreads({ FER_THREADS: bad }), /FER_THREADS/);
});
