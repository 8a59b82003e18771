/**
 * GNDL's own pieces (Wu et al., ACM MM 2023; §3):
 * - the Neutral Feature Generator (NFG, paper §3.3, Fig. 5): an MLP that
 *   predicts a subject's neutral-face feature vector from the feature vector
 *   of one expressive image: Dense(d -> d/2) + LeakyReLU, nearest-neighbour
 *   ×2 along the feature axis, then Dense layer(s) back to d;
 * - the neutral-feature reconstruction loss L_neu between the generated and
 *   the real neutral features (Eq. 8, read as ‖G(F_exam) − F_neu‖₁, as the
 *   prose of §3.1 and §3.3 describes it; the printed formula has no G);
 * - the expression-deviation vector V = F_exam − G(F_exam) (Eq. 7).
 * The paired backbone forward (joint BN over target + neutral) is shared
 * with SPNDL and lives in lib/models/paired.ts.
 * @see notebooks/03-gndl.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { SeedSequence } from '../train/rng';

export interface NfgOptions {
  /** feature size d (512 for ResNet-18, 8 × width for the lite CNN) */
  inputDim: number;
  /** LeakyReLU slope α (our choice: 0.2, the paper gives none; tf.layers' default 0.3 is never used) */
  slope: number;
  /** Dense layers after the ×2 upsampling, 1..3 (default 2: GNDL Sec. 3.3 says "layers", so at least 2) */
  decoderLayers: number;
  /** activation after the last layer: none (linear) or the same LeakyReLU */
  outAct: 'none' | 'leaky';
  /** 'nearest': the paper's parameter-free NN×2; 'dense': a learned Dense(d/2 -> d) instead (equivalence check) */
  upsample: 'nearest' | 'dense';
  seed: number;
  name?: string;
}

export const DEFAULT_NFG: Omit<NfgOptions, 'inputDim' | 'seed'> = { slope: 0.2, decoderLayers: 2, outAct: 'none', upsample: 'nearest' };

/**
 * Nearest-neighbour ×2 of a batch of vectors: [B, n] -> [B, 2n], each entry
 * repeated in place ([a, b] -> [a, a, b, b]), as PyTorch's
 * F.interpolate(x[:, None, :], scale_factor=2, mode='nearest').
 */
export function nearestUpsample2x(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, n] = x.shape;
    return x.reshape([b, n, 1]).tile([1, 1, 2]).reshape([b, 2 * n]) as tf.Tensor2D;
  });
}

/** The NFG as a tf.layers model [B, d] -> [B, d]; layer names are nfg.enc, nfg.up.*, nfg.dec1.. */
export function buildNfg(opts: NfgOptions): tf.LayersModel {
  const { inputDim: d, slope, decoderLayers, outAct, upsample } = opts;
  if (!(Number.isInteger(d) && d >= 2 && d % 2 === 0)) throw new Error(`NFG inputDim ${d} must be an even integer ≥ 2 (the encoder halves it)`);
  if (![1, 2, 3].includes(decoderLayers)) throw new Error(`NFG decoderLayers ${decoderLayers} must be 1, 2 or 3`);
  if (!(slope >= 0 && slope < 1)) throw new Error(`NFG slope ${slope} must be in [0, 1)`);
  const seeds = new SeedSequence(opts.seed);
  const p = opts.name ?? 'nfg';
  const dense = (name: string, units: number) => tf.layers.dense({ name, units, kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.next() }) });
  const leaky = (name: string) => tf.layers.leakyReLU({ name, alpha: slope });
  const input = tf.input({ shape: [d], name: `${p}.input` });
  let x = leaky(`${p}.enc.act`).apply(dense(`${p}.enc`, d / 2).apply(input)) as tf.SymbolicTensor; // [B, d/2]
  if (upsample === 'nearest') {
    // [B, d/2] -> [B, 2, d/2] -> [B, d/2, 2] -> [B, d]: every entry repeated in place
    x = tf.layers.repeatVector({ name: `${p}.up.repeat`, n: 2 }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.permute({ name: `${p}.up.permute`, dims: [2, 1] }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reshape({ name: `${p}.up.flatten`, targetShape: [d] }).apply(x) as tf.SymbolicTensor;
  } else {
    x = leaky(`${p}.up.act`).apply(dense(`${p}.up.dense`, d).apply(x)) as tf.SymbolicTensor;
  }
  for (let i = 1; i <= decoderLayers; i++) {
    x = dense(`${p}.dec${i}`, d).apply(x) as tf.SymbolicTensor;
    if (i < decoderLayers || outAct === 'leaky') x = leaky(`${p}.dec${i}.act`).apply(x) as tf.SymbolicTensor;
  }
  return tf.model({ inputs: input, outputs: x, name: p });
}

/** The NFG's layers as rows (Fig. 5 as a table): name, kind, output shape, parameters. */
export function nfgLayerRows(nfg: tf.LayersModel): { layer: string; kind: string; output: string; params: number }[] {
  return nfg.layers.map((l) => ({
    layer: l.name,
    kind: l.getClassName(),
    output: `B×${(l.outputShape as number[]).slice(1).join('×')}`,
    params: l.countParams(),
  }));
}

export type NeuLossForm = 'l1' | 'l2';
export type NeuReduction = 'mean' | 'sum-over-dims' | 'sum';

/**
 * L_neu (GNDL, §3.3 Eq. 8) between generated and real neutral features [B, d].
 * Eq. 8 writes Σ_i ‖F_i − F_neu,i‖₁: a sum over the d feature dimensions of
 * each sample (and over the samples). We use 'mean' by default: the absolute
 * error averaged over batch and dimensions (PyTorch's nn.L1Loss), i.e. the
 * per-sample sum divided by d. So the paper's λ = 5 (Eq. 11) weighs the
 * average per-dimension error by 5; under the per-sample sum reading the same
 * training signal would be λ = 5/d (≈ 0.078 at the lite CNN's d = 64, ≈ 0.0098
 * at ResNet-18's d = 512), and a λ = 5 there would pull d times harder.
 * 'sum-over-dims' is that per-sample sum averaged over the batch, 'sum' the
 * printed Σ over everything.
 */
export function neutralLoss(generated: tf.Tensor2D, real: tf.Tensor2D, form: NeuLossForm = 'l1', reduction: NeuReduction = 'mean'): tf.Scalar {
  return tf.tidy(() => {
    const diff = tf.sub(generated, real);
    const per = form === 'l1' ? tf.abs(diff) : tf.square(diff); // [B, d]
    if (reduction === 'mean') return tf.mean(per) as tf.Scalar;
    if (reduction === 'sum-over-dims') return tf.mean(tf.sum(per, 1)) as tf.Scalar;
    return tf.sum(per) as tf.Scalar;
  });
}

/** V = F − G(F) (Eq. 7): the expression-deviation vector from generated neutral features. */
export const deviation = (features: tf.Tensor2D, neutral: tf.Tensor2D): tf.Tensor2D => tf.sub(features, neutral) as tf.Tensor2D;

/** Identity in the forward pass, zero gradient backwards (tfjs has no tf.stopGradient). */
export const stopGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as <T extends tf.Tensor>(x: T) => T;
