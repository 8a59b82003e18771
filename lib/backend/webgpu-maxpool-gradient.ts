/**
 * MaxPoolGrad for the webgpu backend that sends each window's gradient to
 * its first maximum, as the cpu backend does.
 *
 * tfjs-backend-webgpu 4.22 finds each window's maximum with `>=`, so where
 * a window holds equal maxima (common after ReLU: all zeros, or a saturated
 * input) the gradient goes to the last of them instead of the first; up to
 * half of a 2x2-pooled ReLU net's pooling gradients then land elsewhere than
 * on cpu (and on our wasm kernel). This kernel runs the same two passes
 * (positions of the maxima, then dy routed back to them) with a strict `>`
 * in row-major window order, and integer index arithmetic for the routing.
 * Checked in test/webgpu-ops.test.ts.
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { replaceKernel } from './kernel-replace';
import { flatProgram, int32, type WebGpuBackend } from './webgpu-program';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Index (wR * filterWidth + wC) of each window's first strict maximum, -1 if none (as the cpu backend). */
const POSITIONS = `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let coords = getCoordsFromIndex(index);
      let corner = vec2<i32>(coords.yz) * uniforms.strides - uniforms.pads;
      var maxValue = -uniforms.INFINITY;
      var maxPosition = -1;
      for (var wR = 0; wR < uniforms.filterDims.x; wR++) {
        let xR = corner.x + wR;
        if (xR < 0 || xR >= uniforms.inDims.x) { continue; }
        for (var wC = 0; wC < uniforms.filterDims.y; wC++) {
          let xC = corner.y + wC;
          if (xC < 0 || xC >= uniforms.inDims.y) { continue; }
          let value = getX(coords[0], xR, xC, coords[3]);
          if (value > maxValue) {
            maxValue = value;
            maxPosition = wR * uniforms.filterDims.y + wC;
          }
        }
      }
      setOutputAtIndexI32(index, maxPosition);
    }
  }`;

/** dx: the sum of dy over the windows whose maximum this element is, in the cpu backend's order. */
const BACKPROP = `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let coords = getCoordsFromIndex(index);
      let corner = vec2<i32>(coords.yz) - uniforms.pads;
      let last = uniforms.filterDims.x * uniforms.filterDims.y - 1;
      var dotProd = 0.0;
      for (var wR = 0; wR < uniforms.filterDims.x; wR++) {
        let r = corner.x + wR;
        if (r < 0 || r % uniforms.strides.x != 0 || r / uniforms.strides.x >= uniforms.outDims.x) { continue; }
        let dyR = r / uniforms.strides.x;
        for (var wC = 0; wC < uniforms.filterDims.y; wC++) {
          let c = corner.y + wC;
          if (c < 0 || c % uniforms.strides.y != 0 || c / uniforms.strides.y >= uniforms.outDims.y) { continue; }
          let dyC = c / uniforms.strides.y;
          if (last - i32(getMaxPos(coords[0], dyR, dyC, coords[3])) == wR * uniforms.filterDims.y + wC) {
            dotProd += getDy(coords[0], dyR, dyC, coords[3]);
          }
        }
      }
      setOutputAtIndex(index, dotProd);
    }
  }`;

const maxPoolGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const a = attrs as unknown as PoolAttrs;
  const gpu = backend as WebGpuBackend;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const filter = [info.effectiveFilterHeight, info.effectiveFilterWidth];
  const strides = [info.strideHeight, info.strideWidth];
  const positions = gpu.runWebGPUProgram(
    flatProgram('ferMaxPoolFirstPositions', ['x'],
      'strides : vec2<i32>, pads : vec2<i32>, inDims : vec2<i32>, filterDims : vec2<i32>,', info.outShape, POSITIONS),
    [input], 'int32',
    [int32(...strides), int32(info.padInfo.top, info.padInfo.left), int32(info.inHeight, info.inWidth),
      int32(...filter)]);
  const dx = gpu.runWebGPUProgram(
    flatProgram('ferMaxPoolFirstBackprop', ['dy', 'maxPos'],
      'strides : vec2<i32>, pads : vec2<i32>, filterDims : vec2<i32>, outDims : vec2<i32>,', info.inShape, BACKPROP),
    [dy, positions], input.dtype,
    [int32(...strides), int32(filter[0] - 1 - info.padInfo.top, filter[1] - 1 - info.padInfo.left), int32(...filter),
      int32(info.outHeight, info.outWidth)]);
  gpu.disposeData(positions.dataId);
  return dx;
};

/** Replaces webgpu's MaxPoolGrad; call once the webgpu backend is registered. */
export function registerWebGpuMaxPoolGradient(): void {
  replaceKernel('webgpu', 'MaxPoolGrad', 'firstMaximum', () => maxPoolGrad);
}
