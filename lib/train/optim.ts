/**
 * Optimisers with learning-rate schedules, coupled L2 weight decay and a
 * saveable state. Methods with several optimisers (a GAN's generator and
 * discriminator, DDL's model and discriminator) create one TrainOptimizer
 * each; the trainer sets every optimiser's learning rate at each epoch and
 * checkpoints all of them.
 * @see notebooks/02-spndl.ipynb
 */
import * as tf from '@tensorflow/tfjs';

export type Schedule =
  | { kind: 'constant' }
  /** multiply by gamma every `every` epochs */
  | { kind: 'step'; every: number; gamma: number }
  /** multiply by gamma after each listed epoch (PyTorch MultiStepLR) */
  | { kind: 'milestones'; milestones: number[]; gamma: number };

export interface OptimizerSpec {
  kind: 'adam' | 'sgd' | 'momentum';
  learningRate: number;
  /** Adam */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** SGD with momentum */
  momentum?: number;
  /** coupled L2 (PyTorch `weight_decay`): wd * w is added to each gradient */
  weightDecay?: number;
  schedule?: Schedule;
}

/** Learning rate in force during `epoch` (1-based). */
export function learningRateAt(spec: OptimizerSpec, epoch: number): number {
  const s = spec.schedule ?? { kind: 'constant' };
  const done = epoch - 1; // epochs completed before this one
  if (s.kind === 'constant') return spec.learningRate;
  if (s.kind === 'step') return spec.learningRate * s.gamma ** Math.floor(done / s.every);
  return spec.learningRate * s.gamma ** s.milestones.filter((m) => m <= done).length;
}

/** Checks a spec, naming the bad field. */
export function validateOptimizerSpec(spec: OptimizerSpec, where = 'optimizer'): void {
  const bad = (msg: string) => { throw new Error(`${where}: ${msg}`); };
  if (!['adam', 'sgd', 'momentum'].includes(spec.kind)) bad(`kind '${spec.kind}' must be adam, sgd or momentum`);
  if (!(spec.learningRate > 0)) bad(`learningRate ${spec.learningRate} must be > 0`);
  if ((spec.weightDecay ?? 0) < 0) bad(`weightDecay ${spec.weightDecay} must be >= 0`);
  const s = spec.schedule;
  if (s?.kind === 'step' && !(Number.isInteger(s.every) && s.every > 0)) bad(`schedule.every ${s.every} must be a positive integer`);
  if (s?.kind === 'milestones' && s.milestones.some((m) => !Number.isInteger(m) || m < 1)) {
    bad(`schedule.milestones [${s.milestones}] must be positive integers (epochs)`);
  }
}

export interface OptimizerState {
  spec: OptimizerSpec;
  /** tf optimizer weights (iterations first), in order */
  weights: { name: string; shape: number[]; dtype: tf.DataType; data: number[] | Float32Array | Int32Array }[];
  /** Adam's running beta powers: restored exactly, so a resumed run matches bit for bit */
  accBeta: number[] | null;
}

type AnyOptimizer = tf.Optimizer & { learningRate?: number; setLearningRate?(lr: number): void; accBeta1?: tf.Variable; accBeta2?: tf.Variable };

export class TrainOptimizer {
  readonly optimizer: AnyOptimizer;
  private lr: number;

  constructor(readonly spec: OptimizerSpec) {
    validateOptimizerSpec(spec);
    this.lr = spec.learningRate;
    // epsilon passed explicitly: tfjs otherwise uses the backend's (1e-7), PyTorch uses 1e-8
    this.optimizer = (spec.kind === 'adam'
      ? tf.train.adam(spec.learningRate, spec.beta1 ?? 0.9, spec.beta2 ?? 0.999, spec.epsilon ?? 1e-8)
      : spec.kind === 'momentum'
        ? tf.train.momentum(spec.learningRate, spec.momentum ?? 0.9)
        : tf.train.sgd(spec.learningRate)) as unknown as AnyOptimizer;
  }

  get learningRate(): number {
    return this.lr;
  }

  /** Applies the schedule for `epoch` (1-based), times `scale` (the trainer's plateau rule halves it). */
  setEpoch(epoch: number, scale = 1): void {
    this.lr = learningRateAt(this.spec, epoch) * scale;
    if (this.optimizer.setLearningRate) this.optimizer.setLearningRate(this.lr); // sgd, momentum
    else this.optimizer.learningRate = this.lr; // adam reads the field at every step
  }

  /**
   * One update of `variables` on the loss `f` returns. Returns the loss
   * (caller disposes). Variables that get no gradient keep their slot in the
   * optimiser state, so Adam's moments never shift between variables.
   */
  step(f: () => tf.Scalar, variables: tf.Variable[]): tf.Scalar {
    const { value, grads } = tf.variableGrads(f, variables);
    this.applyGradients(variables.map((v) => ({ variable: v, gradient: grads[v.name] })));
    tf.dispose(Object.values(grads));
    return value;
  }

  /**
   * One update from gradients computed elsewhere (caller keeps them), with
   * `weightDecay` added as coupled L2, as in PyTorch's weight_decay. A missing
   * gradient keeps its index: Adam skips that variable instead of shifting
   * its moments.
   */
  applyGradients(pairs: { variable: tf.Variable; gradient: tf.Tensor | undefined }[]): void {
    const wd = this.spec.weightDecay ?? 0;
    const list = pairs.map(({ variable: v, gradient: g }) => ({ name: v.name, tensor: g && wd > 0 ? tf.tidy(() => g.add(v.mul(wd))) : g }));
    this.optimizer.applyGradients(list as Parameters<tf.Optimizer['applyGradients']>[0]);
    if (wd > 0) tf.dispose(list.map((l) => l.tensor).filter((t) => t !== undefined));
  }

  async getState(): Promise<OptimizerState> {
    const named = await this.optimizer.getWeights();
    const weights = [];
    for (const w of named) {
      weights.push({ name: w.name, shape: w.tensor.shape, dtype: w.tensor.dtype, data: await w.tensor.data() as Float32Array | Int32Array });
    }
    named[0].tensor.dispose(); // getWeights makes a fresh 'iter' scalar; the rest are live variables
    const { accBeta1, accBeta2 } = this.optimizer;
    const accBeta = accBeta1 && accBeta2 ? [accBeta1.dataSync()[0], accBeta2.dataSync()[0]] : null;
    return { spec: this.spec, weights, accBeta };
  }

  async setState(state: OptimizerState): Promise<void> {
    if (state.spec.kind !== this.spec.kind) {
      throw new Error(`checkpoint optimizer is '${state.spec.kind}', the run builds '${this.spec.kind}'`);
    }
    const tensors = state.weights.map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape, w.dtype) }));
    // tfjs's setWeights replaces the slot variables without freeing the old ones (a mid-run reload would leak them)
    const old = await this.optimizer.getWeights();
    await this.optimizer.setWeights(tensors);
    tf.dispose(tensors.map((t) => t.tensor)); // setWeights made variables of its own
    tf.dispose(old.map((w) => w.tensor)); // a fresh 'iter' scalar and the replaced slot variables
    const { accBeta1, accBeta2 } = this.optimizer;
    if (state.accBeta && accBeta1 && accBeta2) {
      const [b1, b2] = state.accBeta;
      tf.tidy(() => {
        accBeta1.assign(tf.scalar(b1));
        accBeta2.assign(tf.scalar(b2));
      });
    }
  }

  dispose(): void {
    this.optimizer.dispose();
    // tfjs 4.22: MomentumOptimizer.dispose() skips its SGD parent's learning-rate scalar
    (this.optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
  }
}
