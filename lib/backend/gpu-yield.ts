/**
 * One turn of the event loop on the webgpu backend (nothing elsewhere), for
 * loops that run many steps.
 *
 * Dawn's Node bindings free the native side of the objects tfjs-backend-webgpu
 * makes for every kernel (bind groups, command encoders, ...) in Node-API
 * finalizers, which Node runs only between turns of its event loop, not in
 * garbage collection. A synchronous loop of training steps therefore grows
 * native memory, about 3 MB per lite-cnn step on lavapipe, until Dawn crashes
 * (SIGSEGV after about 1,000 small Adam steps here); one turn between steps
 * keeps it flat. Checked in test/webgpu-training.test.ts.
 */
import * as tf from '@tensorflow/tfjs';

export function yieldForGpu(): Promise<void> {
  return tf.getBackend() === 'webgpu' ? new Promise((resolve) => setImmediate(resolve)) : Promise.resolve();
}
