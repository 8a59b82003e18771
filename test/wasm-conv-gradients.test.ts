// The wasm conv2d gradients (built from forward convolutions) must match the
// reference cpu backend's gradients on every shape a CNN can ask for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { requestedThreads } from '../lib/backend/wasm-threads';
import { convCases, convGradients, disjointWindows, maxPoolGradient, poolCases, poolName, reduce, relativeError,
  spatialReductions } from './backend-op-cases';

const cases = convCases([1, 2, 3]);
const pools = poolCases();

test('wasm conv2d outputs and gradients match the cpu backend', async () => {
  await tf.setBackend('cpu');
  const reference = cases.map((c) => [convGradients(c, false), convGradients(c, true)]);
  const poolReference = pools.map(maxPoolGradient);
  assert.equal(tf.memory().numTensors, 0);
  const report = await initBackend('wasm');
  assert.equal(report.tfBackend, 'wasm');
  assert.ok(report.convGradientsFromForward);
  const before = tf.memory().numTensors;
  cases.forEach((c, i) => {
    [false, true].forEach((fused, j) => {
      const got = convGradients(c, fused);
      ['output', 'dx', 'dw'].forEach((which, k) => {
        assert.equal(got[k].length, reference[i][j][k].length, `${c.name} ${which} size`);
        const err = relativeError(got[k], reference[i][j][k]);
        assert.ok(err < 1e-5, `${c.name}${fused ? ' fused' : ''}: ${which} relative error ${err.toExponential(2)}`);
      });
    });
  });
  pools.forEach((p, i) => {
    const err = relativeError(maxPoolGradient(p), poolReference[i]);
    // disjoint windows: one term per element, so exact; overlapping ones add a few terms
    assert.ok(disjointWindows(p) ? err === 0 : err < 1e-6, `maxPool ${poolName(p)}: gradient relative error ${err.toExponential(2)}`);
  });
  assert.equal(tf.memory().numTensors, before, 'gradient kernels leak no tensors');
  assert.ok(cases.length > 100, `${cases.length} shapes checked`);
});

const reductions = spatialReductions();

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
