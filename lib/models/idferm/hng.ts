/**
 * IDFERM's Hard Negative Generation network (Liu et al. 2019, §3 and
 * Algorithm 1): a deterministic encoder–decoder
 * that maps any face of a person to a frontal neutral face of that person,
 * trained with a perceptual loss (phi), an identity loss (psi), a small pixel
 * loss, a left–right symmetry loss and an unconditional discriminator that
 * judges single images against a guiding set of real frontal neutral faces.
 *
 * The encoder gets no adversarial or symmetry gradient (Algorithm 1). One
 * gradient pass does both generator updates: the losses the encoder shares
 * are computed on Dec(z), the decoder-only ones on Dec(stopGradient(z)).
 * The decoder up-samples with nearest-neighbour (reshape + tile) + a 3x3
 * conv instead of transposed convolutions (slow on the wasm backend).
 * Images are [B, H, W, 1] in [-1, 1].
 * @see notebooks/04-idferm.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { SeedSequence } from '../../train/rng';
import type { IdentityNet } from './identity-net';

export interface HngArch {
  size: number;
  /** base width: encoder/discriminator blocks have width x [1, 2, 4, 8] channels */
  width: number;
  latent: number;
  seed: number;
  /**
   * false (the paper): x' = Dec(Enc(x)). true (a lite deviation): x' = clip(x + Dec(Enc(x)), -1, 1), the decoder
   * draws only the change from the input and starts at zero (its last conv is zero-initialised), so a small
   * generator need not redraw every identity detail of an unseen face through its latent code.
   */
  residual?: boolean;
}

/** Loss weights (Algorithm 1): feat (1 in the paper), w1 identity, w2 pixel, w3 symmetry, w4 adversarial. */
export interface HngWeights { feat: number; id: number; pixel: number; sym: number; adv: number }

/** Our index mapping of the weights IDFERM Sec. 5.3 lists without saying which is which: w1 = η1 = 0.03, w2 = η2 = 0.01, w3 = η3 = 0.3, w4 = η = 0.1. */
export const PAPER_WEIGHTS: HngWeights = { feat: 1, id: 0.03, pixel: 0.01, sym: 0.3, adv: 0.1 };
/** The positional mapping of the printed list (the other reading, as a switch). */
export const POSITIONAL_WEIGHTS: HngWeights = { feat: 1, id: 0.1, pixel: 0.03, sym: 0.01, adv: 0.3 };

export interface HngLossOptions {
  weights: HngWeights;
  /** identity loss against the input (the prose) or the target (Algorithm 1's formula) */
  idRef: 'input' | 'target';
  symSpace: 'laplacian' | 'pixel';
}

/** Nearest-neighbour 2x up-sampling as reshape + tile (its gradient is a sum, fast on every backend). */
class Upsample2x extends tf.layers.Layer {
  static className = 'IdfermUpsample2x';
  computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, h, w, c] = s as tf.Shape;
    return [b, (h as number) * 2, (w as number) * 2, c];
  }
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [b, h, w, c] = x.shape;
      // rank-4 tiles only (tfjs has no tile gradient above rank 4): columns, then rows
      const wide = tf.reshape(tf.tile(tf.reshape(x, [b * h, w, 1, c]), [1, 1, 2, 1]), [b, h, 1, w * 2 * c]);
      return tf.reshape(tf.tile(wide, [1, 1, 2, 1]), [b, h * 2, w * 2, c]);
    });
  }
}
tf.serialization.registerClass(Upsample2x);

const apply = (l: tf.layers.Layer, x: tf.SymbolicTensor) => l.apply(x) as tf.SymbolicTensor;
const bn = (name: string) => tf.layers.batchNormalization({ name, momentum: 0.9, epsilon: 1e-5 });

function convStack(x: tf.SymbolicTensor, name: string, width: number, seeds: SeedSequence, bnFrom: number): tf.SymbolicTensor {
  [1, 2, 4, 8].forEach((m, i) => {
    x = apply(tf.layers.conv2d({ name: `${name}.conv${i + 1}`, filters: width * m, kernelSize: 4, strides: 2, padding: 'same', useBias: i < bnFrom, kernelInitializer: tf.initializers.heNormal({ seed: seeds.next() }) }), x);
    if (i >= bnFrom) x = apply(bn(`${name}.bn${i + 1}`), x);
    x = apply(tf.layers.leakyReLU({ alpha: 0.1, name: `${name}.lrelu${i + 1}` }), x);
  });
  return apply(tf.layers.flatten({ name: `${name}.flatten` }), x);
}

export interface Hng {
  arch: HngArch;
  enc: tf.LayersModel;
  dec: tf.LayersModel;
  dis: tf.LayersModel;
}

/** Builds Enc (x -> z), Dec (z -> x') and Dis (image -> logit), seeded (our lite layout: a small DCGAN-like encoder-decoder after IDFERM Fig. 4 / Sec. 5.3, scaled by width). */
export function buildHng(arch: HngArch): Hng {
  if (arch.size % 16 !== 0 || arch.size < 16) throw new Error(`HNG image size ${arch.size} must be a multiple of 16 (4 stride-2 stages)`);
  const seeds = new SeedSequence(arch.seed);
  const s = arch.size, w = arch.width;
  const xIn = tf.input({ shape: [s, s, 1], name: 'enc.input' });
  const z = apply(tf.layers.dense({ name: 'enc.fc', units: arch.latent, kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.next() }) }), convStack(xIn, 'enc', w, seeds, 1));
  const enc = tf.model({ inputs: xIn, outputs: z, name: 'enc' });

  const zIn = tf.input({ shape: [arch.latent], name: 'dec.input' });
  const s0 = s / 16;
  let y = apply(tf.layers.dense({ name: 'dec.fc', units: s0 * s0 * w * 8, useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: seeds.next() }) }), zIn);
  y = apply(tf.layers.reLU({ name: 'dec.relu0' }), apply(bn('dec.bn0'), y));
  y = apply(tf.layers.reshape({ name: 'dec.reshape', targetShape: [s0, s0, w * 8] }), y);
  [4, 2, 1, 0].forEach((m, i) => {
    y = apply(new Upsample2x({ name: `dec.up${i + 1}` }), y);
    const last = m === 0;
    const seed = seeds.next(); // drawn either way, so the discriminator's seeds do not depend on `residual`
    const init = last && arch.residual ? tf.initializers.zeros() : tf.initializers.heNormal({ seed });
    y = apply(tf.layers.conv2d({ name: `dec.conv${i + 1}`, filters: last ? 1 : w * m, kernelSize: 3, padding: 'same', useBias: last, kernelInitializer: init }), y);
    y = last ? apply(tf.layers.activation({ name: 'dec.tanh', activation: 'tanh' }), y) : apply(tf.layers.reLU({ name: `dec.relu${i + 1}` }), apply(bn(`dec.bn${i + 1}`), y));
  });
  const dec = tf.model({ inputs: zIn, outputs: y, name: 'dec' });

  const gIn = tf.input({ shape: [s, s, 1], name: 'dis.input' });
  const logit = apply(tf.layers.dense({ name: 'dis.fc', units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.next() }) }), convStack(gIn, 'dis', w, seeds, 1));
  const dis = tf.model({ inputs: gIn, outputs: logit, name: 'dis' });
  return { arch, enc, dec, dis };
}

/** The generated face from the decoder's output (`HngArch.residual`: added to the input and clipped to [-1, 1]). */
const output = (hng: Hng, x: tf.Tensor4D, d: tf.Tensor4D): tf.Tensor4D => (hng.arch.residual ? tf.clipByValue(tf.add(x, d), -1, 1) as tf.Tensor4D : d);

/** x' = HNG(x) in eval mode. */
export const generate = (hng: Hng, x: tf.Tensor4D): tf.Tensor4D =>
  tf.tidy(() => output(hng, x, hng.dec.apply(hng.enc.apply(x, { training: false }), { training: false }) as tf.Tensor4D));

/** Identity forward, zero gradient (tfjs has no stop_gradient op). */
export const stopGradient = <T extends tf.Tensor>(x: T): T =>
  tf.customGrad(((a: tf.Tensor) => ({ value: a.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as unknown as Parameters<typeof tf.customGrad>[0])(x) as T;

const LAPLACIAN = [0, 1, 0, 1, -4, 1, 0, 1, 0];

/** Eq. 2: mean |Λ(x')_left − mirror(Λ(x'))_left| over the left half. */
export function symmetryLoss(x: tf.Tensor4D, space: 'laplacian' | 'pixel'): tf.Scalar {
  return tf.tidy(() => {
    const lam = space === 'laplacian' ? tf.conv2d(x, tf.tensor4d(LAPLACIAN, [3, 3, 1, 1]), 1, 'same') : x;
    const half = Math.floor(x.shape[2] / 2);
    const left = tf.slice(lam, [0, 0, 0, 0], [-1, -1, half, -1]);
    const mirrored = tf.slice(tf.reverse(lam, 2), [0, 0, 0, 0], [-1, -1, half, -1]);
    return tf.mean(tf.abs(tf.sub(left, mirrored))) as tf.Scalar;
  });
}

/** Sigmoid cross-entropy of logits against a constant label (Eqs. 4, 5). */
const bce = (logits: tf.Tensor, label: 0 | 1) => tf.losses.sigmoidCrossEntropy(tf.fill(logits.shape, label), logits) as tf.Scalar;

export interface HngStepLosses { feat: number; id: number; pixel: number; sym: number; adv: number; dis: number; gen: number }

/**
 * One simultaneous update of Enc, Dec and Dis (Algorithm 1).
 * @param x inputs, y their frontal-neutral targets, g guiding-set images: [B, H, W, 1] in [-1, 1]
 * @param opt.genOptimizer updates Enc + Dec; opt.disOptimizer updates Dis (skipped when weights.adv = 0)
 */
export function hngStep(hng: Hng, idNet: IdentityNet | null, batch: { x: tf.Tensor4D; y: tf.Tensor4D; g: tf.Tensor4D }, o: HngLossOptions,
  genOptimizer: tf.Optimizer, disOptimizer: tf.Optimizer): HngStepLosses {
  const w = o.weights;
  if ((w.feat > 0 || w.id > 0) && !idNet) throw new Error('the HNG perceptual and identity losses need an identity network');
  const genVars = [...hng.enc.trainableWeights, ...hng.dec.trainableWeights].map((v) => v.read() as tf.Variable);
  const disVars = hng.dis.trainableWeights.map((v) => v.read() as tf.Variable);
  const parts: Record<string, tf.Scalar> = {};
  let fake: tf.Tensor4D | null = null;
  const { value: gen, grads } = tf.variableGrads(() => {
    const z = hng.enc.apply(batch.x, { training: true }) as tf.Tensor2D;
    const xg = output(hng, batch.x, hng.dec.apply(z, { training: true }) as tf.Tensor4D); // reaches Enc and Dec
    fake = tf.keep(tf.clone(xg));
    const terms: tf.Scalar[] = [];
    const add = (name: string, weight: number, f: () => tf.Scalar) => {
      if (weight <= 0) return;
      const v = f();
      parts[name] = tf.keep(tf.clone(v));
      terms.push(tf.mul(v, weight));
    };
    add('pixel', w.pixel, () => tf.mean(tf.abs(tf.sub(xg, batch.y))) as tf.Scalar); // Eq. 7
    if (idNet && (w.feat > 0 || w.id > 0)) {
      const tg = idNet.taps(xg);
      add('feat', w.feat, () => tf.mean(tf.square(tf.sub(tg.phi, idNet.taps(batch.y).phi))) as tf.Scalar); // Eq. 1
      const ref = idNet.taps(o.idRef === 'input' ? batch.x : batch.y);
      add('id', w.id, () => tf.mul(0.5, tf.addN(tg.psi.map((t, l) => tf.mean(tf.abs(tf.sub(t, ref.psi[l])))))) as tf.Scalar); // Eq. 6
    }
    if (w.sym > 0 || w.adv > 0) {
      const xd = output(hng, batch.x, hng.dec.apply(stopGradient(z), { training: true }) as tf.Tensor4D); // Dec only (Algorithm 1)
      add('sym', w.sym, () => symmetryLoss(xd, o.symSpace)); // Eq. 2
      add('adv', w.adv, () => bce(hng.dis.apply(xd, { training: true }) as tf.Tensor, 1)); // Eq. 5
    }
    return (terms.length ? tf.addN(terms) : tf.scalar(0)) as tf.Scalar;
  }, genVars);
  genOptimizer.applyGradients(grads as unknown as Parameters<tf.Optimizer['applyGradients']>[0]);
  tf.dispose(Object.values(grads));
  let dis = NaN;
  if (w.adv > 0) {
    const d = tf.variableGrads(() => tf.add(bce(hng.dis.apply(batch.g, { training: true }) as tf.Tensor, 1),
      bce(hng.dis.apply(fake!, { training: true }) as tf.Tensor, 0)) as tf.Scalar, disVars); // Eq. 4, on stopped fakes
    disOptimizer.applyGradients(d.grads as unknown as Parameters<tf.Optimizer['applyGradients']>[0]);
    dis = d.value.dataSync()[0];
    tf.dispose([d.value, ...Object.values(d.grads)]);
  }
  const read = (k: string) => (parts[k] ? parts[k].dataSync()[0] : NaN);
  const out = { feat: read('feat'), id: read('id'), pixel: read('pixel'), sym: read('sym'), adv: read('adv'), dis, gen: gen.dataSync()[0] };
  tf.dispose([gen, fake!, ...Object.values(parts)]);
  return out;
}

export const disposeHng = (h: Hng) => { h.enc.dispose(); h.dec.dispose(); h.dis.dispose(); };
