/**
 * MaxPoolGrad for the wasm backend, in JS on the wasm heap.
 *
 * tfjs-backend-wasm 4.22's MaxPoolGrad is slow (about 35 ms for a 2x2 pool
 * over 32x64x64x32 on this machine) and, where a window holds equal maxima
 * (common after ReLU: all zeros), sends the gradient to a different element
 * than the cpu backend. This kernel scans each window once, in row-major
 * order, and gives dy to the first strict maximum, as the cpu backend does,
 * adding contributions in the same order (checked in
 * test/wasm-conv-gradients.test.ts); it is 2-3x faster.
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { KernelScope, type Backend } from './wasm-kernel-scope';

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
    dxs.fill(0);
    const best = new Float32Array(c);
    const at = new Int32Array(c);
    for (let b = 0, o = 0; b < nb; b++) {
      for (let yo = 0; yo < oh; yo++) {
        for (let xo = 0; xo < ow; xo++, o += c) {
          best.fill(-Infinity);
          at.fill(-1);
          for (let wr = 0; wr < fh; wr++) {
            const iy = yo * sh - top + wr;
            if (iy < 0 || iy >= h) continue;
            for (let wc = 0; wc < fw; wc++) {
              const ix = xo * sw - left + wc;
              if (ix < 0 || ix >= w) continue;
              const base = ((b * h + iy) * w + ix) * c;
              for (let ch = 0; ch < c; ch++) {
                const v = xs[base + ch];
                if (v > best[ch]) {
                  best[ch] = v;
                  at[ch] = base + ch;
                }
              }
            }
          }
          for (let ch = 0; ch < c; ch++) if (at[ch] >= 0) dxs[at[ch]] += dys[o + ch];
        }
      }
    }
    return s.finish(dx);
  };
}

/** Replaces wasm's MaxPoolGrad; call once, before training. */
export function registerWasmMaxPoolGradient(): void {
  const original = tf.getKernel('MaxPoolGrad', 'wasm');
  if (!original || (original.kernelFunc as { fromJs?: true }).fromJs) return;
  const kernelFunc: tf.KernelFunc & { fromJs?: true } = maxPoolGrad(original.kernelFunc);
  kernelFunc.fromJs = true;
  tf.unregisterKernel('MaxPoolGrad', 'wasm');
  tf.registerKernel({ ...original, kernelFunc });
}
