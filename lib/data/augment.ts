/**
 * Training augmentation for (target, neutral) pairs: horizontal flip or
 * additive Gaussian noise, the same operation on both images of a pair
 * (SPNDL Sec. 4.2 / GNDL Sec. 4.2; probabilities and noise levels are our choice). Works on NHWC
 * Float32Arrays in [0, 1] before normalisation; seeded, never in place.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import { gaussian, type Rng } from './random';

export type AugmentOp = 'none' | 'flip' | 'noise';

export interface AugmentOptions {
  /** chance of leaving a pair as it is (SPNDL: 0.5; GNDL: 1/3); otherwise flip or noise, half each */
  pNone: number;
  /** noise std on [0, 1] (SPNDL lite 0.02, GNDL 0.03) */
  noiseStd: number;
  /** 'shared': the same noise field on both images; 'independent': separate draws of the same std */
  pairNoise: 'shared' | 'independent';
}

export const DEFAULT_AUGMENT: AugmentOptions = { pNone: 0.5, noiseStd: 0.02, pairNoise: 'shared' };

/**
 * Augments a batch of pairs; one op is drawn per pair.
 * @param targets [B, size, size, channels]
 * @param neutrals the references in the same layout, or null (single images)
 */
export function augmentPairs(targets: Float32Array, neutrals: Float32Array | null, size: number, channels: number, rng: Rng,
  opts: Partial<AugmentOptions> = {}): { targets: Float32Array; neutrals: Float32Array | null; ops: AugmentOp[] } {
  const o = { ...DEFAULT_AUGMENT, ...opts };
  const per = size * size * channels;
  if (targets.length % per) throw new Error(`augmentPairs: ${targets.length} values is not a whole number of ${size}x${size}x${channels} images`);
  if (neutrals && neutrals.length !== targets.length) throw new Error(`augmentPairs: ${neutrals.length} neutral values for ${targets.length} target values`);
  const n = targets.length / per;
  const outT = new Float32Array(targets.length), outN = neutrals ? new Float32Array(neutrals.length) : null;
  const ops: AugmentOp[] = [];
  const noise = new Float32Array(per);
  for (let b = 0; b < n; b++) {
    const u = rng();
    const op: AugmentOp = u < o.pNone ? 'none' : u < o.pNone + (1 - o.pNone) / 2 ? 'flip' : 'noise';
    ops.push(op);
    const off = b * per;
    const images: [Float32Array, Float32Array][] = [[targets, outT]];
    if (neutrals && outN) images.push([neutrals, outN]);
    for (let k = 0; k < images.length; k++) {
      const [src, dst] = images[k];
      if (op === 'none') {
        dst.set(src.subarray(off, off + per), off);
      } else if (op === 'flip') {
        for (let y = 0; y < size; y++) {
          for (let x = 0; x < size; x++) {
            const from = off + (y * size + (size - 1 - x)) * channels, to = off + (y * size + x) * channels;
            for (let c = 0; c < channels; c++) dst[to + c] = src[from + c];
          }
        }
      } else {
        if (k === 0 || o.pairNoise === 'independent') for (let i = 0; i < per; i++) noise[i] = o.noiseStd * gaussian(rng);
        for (let i = 0; i < per; i++) dst[off + i] = Math.min(1, Math.max(0, src[off + i] + noise[i]));
      }
    }
  }
  return { targets: outT, neutrals: outN, ops };
}
