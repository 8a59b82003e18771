/**
 * Identity and same-dtype Cast on the wasm backend without copying.
 *
 * tfjs-backend-wasm 4.22 copies the whole tensor for Identity and for a Cast
 * to the dtype it already has; a training step of cnn3-64 makes about a dozen
 * such copies of activation-sized tensors (gradient bookkeeping, ReLU's
 * gradient casting float32 to float32), about 5 ms on this machine. Like the
 * cpu backend, these kernels return the input's data with one more reference:
 * tensors are immutable and the backend frees data only when its last
 * reference goes, so sharing is safe (wasm's own Reshape does the same).
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { replaceWasmKernel, type Backend } from './wasm-kernel-scope';

type SharingBackend = Backend & { incRef(dataId: object): void };

function share(x: tf.TensorInfo, backend: SharingBackend): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Replaces wasm's Identity and Cast (when the dtype does not change); call once, before training. */
export function registerWasmSharedIdentity(): void {
  for (const kernelName of ['Identity', 'Cast'] as const) {
    replaceWasmKernel(kernelName, 'shares', (original) => (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const dtype = kernelName === 'Cast' ? (args.attrs as { dtype: tf.DataType }).dtype : x.dtype;
      if (dtype !== x.dtype || x.dtype === 'string') return original(args);
      return share(x, args.backend as SharingBackend);
    });
  }
}
