/**
 * Conv2DBackpropFilter for the webgpu backend as one matrix product:
 * dW[kh, kw, ci, co] = patches(x)ᵀ · dy, with patches [B·OH·OW, KH·KW·Ci].
 *
 * tfjs-backend-webgpu 4.22 gives each filter weight one GPU thread that sums
 * over the whole batch and every output pixel: a 3x3 conv from 1 to 32
 * channels runs 288 threads of 131k steps each; on lavapipe this kernel took
 * 2.8 of a cnn3-64 step's 4.3 s of kernel time (0.6 s this way). A WGSL
 * im2col writes the patches (one thread per element) and the backend's own
 * BatchMatMul, which splits long inner dimensions across workgroups, does
 * the sum. Batches whose
 * patches exceed a storage-buffer budget go in chunks whose products are
 * added. Checked against the cpu backend in test/webgpu-ops.test.ts.
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { replaceKernel } from './kernel-replace';
import { flatProgram, int32, runKernel, type WebGpuBackend } from './webgpu-program';

interface FilterGradAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** patches[row, col]: row = (b, oy, ox) of images batchStart.., col = (kh, kw, ci), zero outside the image. */
const IM2COL = `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let col = index % uniforms.cols;
      let row = index / uniforms.cols;
      let c = col % uniforms.inChannels;
      let wC = (col / uniforms.inChannels) % uniforms.filterDims.y;
      let wR = col / (uniforms.inChannels * uniforms.filterDims.y);
      let ox = row % uniforms.outDims.y;
      let oy = (row / uniforms.outDims.y) % uniforms.outDims.x;
      let b = row / (uniforms.outDims.x * uniforms.outDims.y) + uniforms.batchStart;
      let xR = oy * uniforms.strides.x - uniforms.pads.x + wR;
      let xC = ox * uniforms.strides.y - uniforms.pads.y + wC;
      var value = 0.0;
      if (xR >= 0 && xR < uniforms.inDims.x && xC >= 0 && xC < uniforms.inDims.y) {
        value = getX(b, xR, xC, c);
      }
      setOutputAtIndex(index, value);
    }
  }`;

let budgetOverride: number | undefined;
/** Bytes of patches one chunk may hold: a quarter of the binding limit, at most 256 MiB (memory for the rest). */
const chunkBudget = (gpu: WebGpuBackend) =>
  budgetOverride ?? Math.min(gpu.device.limits.maxStorageBufferBindingSize / 4, 2 ** 28);

/** Tests only: a small budget makes ordinary batches take the chunked path (undefined restores the default). */
export function setFilterGradientChunkBytes(bytes: number | undefined): void {
  budgetOverride = bytes;
}

function filterGradient(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const a = args.attrs as unknown as FilterGradAttrs;
    const gpu = args.backend as WebGpuBackend;
    if (a.dataFormat === 'NCHW' || x.dtype !== 'float32') return original(args);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode);
    const { batchSize, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth } = info;
    const cols = filterHeight * filterWidth * inChannels;
    const rowsPerImage = outHeight * outWidth;
    const perChunk = Math.min(batchSize, Math.floor(chunkBudget(gpu) / (4 * rowsPerImage * cols)));
    if (perChunk < 1) return original(args);
    const made: tf.TensorInfo[] = [];
    const keep = (t: tf.TensorInfo) => { made.push(t); return t; };
    let sum: tf.TensorInfo | undefined;
    for (let b0 = 0; b0 < batchSize; b0 += perChunk) {
      const nb = Math.min(perChunk, batchSize - b0);
      const patches = keep(gpu.runWebGPUProgram(
        flatProgram('ferConvFilterIm2Col', ['x'],
          'cols : i32, inChannels : i32, batchStart : i32, strides : vec2<i32>, pads : vec2<i32>, ' +
          'inDims : vec2<i32>, outDims : vec2<i32>, filterDims : vec2<i32>,', [1, nb * rowsPerImage, cols], IM2COL),
        [x], 'float32',
        [int32(cols), int32(inChannels), int32(b0), int32(info.strideHeight, info.strideWidth),
          int32(info.padInfo.top, info.padInfo.left), int32(info.inHeight, info.inWidth), int32(outHeight, outWidth),
          int32(filterHeight, filterWidth)]));
      const dyPart = nb === batchSize ? dy
        : keep(runKernel(gpu, 'Slice', { x: dy }, { begin: [b0, 0, 0, 0], size: [nb, -1, -1, -1] }));
      const dyRows = keep(runKernel(gpu, 'Reshape', { x: dyPart }, { shape: [1, nb * rowsPerImage, outChannels] }));
      const part = keep(runKernel(gpu, 'BatchMatMul', { a: patches, b: dyRows }, { transposeA: true }));
      sum = sum ? keep(runKernel(gpu, 'Add', { a: sum, b: part })) : part;
    }
    const dw = runKernel(gpu, 'Reshape', { x: sum! }, { shape: a.filterShape });
    for (const t of made) gpu.disposeData(t.dataId);
    return dw;
  };
}

/** Replaces webgpu's Conv2DBackpropFilter; call once the webgpu backend is registered. */
export function registerWebGpuConvFilterGradient(): void {
  replaceKernel('webgpu', 'Conv2DBackpropFilter', 'byMatMul', filterGradient);
}
