// Every op the models train with must give the cpu backend's outputs and
// gradients on the webgpu backend (lavapipe in CI): the same comparisons that
// guard the wasm fixes (backend-op-cases.ts), plus batch norm, dense layers,
// activations, losses and the paired forward's ops. Skips without an adapter.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setFilterGradientChunkBytes } from '../lib/backend/webgpu-conv-filter-gradient';
import { crossEntropy } from '../lib/train/losses';
import {
  convCases, convGradients, disjointWindows, type ConvCase, maxPoolGradient, poolCases, poolName, reduce,
  spatialReductions, type PoolCase,
} from './backend-op-cases';
import { assertClose, assertNoLeaks, onBoth, webgpuTest } from './webgpu-fixture';

type Named = Record<string, Float32Array>;
const rand = (shape: number[], seed: number, lo = -1, hi = 1) => tf.randomUniform(shape, lo, hi, 'float32', seed);
const values = (ts: Record<string, tf.Tensor>): Named =>
  Object.fromEntries(Object.entries(ts).map(([k, t]) => [k, t.dataSync() as Float32Array]));
/** variableGrads' result keyed 'd<weight>' (layer name dropped: it differs between the two builds). */
const gradientsByWeight = (grads: tf.NamedTensorMap) =>
  Object.fromEntries(Object.entries(grads).map(([k, g]) => [`d_${k.split('/').pop()!.replace(/_\d+$/, '')}`, g]));
/** Frees a layer's weights (Layer.dispose refuses layers only ever applied to concrete tensors). */
const disposeWeights = (layer: tf.layers.Layer) => layer.weights.forEach((w) => w.dispose());

/** The outputs of f(...inputs) and the gradients of sum(f(...) * r) with respect to every input. */
function withGradients(makeInputs: () => tf.Tensor[], f: (...xs: tf.Tensor[]) => tf.Tensor, seed = 99): Named {
  return tf.tidy(() => {
    const inputs = makeInputs();
    const y = f(...inputs);
    const r = rand(y.shape, seed);
    const grads = tf.grads((...xs: tf.Tensor[]) => f(...xs).mul(r).sum())(inputs);
    return values({ y, ...Object.fromEntries(grads.map((g, i) => [`d${i}`, g])) });
  });
}

webgpuTest('webgpu dataSync, arraySync and data() read the same values as the cpu backend', async () => {
  const make = () => tf.tidy(() => {
    const x = rand([257, 129], 1);
    return { x: tf.matMul(x, x, false, true), i: tf.argMax(x, 1), b: tf.greater(x, 0), big: tf.mul(rand([1 << 20], 2), 3) };
  });
  const { cpu, gpu } = await onBoth(() => {
    const ts = make();
    const out = Object.fromEntries(Object.entries(ts).map(([k, t]) => [k, Array.from(t.dataSync())]));
    tf.dispose(Object.values(ts));
    return out;
  });
  assertClose('synchronous reads', gpu, cpu, 1e-5);
  const ts = make();
  for (const [k, t] of Object.entries(ts)) assert.deepEqual(Array.from(await t.data()), gpu[k], `${k}: data() = dataSync()`);
  assert.deepEqual((ts.x.arraySync() as number[][]).flat(), gpu.x, 'arraySync() = dataSync()');
  tf.dispose(Object.values(ts));
  assertNoLeaks('a synchronous read', () => { tf.tidy(() => tf.add(rand([64, 64], 3), 1).dataSync()); });
});

webgpuTest('webgpu conv2d outputs and input/filter gradients match the cpu backend (strides 1, 2; same, valid)', async () => {
  const cases = convCases([1, 2]);
  const { cpu, gpu } = await onBoth(() => cases.map((c) => [convGradients(c, false), convGradients(c, true)]));
  cases.forEach((c, i) => [false, true].forEach((fused, j) => {
    const named = (a: Float32Array[]) => ({ output: a[0], dx: a[1], dw: a[2] });
    assertClose(`${c.name}${fused ? ' fused' : ''}`, named(gpu[i][j]), named(cpu[i][j]), 1e-5);
  }));
  assert.ok(cases.length > 100, `${cases.length} shapes checked`);
  assertNoLeaks('conv2d gradients', () => convGradients(cases[0], true));
});

webgpuTest('webgpu conv2d filter gradients computed in batch chunks (large batches) match the cpu backend', async () => {
  const cases = convCases([1, 2]).filter((c) => c.cin === 3 && c.h === 8).map((c) => ({ ...c, batch: 5 }));
  /** Bytes of one image's patches, as the kernel counts them. */
  const imageBytes = (c: ConvCase) => {
    const info = tf.backend_util.computeConv2DInfo([1, c.h, c.w, c.cin], [c.kh, c.kw, c.cin, c.cout], c.stride, 1, c.pad);
    return 4 * info.outHeight * info.outWidth * c.kh * c.kw * c.cin;
  };
  const { cpu, gpu } = await onBoth(() => cases.map((c) => {
    // one image's patches fit, two do not: five single-image chunks whose products are added
    setFilterGradientChunkBytes(1.5 * imageBytes(c));
    try {
      return convGradients(c, false)[2];
    } finally {
      setFilterGradientChunkBytes(undefined);
    }
  }));
  cases.forEach((c, i) => assertClose(`${c.name} in chunks`, { dw: gpu[i] }, { dw: cpu[i] }, 1e-5));
  setFilterGradientChunkBytes(2 * imageBytes(cases[0]));
  try {
    assertNoLeaks('chunked filter gradients', () => convGradients(cases[0], false));
  } finally {
    setFilterGradientChunkBytes(undefined);
  }
});

/** avgPool(x) and its input gradient, for one pooling case. */
function avgPoolGradients(p: PoolCase): Named {
  return withGradients(() => [rand([p.batch, p.h, p.w, p.c], 5)], (x) => tf.avgPool(x as tf.Tensor4D, p.size, p.stride, p.pad));
}

webgpuTest('webgpu max and average pooling and their gradients match the cpu backend, ties included', async () => {
  const pools = poolCases();
  const forward = (p: PoolCase) => tf.tidy(() => {
    const x = rand([p.batch, p.h, p.w, p.c], 5).relu() as tf.Tensor4D;
    return tf.maxPool(x, p.size, p.stride, p.pad).dataSync() as Float32Array;
  });
  const { cpu, gpu } = await onBoth(() => pools.map((p) => ({
    max: forward(p), maxGrad: maxPoolGradient(p), avg: avgPoolGradients(p),
  })));
  pools.forEach((p, i) => {
    assertClose(`maxPool ${poolName(p)}`, { y: gpu[i].max }, { y: cpu[i].max }, 0);
    // disjoint windows: one term per input element, so exact; overlapping ones add a few terms
    assertClose(`maxPool ${poolName(p)} gradient`, { dx: gpu[i].maxGrad }, { dx: cpu[i].maxGrad }, disjointWindows(p) ? 0 : 1e-6);
    assertClose(`avgPool ${poolName(p)}`, gpu[i].avg, cpu[i].avg, 1e-6);
  });
  assertNoLeaks('pooling gradients', () => { maxPoolGradient(pools[0]); avgPoolGradients(pools[0]); });
});

webgpuTest('webgpu sums and means (bias gradients, global average pooling) match the cpu backend', async () => {
  const reductions = spatialReductions();
  const { cpu, gpu } = await onBoth(() => reductions.map((r) => {
    const t = reduce(r);
    const out = { shape: t.shape, values: t.dataSync() as Float32Array };
    t.dispose();
    return out;
  }));
  reductions.forEach((r, i) => {
    const name = `${r.op} of ${r.shape} over ${r.axis}${r.keepDims ? ' keepDims' : ''}`;
    assert.deepEqual(gpu[i].shape, cpu[i].shape, `${name}: shape`);
    assertClose(name, { y: gpu[i].values }, { y: cpu[i].values }, 1e-6);
  });
});

/** A batch-norm layer as the backbones build it, with seeded non-trivial gamma, beta and moving statistics. */
function batchNorm(shape: number[]): tf.layers.Layer {
  const channels = shape[shape.length - 1];
  const layer = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 });
  layer.build([null, ...shape.slice(1)]);
  tf.tidy(() => layer.setWeights([
    rand([channels], 11, 0.5, 1.5), rand([channels], 12), rand([channels], 13), rand([channels], 14, 0.5, 2),
  ]));
  return layer;
}

/** Batch norm in training (batch statistics, moving averages updated) or inference mode: outputs and gradients. */
function batchNormGradients(shape: number[], training: boolean): Named {
  const layer = batchNorm(shape);
  const out = tf.tidy(() => {
    const x = rand(shape, 15, -2, 3);
    const r = rand(shape, 16);
    const y = layer.apply(x, { training }) as tf.Tensor;
    const { value, grads } = tf.variableGrads(() => (layer.apply(x, { training }) as tf.Tensor).mul(r).sum() as tf.Scalar);
    const dx = tf.grad((a: tf.Tensor) => (layer.apply(a, { training }) as tf.Tensor).mul(r).sum())(x);
    const [gamma, beta, movingMean, movingVar] = layer.getWeights();
    return values({ y, loss: value, dx, ...gradientsByWeight(grads), movingMean, movingVar, gamma, beta });
  });
  disposeWeights(layer);
  return out;
}

webgpuTest('webgpu batch norm (training and inference) and its gradients match the cpu backend', async () => {
  for (const shape of [[6, 8, 8, 4], [5, 3, 7, 16], [2, 16, 16, 8], [4, 10]]) {
    for (const training of [true, false]) {
      const { cpu, gpu } = await onBoth(() => batchNormGradients(shape, training));
      assertClose(`batch norm ${shape} ${training ? 'training' : 'inference'}`, gpu, cpu, 1e-5);
    }
  }
  assertNoLeaks('batch norm gradients', () => batchNormGradients([2, 4, 4, 3], true));
});

/** A dense layer (seeded glorot weights) with its input, kernel and bias gradients. */
function denseGradients(inDim: number, units: number, batch: number): Named {
  const layer = tf.layers.dense({
    units, kernelInitializer: tf.initializers.glorotUniform({ seed: 21 }), biasInitializer: 'ones',
  });
  const out = tf.tidy(() => {
    const x = rand([batch, inDim], 22);
    const r = rand([batch, units], 23);
    const y = layer.apply(x) as tf.Tensor;
    const { grads } = tf.variableGrads(() => (layer.apply(x) as tf.Tensor).mul(r).sum() as tf.Scalar);
    const dx = tf.grad((a: tf.Tensor) => (layer.apply(a) as tf.Tensor).mul(r).sum())(x);
    return values({ y, dx, ...gradientsByWeight(grads) });
  });
  disposeWeights(layer);
  return out;
}

webgpuTest('webgpu dense layers match the cpu backend', async () => {
  for (const [inDim, units, batch] of [[64, 7, 32], [3, 5, 1], [512, 128, 16], [100, 33, 9]]) {
    const { cpu, gpu } = await onBoth(() => denseGradients(inDim, units, batch));
    assertClose(`dense ${inDim}->${units}, batch ${batch}`, gpu, cpu, 1e-5);
  }
  assertNoLeaks('dense gradients', () => denseGradients(8, 3, 2));
});

webgpuTest('webgpu PReLU, LeakyReLU and ReLU with gradients match the cpu backend', async () => {
  const shape = [3, 5, 4, 6];
  const cases: Record<string, () => Named> = {
    leakyRelu: () => withGradients(() => [rand(shape, 31)], (x) => tf.leakyRelu(x, 0.2)),
    preluOp: () => withGradients(() => [rand(shape, 31), rand([6], 32, 0, 0.5)], (x, a) => tf.prelu(x, a)),
    relu: () => withGradients(() => [rand(shape, 31)], (x) => tf.relu(x)),
    leakyReluLayer: () => withGradients(() => [rand(shape, 31)],
      (x) => tf.layers.leakyReLU({ alpha: 0.1 }).apply(x) as tf.Tensor),
    preluLayer: () => {
      const layer = tf.layers.prelu({ alphaInitializer: tf.initializers.constant({ value: 0.25 }) });
      layer.build(shape);  // its alpha must exist before variableGrads looks for trainable variables
      const out = tf.tidy(() => {
        const x = rand(shape, 31);
        const r = rand(shape, 33);
        const { value, grads } = tf.variableGrads(() => (layer.apply(x) as tf.Tensor).mul(r).sum() as tf.Scalar);
        return values({ loss: value, dAlpha: Object.values(grads)[0] });
      });
      disposeWeights(layer);
      return out;
    },
  };
  for (const [name, f] of Object.entries(cases)) {
    const { cpu, gpu } = await onBoth(f);
    assertClose(name, gpu, cpu, 1e-6);
  }
});

webgpuTest('webgpu softmax and sigmoid cross-entropy and their gradients match the cpu backend', async () => {
  for (const [batch, classes] of [[32, 7], [1, 3], [64, 100]]) {
    const f = () => tf.tidy(() => {
      const logits = rand([batch, classes], 41, -6, 6);
      const labels = tf.randomUniform([batch], 0, classes, 'int32', 42) as tf.Tensor1D;
      const oneHot = tf.oneHot(labels, classes);
      const ours = (l: tf.Tensor) => crossEntropy(l as tf.Tensor2D, labels);
      const tfjs = (l: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, l) as tf.Scalar;
      const sigmoid = (l: tf.Tensor) => tf.losses.sigmoidCrossEntropy(tf.greater(oneHot, 0).cast('float32'), l) as tf.Scalar;
      return values({
        ours: ours(logits), dOurs: tf.grad(ours)(logits), tfjs: tfjs(logits), dTfjs: tf.grad(tfjs)(logits),
        sigmoid: sigmoid(logits), dSigmoid: tf.grad(sigmoid)(logits), softmax: tf.softmax(logits), argMax: tf.argMax(logits, 1),
      });
    });
    const { cpu, gpu } = await onBoth(f);
    assertClose(`cross-entropy, ${batch} x ${classes}`, gpu, cpu, 1e-5);
  }
});

webgpuTest('webgpu concat along the batch, split, slice, subtraction and global average pooling match cpu', async () => {
  const shape = [4, 6, 5, 8];
  const cases: Record<string, () => Named> = {
    concatSplit: () => withGradients(() => [rand(shape, 51), rand(shape, 52)], (a, b) => {
      const [t, r] = tf.split(tf.concat([a, b], 0), [4, 4], 0);
      return tf.sub(tf.mul(t, 2), r);
    }),
    slice: () => withGradients(() => [rand(shape, 53)], (x) => tf.concat([
      tf.slice(x, [1, 0, 2, 0], [2, 6, 3, 8]),
      tf.slice(x, [0, 1, 0, 3], [2, 5, 3, 5]).pad([[0, 0], [0, 1], [0, 0], [0, 3]]),
    ], 0)),
    gap: () => withGradients(() => [rand(shape, 54)], (x) => tf.layers.globalAveragePooling2d({}).apply(x) as tf.Tensor),
    meanHw: () => withGradients(() => [rand(shape, 55)], (x) => tf.mean(x, [1, 2])),
    ndf: () => withGradients(() => [rand(shape, 56), rand(shape, 57)], (a, b) => {
      const pooled = tf.mean(tf.concat([a, b], 0), [1, 2]);
      const [t, r] = tf.split(pooled, 2, 0);
      return tf.sub(t, r);
    }),
  };
  for (const [name, f] of Object.entries(cases)) {
    const { cpu, gpu } = await onBoth(f);
    assertClose(name, gpu, cpu, 1e-6);
  }
});

webgpuTest('webgpu: the other ops the models use match the cpu backend', async () => {
  const x4 = () => rand([2, 5, 6, 3], 61, -2, 2);
  const cases: Record<string, () => Named> = {
    sigmoid: () => withGradients(() => [x4()], (x) => tf.sigmoid(x)),
    tanh: () => withGradients(() => [x4()], (x) => tf.tanh(x)),
    square: () => withGradients(() => [x4()], (x) => tf.sqrt(tf.add(tf.square(x), 1))),
    abs: () => withGradients(() => [x4()], (x) => tf.abs(x)),
    maximum: () => withGradients(() => [x4(), rand([2, 5, 6, 3], 62)], (a, b) => tf.maximum(a, b)),
    clip: () => withGradients(() => [x4()], (x) => tf.clipByValue(x, -0.5, 0.7)),
    div: () => withGradients(() => [x4(), rand([3], 63, 1, 2)], (a, b) => tf.div(a, b)),
    tile: () => withGradients(() => [rand([1, 1, 1, 3], 64)], (x) => tf.tile(x, [2, 5, 6, 1])),
    zeroPad: () => withGradients(() => [x4()],
      (x) => tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]] }).apply(x) as tf.Tensor),
    reverse: () => withGradients(() => [x4()], (x) => tf.reverse(x, 2)),
    norm: () => withGradients(() => [rand([6, 16], 65)], (x) => tf.div(x, tf.norm(x, 'euclidean', 1, true))),
    logSoftmax: () => withGradients(() => [rand([6, 7], 66, -5, 5)], (x) => tf.logSoftmax(x)),
    addN: () => withGradients(() => [x4(), x4(), x4()], (a, b, c) => tf.addN([a, b, c])),
    moments: () => withGradients(() => [x4()], (x) => {
      const m = tf.moments(x, [0, 1, 2]);
      return tf.concat([m.mean, m.variance]);
    }),
    // the cpu backend's ResizeBilinearGrad swaps height and width of non-square inputs: gradients on square ones only
    resize: () => values({ y: tf.tidy(() => tf.image.resizeBilinear(x4() as tf.Tensor4D, [9, 11])) }),
    resizeGrad: () => withGradients(() => [rand([2, 6, 6, 3], 69)], (x) => tf.image.resizeBilinear(x as tf.Tensor4D, [9, 13])),
    transpose: () => withGradients(() => [rand([2, 3, 4], 67)], (x) => tf.transpose(x, [0, 2, 1])),
    multiply: () => withGradients(() => [x4(), rand([2, 1, 1, 3], 68)],
      (a, b) => tf.layers.multiply().apply([a, tf.tile(b, [1, 5, 6, 1])]) as tf.Tensor),
  };
  for (const [name, f] of Object.entries(cases)) {
    const { cpu, gpu } = await onBoth(f);
    assertClose(name, gpu, cpu, 1e-5);
  }
});
