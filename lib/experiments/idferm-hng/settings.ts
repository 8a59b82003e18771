/**
 * IDFERM stage A's settings (IDFERM Sec. 3, Algorithm 1 and Sec. 5.3): the HNG variants (the paper's
 * ablations and our own), what a stage depends on, and the folders its parts are stored in,
 * data/results/hng/<name>-<hash>/, hashed from those settings so that every fold, seed, method and
 * notebook reuses them. The face database is face-db.ts, the identity networks identity.ts and the
 * generator stage stage.ts.
 * @see notebooks/04-idferm.ipynb
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from '../../config';
import { type HngWeights, PAPER_WEIGHTS, POSITIONAL_WEIGHTS } from '../../models/idferm/hng';
import { canonicalJson, RESULTS_DIR } from '../../results/store';

/** HNG variants (the paper's ablations of Sec. 5.4 and our own): name -> changes to the weights and switches. 'w1=<v>' is the Table 1 sweep. */
export const HNG_VARIANTS: Record<string, { description: string; weights?: Partial<HngWeights>; idRef?: 'input' | 'target'; symSpace?: 'laplacian' | 'pixel'; mapping?: 'index' | 'positional' }> = {
  full: { description: 'all five losses of Algorithm 1, w1 = 0.03' },
  'no-id': { description: 'no identity loss (w1 = 0; Fig. 9/10 "without L_id")', weights: { id: 0 } },
  'ae-only': { description: 'auto-encoder with the pixel loss only, no discriminator (Fig. 9 "AE")', weights: { feat: 0, id: 0, pixel: 1, sym: 0, adv: 0 } },
  'no-feat': { description: 'no perceptual loss (the paper says the GAN collapses)', weights: { feat: 0 } },
  'no-sym': { description: 'no symmetry loss', weights: { sym: 0 } },
  'no-gan': { description: 'no adversarial loss (w4 = 0)', weights: { adv: 0 } },
  'sym-pixel': { description: 'symmetry loss in pixel space instead of Laplacian space', symSpace: 'pixel' },
  'id-target': { description: 'identity loss against the target y instead of the input x (the other reading of Sec. 3.4)', idRef: 'target' },
  positional: { description: 'the other reading of the weights Sec. 5.3 lists: mapped to the losses in the printed order', mapping: 'positional' },
};

/**
 * The variant's loss weights and switches. `pixelWeight` is w2 of the index mapping (the paper's η2 = 0.01 by
 * default; idfermHngPixelWeight in a stage); the positional mapping and 'ae-only' keep their own.
 */
export function hngVariantSettings(variant: string, pixelWeight = PAPER_WEIGHTS.pixel) {
  const sweep = /^w1=([0-9.]+)$/.exec(variant);
  const v = sweep ? { description: `identity-loss weight w1 = ${sweep[1]} (Table 1 sweep)`, weights: { id: Number(sweep[1]) } } : HNG_VARIANTS[variant];
  if (!v || (sweep && !Number.isFinite(Number(sweep[1])))) throw new Error(`unknown HNG variant '${variant}'; use one of: ${Object.keys(HNG_VARIANTS).join(', ')}, or w1=<number>`);
  const base = 'mapping' in v && v.mapping === 'positional' ? POSITIONAL_WEIGHTS : { ...PAPER_WEIGHTS, pixel: pixelWeight };
  return {
    description: v.description,
    weights: { ...base, ...(v.weights ?? {}) } as HngWeights,
    idRef: ('idRef' in v && v.idRef) || 'input',
    symSpace: ('symSpace' in v && v.symSpace) || 'laplacian',
  };
}

/** The settings the stage depends on (hashed into its folder name). */
export function hngSettings(config: Config) {
  return {
    seed: config.seed, size: config.idfermImageSize, hngSubjects: config.idfermHngSubjects, hngManifest: config.idfermHngManifest,
    // a rebuilt manifest is another face-db (the key is absent for the synthetic one, so its stored stages keep their names)
    ...(config.idfermHngManifest ? { hngManifestSha: fileSha(config.idfermHngManifest) } : {}),
    width: config.idfermHngWidth, latent: config.idfermHngLatent, batch: config.idfermHngBatch, learningRate: config.idfermHngLearningRate,
    // v2: warm-up learning rate, residual output and pixel weight as settings (v1 generators drew unseen faces farther from
    // their neutral face than the input was; none of them may be reused)
    version: 2, warmupLearningRate: config.idfermHngWarmupLearningRate, residual: config.idfermHngResidual, pixelWeight: config.idfermHngPixelWeight,
    warmupEpochs: config.idfermHngWarmupEpochs, epochs: config.idfermHngEpochs, identityNet: config.idfermIdentityNet,
    identityWeights: config.idfermIdentityWeights, idnetEpochs: config.idfermIdnetEpochs,
    synfer: [config.synferFrames, config.synferConfound, config.synferSubtle, config.synferPose, config.synferLight, config.synferOcclusion, config.synferExpressions],
  };
}

export function fileSha(file: string): string {
  if (!fs.existsSync(file)) throw new Error(`HNG pair manifest not found: ${file} (setting idfermHngManifest)`);
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 16);
}

export const stageDir = (name: string, settings: object, root = RESULTS_DIR) =>
  path.join(root, 'hng', `${name}-${createHash('sha256').update(canonicalJson(settings)).digest('hex').slice(0, 10)}`);

/** The folder of a stage variant (its weights.ckpt is written last, after its identity networks). */
export const hngStageDir = (config: Config, variant: string, root = RESULTS_DIR) =>
  stageDir(variant.replace(/[^\w.=-]/g, '_'), { ...hngSettings(config), variant, v: hngBehaviour(variant, config.idfermHngPixelWeight) }, root);

/** What a variant changes in training, without its description (rewording one must not orphan its stored stages). */
function hngBehaviour(variant: string, pixelWeight: number) {
  const { description: _wording, ...behaviour } = hngVariantSettings(variant, pixelWeight);
  return behaviour;
}

/** The HNG variants notebook 04 trains and shows (idfermHngVariants, 'full' first). */
export const hngStudyVariants = (config: Config): string[] =>
  config.idfermHngVariants.split(',').map((v) => v.trim()).filter(Boolean);

/** Whether the HNG variant of this configuration is stored (reads nothing but the folder; trains nothing). */
export function hngStageStored(config: Config, variant = 'full', resultsDir = RESULTS_DIR): boolean {
  return fs.existsSync(path.join(hngStageDir(config, variant, resultsDir), 'weights.ckpt'));
}

/** How a stage is fetched (hngStage, and the identity networks it trains first). */
export interface StageOptions {
  /** null: no progress line */
  progress?: null;
  /** results root (default data/results); stages live in <root>/hng/ */
  resultsDir?: string;
  /** false: load a stored stage only, never train (hngStage then returns null when anything is missing) */
  train?: boolean;
}
