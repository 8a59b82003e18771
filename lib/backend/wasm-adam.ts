/**
 * Adam's update for the wasm backend as one kernel per variable.
 *
 * tfjs's AdamOptimizer updates each variable with about a dozen kernels
 * (two moment updates, bias corrections, square root, division, the step)
 * plus scalar constants. DDL's networks have over a hundred small weight
 * tensors, so on wasm those per-kernel costs took about a quarter of a step.
 * Here one kernel reads the weight, both moments and the gradient in the
 * wasm heap and writes the three new tensors in one sweep, with tfjs's
 * formula (moments in float32, bias correction by 1 − β^t):
 *   m = β1 m + (1 − β1) g,  v = β2 v + (1 − β2) g²,
 *   w = w − lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + ε).
 * The optimiser keeps its state variables (moments, β powers, iterations),
 * so checkpoints and resumes are as before. Other backends keep tfjs's own
 * update. Checked against the cpu backend in test/wasm-adam.test.ts.
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { KernelScope, type Backend } from './wasm-kernel-scope';

export const ADAM_STEP = 'FerAdamStep';

interface AdamAttrs { learningRate: number; beta1: number; beta2: number; epsilon: number; correction1: number; correction2: number }

function adamStep(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { x, m, v, g } = args.inputs as Record<'x' | 'm' | 'v' | 'g', tf.TensorInfo>;
  const a = args.attrs as unknown as AdamAttrs;
  const s = new KernelScope(args.backend as Backend);
  const nx = s.alloc(x.shape), nm = s.alloc(x.shape), nv = s.alloc(x.shape);
  const [xs, ms, vs, gs, nxs, nms, nvs] = s.views(x, m, v, g, nx, nm, nv);
  const [b1, b2] = [Math.fround(a.beta1), Math.fround(a.beta2)];
  const [k1, k2] = [Math.fround(1 - a.beta1), Math.fround(1 - a.beta2)];
  for (let i = 0; i < xs.length; i++) {
    const gi = gs[i];
    const mi = nms[i] = Math.fround(ms[i] * b1 + gi * k1);
    const vi = nvs[i] = Math.fround(vs[i] * b2 + gi * gi * k2);
    nxs[i] = xs[i] - (a.learningRate * (mi / a.correction1)) / (Math.sqrt(vi / a.correction2) + a.epsilon);
  }
  return [nx, nm, nv];
}

type Pairs = { name: string; tensor: tf.Tensor }[] | Record<string, tf.Tensor>;
interface AdamLike {
  learningRate: number; beta1: number; beta2: number; epsilon: number;
  accBeta1: tf.Variable; accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  incrementIterations(): void;
}
const ROUTED = Symbol('fer-adam');

/** Registers the kernel and routes AdamOptimizer.applyGradients to it while wasm is the backend; call once. */
export function registerWasmAdam(): void {
  if (!tf.getKernel(ADAM_STEP, 'wasm')) tf.registerKernel({ kernelName: ADAM_STEP, backendName: 'wasm', kernelFunc: adamStep as unknown as tf.KernelFunc });
  const proto = tf.AdamOptimizer.prototype as unknown as { applyGradients: ((this: AdamLike, g: Pairs) => void) & { [ROUTED]?: true } };
  if (proto.applyGradients[ROUTED]) return;
  const original = proto.applyGradients;
  const routed = function (this: AdamLike, variableGradients: Pairs): void {
    if (tf.getBackend() !== 'wasm') return original.call(this, variableGradients);
    const list = Array.isArray(variableGradients) ? variableGradients : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    // the same state, slot by slot, as tfjs's AdamOptimizer keeps it
    const correction1 = 1 - this.accBeta1.dataSync()[0], correction2 = 1 - this.accBeta2.dataSync()[0];
    tf.tidy(() => {
      list.forEach(({ name, tensor: gradient }, i) => {
        const value = tf.engine().registeredVariables[name];
        this.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        this.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        if (gradient == null) return;
        const m = this.accumulatedFirstMoment[i].variable, v = this.accumulatedSecondMoment[i].variable;
        const [nx, nm, nv] = tf.engine().runKernel(ADAM_STEP, { x: value, m, v, g: gradient }, {
          learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, correction1, correction2,
        } as unknown as tf.NamedAttrMap) as tf.Tensor[];
        m.assign(nm);
        v.assign(nv);
        value.assign(nx);
      });
      this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
    });
    this.incrementIterations();
  };
  (routed as typeof proto.applyGradients)[ROUTED] = true;
  proto.applyGradients = routed;
}
