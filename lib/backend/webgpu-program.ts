/**
 * Helpers for kernels we add to the webgpu backend: a flat
 * one-thread-per-output-element WGSL program in tfjs-backend-webgpu's own
 * layout (its generated header gives getX(), getCoordsFromIndex(),
 * setOutputAtIndex() and the uniforms), and calls of the backend's kernels.
 */
import * as tf from '@tensorflow/tfjs';

export type Uniform = { type: 'int32'; data: number[] };
export interface WebGpuBackend extends tf.KernelBackend {
  runWebGPUProgram(program: object, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms: Uniform[]): tf.TensorInfo;
  disposeData(dataId: object): boolean;
  device: { limits: { maxStorageBufferBindingSize: number; maxBufferSize: number } };
}
interface WebGpuUtil {
  flatDispatchLayout(shape: number[]): { x: number[] };
  computeDispatch(layout: { x: number[] }, shape: number[], workgroupSize: number[]): [number, number, number];
}

export const int32 = (...data: number[]): Uniform => ({ type: 'int32', data });

/** A program whose `code` defines `fn main(index : i32)` over the flat output index. */
export function flatProgram(
  key: string, variableNames: string[], uniforms: string, outputShape: number[], code: string,
) {
  const util = (require('@tensorflow/tfjs-backend-webgpu') as { webgpu_util: WebGpuUtil }).webgpu_util;
  const workgroupSize: [number, number, number] = [64, 1, 1];
  const dispatchLayout = util.flatDispatchLayout(outputShape);
  return {
    variableNames, uniforms, outputShape, workgroupSize, dispatchLayout, size: true, shaderKey: key,
    dispatch: util.computeDispatch(dispatchLayout, outputShape, workgroupSize),
    getUserCode: () => code,
  };
}

/** Runs one of the webgpu backend's registered kernels on TensorInfos. */
export function runKernel(
  backend: WebGpuBackend, name: string, inputs: Record<string, tf.TensorInfo>, attrs: object = {},
): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'webgpu');
  if (!kernel) throw new Error(`the webgpu backend has no '${name}' kernel`);
  const out = kernel.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap });
  return Array.isArray(out) ? out[0] : out;
}
