/**
 * Helpers for kernels we add to the wasm backend: run wasm kernels directly,
 * allocate outputs, read and write tensors in place in the wasm heap, and
 * free every intermediate at the end.
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { replaceKernel } from './kernel-replace';

type TensorInfo = tf.TensorInfo;
export type Backend = tf.KernelBackend & {
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
};
type Attrs = Record<string, unknown>;

/** Replaces a wasm kernel by `wrap(original)`, once (see kernel-replace.ts). */
export function replaceWasmKernel(kernelName: string, marker: string, wrap: (original: tf.KernelFunc) => tf.KernelFunc): void {
  replaceKernel('wasm', kernelName, marker, wrap);
}

type Pads = [number, number][];

export class KernelScope {
  private made: TensorInfo[] = [];
  constructor(readonly backend: Backend) {}

  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: Attrs): TensorInfo {
    const kernel = tf.getKernel(kernelName, 'wasm');
    if (!kernel) throw new Error(`wasm backend has no '${kernelName}' kernel`);
    const out = kernel.kernelFunc({ inputs, backend: this.backend, attrs: attrs as tf.NamedAttrMap });
    const info = Array.isArray(out) ? out[0] : out;
    this.made.push(info);
    return info;
  }

  /** A new float32 tensor; its contents are undefined until written. */
  alloc(shape: number[]): TensorInfo {
    const info = this.backend.makeOutput(shape, 'float32');
    this.made.push(info);
    return info;
  }

  /**
   * Float32 views of tensors in the wasm heap. Take them after the last
   * allocation: a growing heap detaches older views.
   */
  views(...ts: TensorInfo[]): Float32Array[] {
    return ts.map((t) => this.backend.typedArrayFromHeap(t));
  }

  /** Pads (negative amounts crop) the given dims of a tensor. */
  padOrCrop(x: TensorInfo, pads: Pads): TensorInfo {
    let y = x;
    if (pads.some(([a, b]) => a < 0 || b < 0)) {
      const begin = pads.map(([a]) => Math.max(0, -a));
      const size = y.shape.map((d, i) => d - begin[i] - Math.max(0, -pads[i][1]));
      y = this.run('Slice', { x: y }, { begin, size });
    }
    if (pads.some(([a, b]) => a > 0 || b > 0)) {
      const paddings = pads.map(([a, b]) => [Math.max(0, a), Math.max(0, b)]);
      y = this.run('PadV2', { x: y }, { paddings, constantValue: 0 });
    }
    return y;
  }

  /** Frees all intermediates except `keep`, the kernel's result. */
  finish(keep: TensorInfo): TensorInfo {
    for (const t of this.made) if (t !== keep) this.backend.disposeData(t.dataId);
    return keep;
  }
}

/**
 * dst[c * rows + r] = src[r * cols + c]: a [rows, cols] matrix transposed, in
 * tiles that write whole runs (several times faster than wasm's Transpose,
 * whose writes stride through memory).
 */
export function transpose2d(src: Float32Array, dst: Float32Array, rows: number, cols: number): void {
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let c = c0; c < c1; c++) {
        for (let r = r0, d = c * rows + r0, s = r0 * cols + c; r < r1; r++, d++, s += cols) dst[d] = src[s];
      }
    }
  }
}
