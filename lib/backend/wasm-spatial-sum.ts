/**
 * Sum and Mean over the spatial axes of NHWC tensors on the wasm backend, by
 * average pooling.
 *
 * tfjs-backend-wasm 4.22 reduces over axes that are not the last ones by
 * transposing first: a conv layer's bias gradient (Sum of dy over batch,
 * height and width) took about 7 ms for 32x64x64x32 on this machine, and
 * global average pooling (Mean over height and width) about 4 ms. XNNPACK's
 * average pooling with one window as large as the image does the height x
 * width part in well under 1 ms (multi-threaded, split by image, so results
 * do not depend on the thread count); the original kernel then reduces the
 * small [B, 1, 1, C] result over whatever axes remain. Pooling sums in blocks,
 * so it is also closer to the exact sum than the sequential original
 * (checked against float64 sums in test/wasm-conv-gradients.test.ts).
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { KernelScope, replaceWasmKernel, type Backend } from './wasm-kernel-scope';

interface ReduceAttrs { axis: number | number[]; keepDims: boolean }

function spatialReduce(kernelName: 'Sum' | 'Mean', original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis } = args.attrs as unknown as ReduceAttrs;
    if (x.dtype !== 'float32' || x.shape.length !== 4) return original(args);
    const axes = tf.util.parseAxisParam(axis, x.shape);
    if (!axes.includes(1) || !axes.includes(2) || axes.includes(3)) return original(args);
    const [, h, w] = x.shape;
    const s = new KernelScope(args.backend as Backend);
    const pooled = s.run('AvgPool', { x }, { filterSize: [h, w], strides: [1, 1], pad: 'valid' });  // [B, 1, 1, C]
    if (kernelName === 'Sum') {
      const [p] = s.views(pooled);
      for (let i = 0; i < p.length; i++) p[i] *= h * w;
    }
    // height and width now have size 1: the original reduces the batch axis if asked, and sets the shape
    const out = original({ ...args, inputs: { x: pooled } }) as tf.TensorInfo;
    return s.finish(out);
  };
}

/** Replaces wasm's Sum and Mean with the pooled path for spatial reductions; call once, before training. */
export function registerWasmSpatialSum(): void {
  for (const kernelName of ['Sum', 'Mean'] as const) {
    replaceWasmKernel(kernelName, 'pooled', (original) => spatialReduce(kernelName, original));
  }
}
