/**
 * Conv2D gradients for the wasm backend, built from forward convolutions.
 *
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel and a slow
 * Conv2DBackpropInput, so CNNs cannot train on it. Both gradients are
 * convolutions themselves, and wasm's forward Conv2D (XNNPACK) is fast:
 *   input gradient:  dilate dy by the stride, pad it, and convolve it with
 *                    the spatially flipped filter with in/out channels swapped
 *   filter gradient: one matrix product, patches^T x dy, where patches^T
 *                    [kh*kw*Cin, B*oh*ow] (im2col, transposed) is built in
 *                    the heap by JS block copies (at stride 1, each row is
 *                    a channel plane shifted by the tap's offset, with its
 *                    edges zeroed) and wasm's BatchMatMul
 *                    (XNNPACK) does the product; for inputs whose patches
 *                    would not fit in memory, a convolution of x transposed
 *                    to [Cin, H, W, B] with dy transposed to [oh, ow, B, Cout]
 *                    (dilation = stride), which needs no patches but is
 *                    about twice as slow (wasm's Transpose is slow)
 * Registering them as the wasm kernels (rather than overriding gradients)
 * fixes every path that reaches them: tf.conv2d, tf.fused.conv2d, tf.layers.
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';

import { KernelScope, transpose2d, type Backend } from './wasm-kernel-scope';

type TensorInfo = tf.TensorInfo;

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function convInfo(xShape: number[], filterShape: number[], a: ConvAttrs) {
  if (a.dataFormat === 'NCHW') {
    throw new Error('wasm conv2d gradients support NHWC (channels-last) only');
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
}

function conv2dBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap }): TensorInfo {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const info = convInfo(attrs.inputShape, filter.shape, attrs);
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, padInfo } = info;
  const [batch, oh, ow, cout] = dy.shape;
  const [, inH, inW] = attrs.inputShape;
  const s = new KernelScope(args.backend as Backend);

  // Dilate dy by the stride: [B, oh, 1, ow, 1, C] padded to [B, oh, sh, ow, sw, C]
  let d = dy;
  if (sh > 1 || sw > 1) {
    d = s.run('Reshape', { x: d }, { shape: [batch, oh, 1, ow, 1, cout] });
    d = s.run('PadV2', { x: d }, {
      paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0,
    });
    d = s.run('Reshape', { x: d }, { shape: [batch, oh * sh, ow * sw, cout] });
  }
  // Pad so that a stride-1 valid convolution yields exactly [inH, inW]
  d = s.padOrCrop(d, [
    [0, 0],
    [kh - 1 - padInfo.top, inH + padInfo.top - oh * sh],
    [kw - 1 - padInfo.left, inW + padInfo.left - ow * sw],
    [0, 0],
  ]);
  const w = flippedFilter(s, filter);
  const dx = s.run('Conv2D', { x: d, filter: w }, {
    strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1],
  });
  return s.finish(dx);
}

/** [kh, kw, Cin, Cout] -> spatially flipped [kh, kw, Cout, Cin], in one JS pass (wasm's Reverse + Transpose take longer). */
function flippedFilter(s: KernelScope, filter: TensorInfo): TensorInfo {
  const [kh, kw, cin, cout] = filter.shape;
  if (filter.dtype !== 'float32') {
    return s.run('Transpose', { x: s.run('Reverse', { x: filter }, { dims: [0, 1] }) }, { perm: [0, 1, 3, 2] });
  }
  const out = s.alloc([kh, kw, cout, cin]);
  const [f, o] = s.views(filter, out);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const src = ((kh - 1 - i) * kw + (kw - 1 - j)) * cin * cout;
      const dst = (i * kw + j) * cout * cin;
      for (let c = 0; c < cin; c++) for (let k = 0; k < cout; k++) o[dst + k * cin + c] = f[src + c * cout + k];
    }
  }
  return out;
}

/** Largest patch matrix (floats) the im2col filter gradient may allocate. */
const MAX_PATCH_FLOATS = 64 * 1024 * 1024;

function conv2dBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap }): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const info = convInfo(x.shape, attrs.filterShape, attrs);
  const s = new KernelScope(args.backend as Backend);
  const patchFloats = info.filterHeight * info.filterWidth * info.inChannels * info.batchSize * info.outHeight * info.outWidth;
  const dw = x.dtype === 'float32' && dy.dtype === 'float32' && patchFloats <= MAX_PATCH_FLOATS
    ? filterGradientByMatMul(s, x, dy, info)
    : filterGradientByConv(s, x, dy, info);
  return s.finish(dw);
}

/** dW [kh*kw*Cin, Cout] = patches^T [kh*kw*Cin, B*oh*ow] x dy [B*oh*ow, Cout]. */
function filterGradientByMatMul(s: KernelScope, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: nb, inHeight: h, inWidth: w, inChannels: cin, outHeight: oh, outWidth: ow, outChannels: cout,
    strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, padInfo: { top, left } } = info;
  const pixels = nb * oh * ow;
  const xT = s.alloc([cin, nb * h * w]);
  const cols = s.alloc([kh * kw * cin, pixels]);
  const [xs, xTs, colsv] = s.views(x, xT, cols);
  transpose2d(xs, xTs, nb * h * w, cin);  // channel planes: each patch row copies runs of one plane
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      // output columns whose input column x0*sw + j - left lies inside the image
      const x0 = Math.max(0, Math.ceil((left - j) / sw));
      const x1 = Math.min(ow, Math.floor((w - 1 + left - j) / sw) + 1);
      for (let c = 0; c < cin; c++) {
        const row = ((i * kw + j) * cin + c) * pixels;
        const plane = c * nb * h * w;
        if (sh === 1 && sw === 1 && oh === h && ow === w) {
          patchPlaneByRuns(colsv, xTs, row, plane, i - top, j - left, nb, h, w, x0, x1);
          continue;
        }
        for (let b = 0; b < nb; b++) {
          if (sw === 1 && ow === w) {
            patchRowsByRuns(colsv, xTs, row + b * oh * ow, plane + b * h * w, i - top, j - left, sh, h, w, oh, x0, x1);
            continue;
          }
          for (let y = 0; y < oh; y++) {
            const out = row + (b * oh + y) * ow;
            const iy = y * sh + i - top;
            if (iy < 0 || iy >= h || x1 <= x0) {
              colsv.fill(0, out, out + ow);
              continue;
            }
            colsv.fill(0, out, out + x0);
            const src = plane + (b * h + iy) * w + j - left;
            for (let xo = x0; xo < x1; xo++) colsv[out + xo] = xTs[src + xo * sw];
            colsv.fill(0, out + x1, out + ow);
          }
        }
      }
    }
  }
  const a = s.run('Reshape', { x: cols }, { shape: [1, kh * kw * cin, pixels] });
  const bm = s.run('Reshape', { x: dy }, { shape: [1, pixels, cout] });
  const g = s.run('BatchMatMul', { a, b: bm }, { transposeA: false, transposeB: false });
  return s.run('Reshape', { x: g }, { shape: [kh, kw, cin, cout] });
}

/**
 * One image's patch rows for one tap and channel when rows are as wide as the
 * image (stride 1 across, 'same' padding): output rows whose input row lies
 * inside the image share their input rows' layout, shifted by dx, so
 * consecutive rows (all of them at vertical stride 1) are one block copy;
 * the columns that the shift wraps across row ends are zeroed afterwards.
 */
function patchRowsByRuns(cols: Float32Array, xT: Float32Array, out: number, src: number, dy: number, dx: number,
  sh: number, h: number, w: number, oh: number, x0: number, x1: number): void {
  const y0 = Math.max(0, Math.ceil(-dy / sh));
  const y1 = Math.min(oh, Math.floor((h - 1 - dy) / sh) + 1);
  cols.fill(0, out, out + Math.min(y0, oh) * w);
  if (y1 > y0) {
    if (sh === 1) {
      copyRun(cols, out + y0 * w, xT, src + (y0 + dy) * w + dx, (y1 - y0) * w);
    } else {
      for (let y = y0; y < y1; y++) {
        copyRun(cols, out + y * w, xT, src + (y * sh + dy) * w + dx, w);
      }
    }
    // the shift brought in neighbouring rows' pixels (or past the block's ends) here
    for (let y = y0; y < y1; y++) {
      const o = out + y * w;
      for (let xo = 0; xo < x0; xo++) cols[o + xo] = 0;
      for (let xo = x1; xo < w; xo++) cols[o + xo] = 0;
    }
  }
  cols.fill(0, out + Math.max(y1, y0) * w, out + oh * w);
}

/**
 * All images' patch rows for one tap and channel at stride 1 with 'same'
 * padding: the output plane is the input plane shifted by (dy, dx), so one
 * block copy, then zeros where the shift crossed an image's or a row's edge.
 */
function patchPlaneByRuns(cols: Float32Array, xT: Float32Array, out: number, src: number, dy: number, dx: number,
  nb: number, h: number, w: number, x0: number, x1: number): void {
  copyRun(cols, out, xT, src + dy * w + dx, nb * h * w);
  const y0 = Math.max(0, -dy), y1 = Math.min(h, h - dy);
  for (let b = 0; b < nb; b++) {
    const image = out + b * h * w;
    cols.fill(0, image, image + y0 * w);
    cols.fill(0, image + y1 * w, image + h * w);
    for (let y = y0; y < y1; y++) {
      const o = image + y * w;
      for (let xo = 0; xo < x0; xo++) cols[o + xo] = 0;
      for (let xo = x1; xo < w; xo++) cols[o + xo] = 0;
    }
  }
}

/** dst[to + k] = src[from + k] for k < n, skipping the ends that fall outside src (they are zeroed by the caller). */
function copyRun(dst: Float32Array, to: number, src: Float32Array, from: number, n: number): void {
  const skip = Math.max(0, -from);
  const end = Math.min(from + n, src.length);
  if (end > from + skip) dst.set(src.subarray(from + skip, end), to + skip);
}

function filterGradientByConv(s: KernelScope, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, padInfo } = info;
  const [, oh, ow] = dy.shape;
  const [, inH, inW] = x.shape;
  // Pad x so that the dilated "filter" dy slides over exactly kh x kw positions
  const xp = s.padOrCrop(x, [
    [0, 0],
    [padInfo.top, kh + (oh - 1) * sh - inH - padInfo.top],
    [padInfo.left, kw + (ow - 1) * sw - inW - padInfo.left],
    [0, 0],
  ]);
  const xT = s.run('Transpose', { x: xp }, { perm: [3, 1, 2, 0] });   // [Cin, H', W', B]
  const dyT = s.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });  // [oh, ow, B, Cout]
  const g = s.run('Conv2D', { x: xT, filter: dyT }, {
    strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw],
  });                                                                  // [Cin, kh, kw, Cout]
  return s.run('Transpose', { x: g }, { perm: [1, 2, 0, 3] });         // [kh, kw, Cin, Cout]
}

/** Replaces wasm's conv2d gradient kernels; call once, before training. */
export function registerWasmConvGradients(): void {
  for (const [kernelName, kernelFunc] of [
    ['Conv2DBackpropInput', conv2dBackpropInput],
    ['Conv2DBackpropFilter', conv2dBackpropFilter],
  ] as const) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
  }
}
