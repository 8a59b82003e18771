/**
 * Shapes and computations that compare a backend's convolution and pooling
 * outputs and gradients with the reference cpu backend: used by the wasm
 * tests (wasm-conv-gradients.test.ts) and the webgpu tests
 * (webgpu-ops.test.ts). Inputs are seeded, so every backend sees the same numbers.
 */
import * as tf from '@tensorflow/tfjs';

export interface ConvCase {
  name: string; batch: number; h: number; w: number; cin: number; cout: number;
  kh: number; kw: number; stride: number | [number, number]; pad: 'same' | 'valid';
}

/** Every kernel size (1x1 to 5x5, 3x1) and padding at the given strides, plus a few special shapes. */
export function convCases(strides: readonly (1 | 2 | 3)[]): ConvCase[] {
  const cases: ConvCase[] = [];
  for (const pad of ['same', 'valid'] as const)
    for (const stride of strides)
      for (const [kh, kw] of [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [3, 1]])
        for (const [cin, cout] of [[1, 8], [3, 4], [16, 5]])
          for (const [h, w] of [[7, 7], [8, 6], [12, 9]])
            if (kh <= h && kw <= w) cases.push({ name: '', batch: 2, h, w, cin, cout, kh, kw, stride, pad });
  cases.push({ name: '', batch: 3, h: 9, w: 11, cin: 5, cout: 7, kh: 3, kw: 3, stride: [2, 1], pad: 'same' });
  cases.push({ name: '', batch: 1, h: 32, w: 32, cin: 32, cout: 64, kh: 3, kw: 3, stride: 1, pad: 'same' });
  // batch 1 on the wasm patch-copy paths: whole planes (stride 1 'same'), row runs (stride [2, 1]), single pixels
  for (const [stride, pad] of [[1, 'same'], [[2, 1], 'same'], [2, 'same'], [2, 'valid'], [1, 'valid']] as const)
    cases.push({ name: '', batch: 1, h: 6, w: 5, cin: 2, cout: 3, kh: 3, kw: 3, stride: stride as ConvCase['stride'], pad });
  for (const c of cases) c.name = `b${c.batch} ${c.h}x${c.w}x${c.cin} k${c.kh}x${c.kw}->${c.cout} s${c.stride} ${c.pad}`;
  return cases;
}

/** conv(x, w), and the gradients of sum(conv(x, w) * r) (r makes every output matter). */
export function convGradients(c: ConvCase, fused: boolean): Float32Array[] {
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

/** max |a - b| over max |b|: the error relative to the reference's scale. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0, scale = 1e-12;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return Number.isNaN(diff) ? Infinity : diff / scale;
}

export interface PoolCase {
  batch: number; h: number; w: number; c: number;
  size: number | [number, number]; stride: number | [number, number]; pad: 'same' | 'valid';
}

export function poolCases(): PoolCase[] {
  const cases: PoolCase[] = [];
  for (const [size, stride] of [[2, 2], [3, 2], [3, 1], [2, 1], [[2, 3], [2, 1]]] as const)
    for (const pad of ['same', 'valid'] as const)
      for (const [h, w, c] of [[8, 8, 1], [9, 7, 3], [6, 10, 5]]) {
        cases.push({ batch: 2, h, w, c, size: size as PoolCase['size'], stride: stride as PoolCase['stride'], pad });
      }
  cases.push({ batch: 1, h: 4, w: 6, c: 3, size: 2, stride: 2, pad: 'valid' });
  return cases;
}

export const poolName = (p: PoolCase) => `${p.size} stride ${p.stride} ${p.pad} on ${p.h}x${p.w}x${p.c}`;

/** Windows that do not overlap: one gradient term per input element, so a correct backend is exact. */
export function disjointWindows(p: PoolCase): boolean {
  const pair = (v: number | readonly number[]) => (typeof v === 'number' ? [v, v] : v);
  return pair(p.stride).every((st, k) => st >= pair(p.size)[k]);
}

/**
 * Gradient of sum(maxPool(relu(x)) * r): ReLU makes windows of tied zeros,
 * where the tie rule shows.
 */
export function maxPoolGradient(p: PoolCase): Float32Array {
  return tf.tidy(() => {
    const x = tf.randomUniform([p.batch, p.h, p.w, p.c], -1, 1, 'float32', 5).relu() as tf.Tensor4D;
    const r = tf.randomUniform(tf.maxPool(x, p.size, p.stride, p.pad).shape, -1, 1, 'float32', 6);
    return tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, p.size, p.stride, p.pad).mul(r).sum())(x).dataSync() as Float32Array;
  });
}

export interface Reduction { shape: number[]; op: 'sum' | 'mean'; axis: number[]; keepDims: boolean }

/** Sums and means over spatial and other axes (bias gradients, global average pooling, batch-norm moments). */
export function spatialReductions(): Reduction[] {
  const out: Reduction[] = [];
  for (const shape of [[2, 7, 5, 3], [1, 4, 4, 8], [3, 1, 6, 2]])
    for (const op of ['sum', 'mean'] as const)
      for (const axis of [[0, 1, 2], [1, 2], [-3, -2], [0, 1, 2, 3], [2]])
        for (const keepDims of [false, true]) out.push({ shape, op, axis, keepDims });
  return out;
}

export function reduce(r: Reduction): tf.Tensor {
  return tf.tidy(() => {
    const x = tf.randomUniform(r.shape, -1, 1, 'float32', 7);
    return r.op === 'sum' ? tf.sum(x, r.axis, r.keepDims) : tf.mean(x, r.axis, r.keepDims);
  });
}
