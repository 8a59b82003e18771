/**
 * Tile for the wasm backend, by block copies in the wasm heap.
 *
 * tfjs-backend-wasm 4.22's Tile computes every output element's source index
 * separately. tfjs's batch-norm gradient tiles the per-channel 1/sqrt(var)
 * to the activation's full size, so in the lite profile's backbone (conv ->
 * batch norm -> ReLU blocks) Tile took over half of a training step on this
 * machine. Here the input is first placed at the output's corner (tile 0 of
 * every axis), then, from the last axis to the first, each filled block is
 * repeated along its axis by doubling copies (copyWithin): a handful of
 * memory-speed copies instead of an index computation per element. Results
 * are copies of the input's values, so they equal the original kernel's
 * exactly (checked in test/backend-tile.test.ts).
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { replaceWasmKernel, type Backend } from './wasm-kernel-scope';

type HeapBackend = Backend & { typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array };

/** out (shape s[d] * reps[d]) = x (shape s) repeated along every axis. */
export function tileInto(x: ArrayLike<number>, out: Float32Array | Int32Array | Uint8Array, shape: number[], reps: number[]): void {
  const rank = shape.length;
  const outShape = shape.map((d, i) => d * reps[i]);
  const outStride = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) outStride[d] = outStride[d + 1] * outShape[d + 1];
  const last = rank ? shape[rank - 1] : 1;
  // the input at the corner: each run along the last axis stays contiguous
  const index = new Array<number>(rank).fill(0);
  const total = shape.reduce((a, b) => a * b, 1);
  for (let from = 0; from < total; from += last) {
    let to = 0;
    for (let d = 0; d < rank - 1; d++) to += index[d] * outStride[d];
    for (let k = 0; k < last; k++) out[to + k] = x[from + k];
    for (let d = rank - 2; d >= 0; d--) {   // next run: advance the index over all axes but the last
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  // repeat along each axis, last first: the blocks of corner positions of the axes before it
  for (let d = rank - 1; d >= 0; d--) {
    if (reps[d] === 1) continue;
    const block = shape[d] * outStride[d];
    const slab = outShape[d] * outStride[d];
    const outer = new Array<number>(d).fill(0);
    const corners = shape.slice(0, d).reduce((a, b) => a * b, 1);
    for (let c = 0; c < corners; c++) {
      let start = 0;
      for (let e = 0; e < d; e++) start += outer[e] * outStride[e];
      for (let filled = block; filled < slab; filled *= 2) {
        out.copyWithin(start + filled, start, start + Math.min(filled, slab - filled));
      }
      for (let e = d - 1; e >= 0; e--) {
        if (++outer[e] < shape[e]) break;
        outer[e] = 0;
      }
    }
  }
}

/** Replaces wasm's Tile; call once, before training. */
export function registerWasmTile(): void {
  replaceWasmKernel('Tile', 'byBlocks', (original) => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const reps = (args.attrs as unknown as { reps: number[] }).reps;
    if (!['float32', 'int32', 'bool'].includes(x.dtype) || reps.length !== x.shape.length) return original(args);
    const backend = args.backend as HeapBackend;
    const out = backend.makeOutput(x.shape.map((d, i) => d * reps[i]), x.dtype);
    if (out.shape.some((d) => d === 0)) return out;
    // take both views after the allocation (a growing heap would move older ones)
    tileInto(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), x.shape, reps);
    return out;
  });
}
