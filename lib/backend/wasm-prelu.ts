/**
 * PReLU with one slope per layer (every PReLU of DDL's networks, after
 * PyTorch's default) on the wasm backend: forward and gradient as one JS
 * sweep each on the wasm heap.
 *
 * wasm's Prelu broadcasts the slope with a generic index computation, and
 * tfjs's gradient is a chain of kernels (Greater, two Selects, Multiply,
 * Sum); in DDL's trunk these took about a sixth of a step. Here:
 *   y = x > 0 ? x : a·x,  dx = x > 0 ? dy : a·dy,  da = Σ (x > 0 ? 0 : dy·x).
 * Slopes of another shape, and other backends, keep tfjs's kernels and
 * gradient. Checked against the cpu backend in test/wasm-adam.test.ts.
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { KernelScope, replaceWasmKernel, type Backend } from './wasm-kernel-scope';

const GRAD = 'FerPreluGrad';
const size = (t: tf.TensorInfo) => t.shape.reduce((a, b) => a * b, 1);

function forward(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x, alpha } = args.inputs as Record<'x' | 'alpha', tf.TensorInfo>;
    if (size(alpha) !== 1 || x.dtype !== 'float32') return original(args);
    const s = new KernelScope(args.backend as Backend);
    const y = s.alloc(x.shape);
    const [xs, as, ys] = s.views(x, alpha, y);
    const a = as[0];
    // branch-free: activations' signs are random, and mispredicted branches cost more than the arithmetic
    for (let i = 0; i < xs.length; i++) { const v = xs[i], neg = +(v <= 0); ys[i] = v * (1 + neg * (a - 1)); }
    return y;
  };
}

function gradient(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { dy, x, alpha } = args.inputs as Record<'dy' | 'x' | 'alpha', tf.TensorInfo>;
  const s = new KernelScope(args.backend as Backend);
  const dx = s.alloc(x.shape), da = s.alloc(alpha.shape);
  const [dys, xs, as, dxs, das] = s.views(dy, x, alpha, dx, da);
  const a = as[0];
  let sum = 0;
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i], g = dys[i], neg = +(v <= 0);
    dxs[i] = g * (1 + neg * (a - 1));
    sum += neg * g * v;
  }
  das[0] = sum;
  return [dx, da];
}

/** Replaces wasm's Prelu for single slopes, with a one-kernel gradient there; call once. */
export function registerWasmPrelu(): void {
  replaceWasmKernel('Prelu', 'fromJs', forward);
  if (tf.getKernel(GRAD, 'wasm')) return;
  tf.registerKernel({ kernelName: GRAD, backendName: 'wasm', kernelFunc: gradient as unknown as tf.KernelFunc });
  const tfjs = tf.getGradient('Prelu');
  if (!tfjs) throw new Error("tfjs has no gradient for 'Prelu' to fall back to");
  tf.registerGradient({
    ...tfjs,
    gradFunc: (dy, saved, attrs) => {
      const [x, alpha] = saved;
      if (tf.getBackend() !== 'wasm' || alpha.size !== 1 || x.dtype !== 'float32') return tfjs.gradFunc(dy, saved, attrs);
      // both gradients from one kernel call, made here (each input's gradient function runs in a tidy of its own)
      const [dx, da] = tf.engine().runKernel(GRAD, { dy: dy as tf.Tensor, x, alpha }) as tf.Tensor[];
      return { x: () => dx, alpha: () => da };
    },
  });
}
