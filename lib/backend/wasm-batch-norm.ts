/**
 * Batch normalisation in training mode for the wasm backend, as one kernel
 * for the forward pass and one for its gradient, in JS on the wasm heap.
 *
 * tfjs-layers normalises a training batch with tf.moments and
 * tf.batchNormalization, and autodiff turns their gradients into dozens of
 * broadcasting elementwise kernels over the activation (Multiply, Sub, Sum,
 * RealDiv, Tile, ...). In the lite profile's backbone, conv -> BN -> ReLU
 * blocks on 32-px faces, those took about half of a training step. Here
 * the forward pass is two sweeps over x (per-channel sums, then the
 * normalised output) and the gradient two more, with the textbook gradient
 * of BN over the batch (Ioffe & Szegedy 2015, §3):
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/σ · (dy − dβ/N − x̂·dγ/N),
 * x̂ = (x − μ)/σ, σ = sqrt(var + ε), var the biased batch variance, the sums
 * over every axis but the channel (last) axis, accumulated in float64.
 *
 * BatchNormalization layers route their training-mode call here on wasm
 * when they normalise the last axis with both γ and β (every BN of our
 * networks); the moving mean and variance update exactly as tfjs-layers
 * updates them. Other backends, inference and other layouts keep tfjs's
 * path. Outputs and gradients match the cpu backend's (test/wasm-batch-norm.test.ts).
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { KernelScope, type Backend } from './wasm-kernel-scope';

export const BN_FORWARD = 'FerBatchNormTraining';
export const BN_BACKWARD = 'FerBatchNormTrainingGrad';

/** Channel count and positions (elements / channels) of an NHWC-like tensor normalised over its last axis. */
const layout = (shape: number[]) => {
  const c = shape[shape.length - 1];
  return { c, n: shape.reduce((a, b) => a * b, 1) / c };
};

/** y = γ (x − μ)/σ + β over each channel of the batch; also returns μ and the biased variance. */
function forward(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { x, gamma, beta } = args.inputs as Record<'x' | 'gamma' | 'beta', tf.TensorInfo>;
  const epsilon = (args.attrs as unknown as { epsilon: number }).epsilon;
  const { c, n } = layout(x.shape);
  const s = new KernelScope(args.backend as Backend);
  const y = s.alloc(x.shape), mean = s.alloc([c]), variance = s.alloc([c]);
  const [xs, gs, bs, ys, ms, vs] = s.views(x, gamma, beta, y, mean, variance);
  const sum = new Float64Array(c), sq = new Float64Array(c);
  for (let p = 0, i = 0; p < n; p++) {
    for (let k = 0; k < c; k++, i++) {
      const v = xs[i];
      sum[k] += v;
      sq[k] += v * v;
    }
  }
  const scale = new Float64Array(c), shift = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    const mu = sum[k] / n;
    const varK = Math.max(0, sq[k] / n - mu * mu);
    ms[k] = mu;
    vs[k] = varK;
    scale[k] = gs[k] / Math.sqrt(varK + epsilon);
    shift[k] = bs[k] - mu * scale[k];
  }
  for (let p = 0, i = 0; p < n; p++) for (let k = 0; k < c; k++, i++) ys[i] = xs[i] * scale[k] + shift[k];
  return [y, mean, variance];
}

/** dx, dγ, dβ of the forward pass, from dy and the batch statistics it returned. */
function backward(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { dy, x, gamma, mean, variance } = args.inputs as Record<'dy' | 'x' | 'gamma' | 'mean' | 'variance', tf.TensorInfo>;
  const epsilon = (args.attrs as unknown as { epsilon: number }).epsilon;
  const { c, n } = layout(x.shape);
  const s = new KernelScope(args.backend as Backend);
  const dx = s.alloc(x.shape), dgamma = s.alloc([c]), dbeta = s.alloc([c]);
  const [dys, xs, gs, ms, vs, dxs, dgs, dbs] = s.views(dy, x, gamma, mean, variance, dx, dgamma, dbeta);
  const inv = Float64Array.from(vs, (v) => 1 / Math.sqrt(v + epsilon));
  const sdy = new Float64Array(c), sdyx = new Float64Array(c);
  for (let p = 0, i = 0; p < n; p++) {
    for (let k = 0; k < c; k++, i++) {
      const g = dys[i];
      sdy[k] += g;
      sdyx[k] += g * (xs[i] - ms[k]);
    }
  }
  // dx = a·dy + b·x + d per channel, with a = γ/σ, b = −γ/σ · dγ/(Nσ), d = −γ/σ · (dβ/N − μ·dγ/(Nσ))
  const a = new Float64Array(c), b = new Float64Array(c), d = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    const dg = sdyx[k] * inv[k];
    dgs[k] = dg;
    dbs[k] = sdy[k];
    a[k] = gs[k] * inv[k];
    b[k] = -a[k] * dg * inv[k] / n;
    d[k] = -a[k] * (sdy[k] / n) - b[k] * ms[k];
  }
  for (let p = 0, i = 0; p < n; p++) for (let k = 0; k < c; k++, i++) dxs[i] = a[k] * dys[i] + b[k] * xs[i] + d[k];
  return [dx, dgamma, dbeta];
}

interface BatchNormLayer {
  axis: number;
  center: boolean;
  scale: boolean;
  momentum: number;
  epsilon: number;
  gamma: { read(): tf.Tensor };
  beta: { read(): tf.Tensor };
  movingMean: { read(): tf.Tensor; write(t: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(t: tf.Tensor): void };
}
type Call = (this: BatchNormLayer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor;
const ROUTED = Symbol('fer-batch-norm');

/**
 * Registers the two kernels and the gradient, and routes training-mode
 * BatchNormalization calls to them while wasm is the backend; call once.
 */
export function registerWasmBatchNorm(): void {
  if (!tf.getKernel(BN_FORWARD, 'wasm')) {
    tf.registerKernel({ kernelName: BN_FORWARD, backendName: 'wasm', kernelFunc: forward as unknown as tf.KernelFunc });
    tf.registerKernel({ kernelName: BN_BACKWARD, backendName: 'wasm', kernelFunc: backward as unknown as tf.KernelFunc });
    tf.registerGradient({
      kernelName: BN_FORWARD, inputsToSave: ['x', 'gamma'], outputsToSave: [false, true, true],
      // only y carries a gradient: the batch statistics feed the moving averages, outside any loss
      // the three gradients come from one kernel call, made here: each input's gradient function runs in a tidy of its
      // own, which would dispose the other two if the call were made in the first of them
      gradFunc: (dys, saved, attrs) => {
        const [dy] = dys as tf.Tensor[];
        const [x, gamma, mean, variance] = saved;
        const [dx, dgamma, dbeta] = tf.engine().runKernel(BN_BACKWARD, { dy, x, gamma, mean, variance }, attrs as tf.NamedAttrMap) as tf.Tensor[];
        return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
      },
    });
  }
  const proto = Object.getPrototypeOf(tf.layers.batchNormalization({})) as { call: Call & { [ROUTED]?: true } };
  if (proto.call[ROUTED]) return;
  const original = proto.call;
  const routed: Call = function (inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const lastAxis = this.axis === -1 || this.axis === x.rank - 1;
    if (!kwargs?.training || tf.getBackend() !== 'wasm' || !lastAxis || !this.center || !this.scale || x.dtype !== 'float32') {
      return original.call(this, inputs, kwargs);
    }
    return tf.tidy(() => {
      const [y, mean, variance] = tf.engine().runKernel(BN_FORWARD, { x, gamma: this.gamma.read(), beta: this.beta.read() }, { epsilon: this.epsilon }) as tf.Tensor[];
      // moving averages as tfjs-layers updates them: v − (v − batch value) · (1 − momentum)
      for (const [v, value] of [[this.movingMean, mean], [this.movingVariance, variance]] as const) {
        tf.tidy(() => {
          const orig = v.read();
          v.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - this.momentum)));
        });
      }
      return y;
    });
  };
  (routed as Call & { [ROUTED]?: true })[ROUTED] = true;
  proto.call = routed;
}
