/**
 * Building blocks shared by DDL's two networks (DDL Sec. 3.2-3.3, Figs. 2-3,
 * with the layout of the authors' code):
 * the PreAct ResNet-18-style trunk with PReLU and a stride-2 pattern at every
 * stage (u_1..u_5; or a 2x2 max-pool per stage, the lite profile's choice),
 * the learnable weighted addition of two feature maps (Eq. 8, softmax over a
 * pair initialised [1, 0] as in the authors' code),
 * and small layer helpers with PyTorch's BN/PReLU defaults.
 * @see notebooks/05-ddl.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, SeedSequence } from '../../train/rng';

type T = tf.SymbolicTensor;
export const apply = (layer: tf.layers.Layer, x: T | T[]) => layer.apply(x) as T;

// PyTorch defaults: BN eps 1e-5, momentum 0.1 (= tfjs 0.9); PReLU one slope per layer, 0.25.
export const bn = (name: string) => tf.layers.batchNormalization({ name, momentum: 0.9, epsilon: 1e-5 });
export const prelu = (x: T, name: string) => apply(tf.layers.prelu({
  name, sharedAxes: x.shape.length === 4 ? [1, 2, 3] : [1], alphaInitializer: tf.initializers.constant({ value: 0.25 }),
}), x);
export const bnPrelu = (x: T, name: string) => prelu(apply(bn(`${name}.bn`), x), `${name}.prelu`);

export function conv(x: T, name: string, filters: number, kernel: number, strides: number, seeds: SeedSequence, useBias = false): T {
  return apply(tf.layers.conv2d({
    name, filters, kernelSize: kernel, strides, padding: 'same', useBias,
    kernelInitializer: tf.initializers.heNormal({ seed: seeds.next() }),
  }), x);
}

export function dense(x: T, name: string, units: number, seeds: SeedSequence, useBias = true): T {
  return apply(tf.layers.dense({ name, units, useBias, kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.next() }) }), x);
}

/** P(·): 3x3 max-pool, stride 2, 'same' (90 -> 45 -> 23 -> 12 -> 6, as PyTorch's padding 1). */
export const maxPool = (x: T, name: string) => apply(tf.layers.maxPooling2d({ name, poolSize: 3, strides: 2, padding: 'same' }), x);

/** Average pool that brings the last map to 2x2 (AvgPool(3, s3) at 6x6 in the paper; 2 at 4x4; 1 at 2x2), flattened. */
export function avgPoolFlat(x: T, name: string): T {
  const side = x.shape[1]!;
  const pool = Math.max(1, Math.floor(side / 2));
  const pooled = pool > 1 ? apply(tf.layers.averagePooling2d({ name, poolSize: pool, strides: pool, padding: 'valid' }), x) : x;
  return apply(tf.layers.flatten({ name: `${name}.flat` }), pooled);
}

/** PreAct block (the authors' code): PReLU(BN(x)) feeds both the 1x1 shortcut (when shapes change) and the 3x3 convs. */
function preActBlock(x: T, name: string, filters: number, strides: number, seeds: SeedSequence, project = false): T {
  const o = bnPrelu(x, `${name}.pre`);
  const shortcut = project || strides !== 1 || x.shape[3] !== filters ? conv(o, `${name}.shortcut`, filters, 1, strides, seeds) : x;
  let y = conv(o, `${name}.conv1`, filters, 3, strides, seeds);
  y = conv(bnPrelu(y, `${name}.mid`), `${name}.conv2`, filters, 3, 1, seeds);
  return apply(tf.layers.add({ name: `${name}.add` }), [y, shortcut]);
}

/** How each trunk stage halves the resolution: the paper's stride-2 first block, or a 2x2 max-pool in front of a stride-1 block. */
export type Downsample = 'stride' | 'maxpool';

export interface TrunkOptions {
  /** base filter count: channels of u_1..u_5 are [w, w, 2w, 4w, 8w] (paper: 64) */
  width: number;
  /** PreAct blocks per stage (paper: 2) */
  blocks: number;
  /** default 'stride' (the paper's code); 'maxpool' keeps thin 1-2 px cues of small faces that a stride-2 1x1 shortcut skips */
  downsample?: Downsample;
}

/** Channels of u_1..u_5. */
export const trunkChannels = (w: number) => [w, w, 2 * w, 4 * w, 8 * w];

/**
 * S_g (and every DFEM's trunk): stem conv (stride 1) then 4 stages that each
 * halve the resolution (ceil, as 'same' padding: 90 -> 45 -> 23 -> 12 -> 6);
 * returns [u_1, ..., u_5]. Both downsampling modes give the same shapes and
 * the same weights (seeded alike).
 */
export function trunk(input: T, p: string, o: TrunkOptions, seeds: SeedSequence): T[] {
  const c = trunkChannels(o.width);
  const pool = (o.downsample ?? 'stride') === 'maxpool';
  let x = prelu(apply(bn(`${p}stem.bn`), conv(input, `${p}stem.conv`, c[0], 3, 1, seeds)), `${p}stem.prelu`);
  const u = [x];
  for (let s = 1; s <= 4; s++) {
    if (pool) x = apply(tf.layers.maxPooling2d({ name: `${p}stage${s}.pool`, poolSize: 2, strides: 2, padding: 'same' }), x);
    // a stage's first block keeps its 1x1 projection shortcut in both modes, so both trunks have the same weights
    for (let b = 0; b < o.blocks; b++) x = preActBlock(x, `${p}stage${s}.${b}`, c[s], b === 0 && !pool ? 2 : 1, seeds, b === 0);
    u.push(x);
  }
  return u;
}

/**
 * Weighted addition δ1·u + δ2·a (Eq. 8) with (δ2, δ1) = softmax(c), c a
 * learnable pair initialised to [1, 0] (the authors' code; the paper says only "learnable"): the task
 * path starts at weight 0.73, the shared feature at 0.27.
 */
export class WeightedAdd extends tf.layers.Layer {
  static className = 'DdlWeightedAdd';
  private c!: tf.LayerVariable;

  build(): void {
    this.c = this.addWeight('c', [2], 'float32', tf.initializers.zeros());
    const init = tf.tensor1d([1, 0]); // [task, shared]
    this.c.write(init);
    init.dispose();
    this.built = true;
  }

  computeOutputShape(shapes: tf.Shape[]): tf.Shape {
    return shapes[0];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [u, a] = inputs as tf.Tensor[];
      const d = tf.softmax(this.c.read() as tf.Tensor1D); // [δ2, δ1]
      return tf.add(tf.mul(a, d.slice(0, 1)), tf.mul(u, d.slice(1, 1)));
    });
  }

  /** (δ1 shared, δ2 task) as numbers, for the notebook. */
  deltas(): { shared: number; task: number } {
    const d = tf.tidy(() => tf.softmax(this.c.read() as tf.Tensor1D).dataSync());
    return { task: d[0], shared: d[1] };
  }
}
tf.serialization.registerClass(WeightedAdd);

/**
 * Dropout whose mask changes from call to call. tf.layers.dropout with a
 * seed draws the SAME mask at every training step (tfjs re-seeds its uniform
 * draw with that seed on each call), so the same units are always dropped:
 * they never train, yet at test time they all feed the next layer. Here the
 * mask's seed mixes the layer's seed, the training step's seed
 * (`setStepSeed`) and a call counter: deterministic, and new every step.
 */
export class StepDropout extends tf.layers.Layer {
  static className = 'DdlStepDropout';
  readonly rate: number;
  readonly seed: number;
  private stepSeed = 0;
  private calls = 0;

  constructor(args: { rate: number; seed: number; name?: string }) {
    super({ name: args.name });
    this.rate = args.rate;
    this.seed = args.seed;
  }

  /** Seeds the masks of the following training calls (the trainer's per-step seed). */
  setStepSeed(seed: number): void {
    this.stepSeed = seed;
    this.calls = 0;
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate <= 0) return x;
    return tf.dropout(x, this.rate, undefined, deriveSeed(this.seed, this.stepSeed, this.calls++));
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(StepDropout);
