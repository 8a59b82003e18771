/**
 * Fixes wasm convolutions with 'same' padding when the kernel is smaller than
 * the stride (e.g. a 1x1 stride-2 shortcut in ResNet-18).
 *
 * tfjs-backend-wasm 4.22 passes 'same' to XNNPACK as its TensorFlow-SAME flag,
 * which gives wrong outputs (off by whole rows) when kernel < stride. Passing
 * the same padding as explicit amounts takes XNNPACK's plain path instead,
 * which matches the cpu backend (checked in test/wasm-conv-gradients.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { replaceWasmKernel } from './wasm-kernel-scope';

const KERNELS = ['Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D'];

export function registerWasmSamePaddingFix(): void {
  for (const kernelName of KERNELS) {
    replaceWasmKernel(kernelName, 'samePaddingFix', (original) => (args) => {
      const attrs = args.attrs as { pad?: unknown; strides: number | [number, number]; dilations?: number | [number, number] };
      if (attrs.pad !== 'same') return original(args);
      const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
      const depthwise = kernelName.includes('Depthwise');
      const { padInfo } = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
        attrs.strides, attrs.dilations ?? 1, 'same', undefined, depthwise);
      const pad = [[0, 0], [padInfo.top, padInfo.bottom], [padInfo.left, padInfo.right], [0, 0]];
      return original({ ...args, attrs: { ...args.attrs, pad } as unknown as tf.NamedAttrMap });
    });
  }
}
