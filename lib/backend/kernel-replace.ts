/**
 * Replaces one backend's kernel by a wrapped version, once: the new function
 * carries `marker`, so a second call (initBackend run again) does not wrap it twice.
 */
import * as tf from '@tensorflow/tfjs';

export function replaceKernel(backendName: string, kernelName: string, marker: string,
  wrap: (original: tf.KernelFunc) => tf.KernelFunc): void {
  const original = tf.getKernel(kernelName, backendName);
  if (!original || (original.kernelFunc as unknown as Record<string, unknown>)[marker]) return;
  const kernelFunc = wrap(original.kernelFunc);
  (kernelFunc as unknown as Record<string, unknown>)[marker] = true;
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ ...original, kernelFunc });
}
