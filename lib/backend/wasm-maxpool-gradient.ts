/**
 * MaxPoolGrad for the wasm backend, in JS on the wasm heap.
 *
 * tfjs-backend-wasm 4.22's MaxPoolGrad is slow (about 35 ms for a 2x2 pool
 * over 32x64x64x32 on this machine) and, where a window holds equal maxima
 * (common after ReLU: all zeros), sends the gradient to a different element
 * than the cpu backend. This kernel scans each window once, in row-major
 * order, and gives dy to the first strict maximum, as the cpu backend does,
 * adding contributions in the same order (checked in
 * test/wasm-conv-gradients.test.ts); it is 2-3x faster. 2x2 windows at
 * stride 2 that tile the input (the usual pool) take a shorter path that
 * writes each window's winner once (about 15 instead of 20 ms above).
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { KernelScope, replaceWasmKernel, type Backend } from './wasm-kernel-scope';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function maxPoolGrad(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    if (dy.dtype !== 'float32' || input.dtype !== 'float32') return original(args);
    const a = args.attrs as unknown as PoolAttrs;
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const { batchSize: nb, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow,
      strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, padInfo: { top, left } } = info;
    const s = new KernelScope(args.backend as Backend);
    const dx = s.alloc(input.shape);
    const [xs, dys, dxs] = s.views(input, dy, dx);
    if (fh === 2 && fw === 2 && sh === 2 && sw === 2 && top === 0 && left === 0 && h === 2 * oh && w === 2 * ow) {
      dxs.fill(0);
      pool2x2Gradient(xs, dys, dxs, nb * oh, ow, c);
    } else {
      anyPoolGradient(xs, dys, dxs, info);
    }
    return s.finish(dx);
  };
}

/**
 * 2x2 windows at stride 2 that tile the input exactly (the common pool): every
 * input element is in one window, so only each window's maximum is written
 * (no adds). rows = batch x output rows; window row r covers input rows 2r and 2r+1.
 */
function pool2x2Gradient(xs: Float32Array, dys: Float32Array, dxs: Float32Array, rows: number, ow: number, c: number): void {
  const rowStride = 2 * ow * c;
  for (let r = 0, o = 0; r < rows; r++) {
    for (let xo = 0; xo < ow; xo++, o += c) {
      const p0 = (4 * r * ow + 2 * xo) * c, p1 = p0 + c, p2 = p0 + rowStride, p3 = p2 + c;
      for (let ch = 0; ch < c; ch++) {
        // first strict maximum in row-major order, as the cpu backend picks it
        let best = -Infinity, at = -1;
        const v0 = xs[p0 + ch], v1 = xs[p1 + ch], v2 = xs[p2 + ch], v3 = xs[p3 + ch];
        if (v0 > best) { best = v0; at = p0 + ch; }
        if (v1 > best) { best = v1; at = p1 + ch; }
        if (v2 > best) { best = v2; at = p2 + ch; }
        if (v3 > best) at = p3 + ch;
        if (at >= 0) dxs[at] = dys[o + ch];
      }
    }
  }
}

/** Any window, stride and padding: contributions are added in output order. */
function anyPoolGradient(xs: Float32Array, dys: Float32Array, dxs: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize: nb, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow,
    strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, padInfo: { top, left } } = info;
  dxs.fill(0);
  // offsets of the current window's pixels inside the image, in row-major order
  const window = new Int32Array(fh * fw);
  for (let b = 0, o = 0; b < nb; b++) {
    for (let yo = 0; yo < oh; yo++) {
      for (let xo = 0; xo < ow; xo++, o += c) {
        let n = 0;
        for (let wr = 0; wr < fh; wr++) {
          const iy = yo * sh - top + wr;
          if (iy < 0 || iy >= h) continue;
          for (let wc = 0; wc < fw; wc++) {
            const ix = xo * sw - left + wc;
            if (ix >= 0 && ix < w) window[n++] = ((b * h + iy) * w + ix) * c;
          }
        }
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity, at = -1;
          for (let k = 0; k < n; k++) {
            const v = xs[window[k] + ch];
            if (v > best) {
              best = v;
              at = window[k] + ch;
            }
          }
          if (at >= 0) dxs[at] += dys[o + ch];
        }
      }
    }
  }
}

/** Replaces wasm's MaxPoolGrad; call once, before training. */
export function registerWasmMaxPoolGradient(): void {
  replaceWasmKernel('MaxPoolGrad', 'fromJs', maxPoolGrad);
}
