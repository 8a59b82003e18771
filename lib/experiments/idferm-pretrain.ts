/**
 * IDFERM stage C (paper §5.3 and Table 5): the RML
 * network pretrained on a face database of other people than the FER data,
 * then fine-tuned on each FER fold.
 *
 * - Data: the faces the HNG learns from. Lite/smoke: the synthetic face-db
 *   (SynFER drawn with the face-db seed, `idfermHngSubjects` subjects) with
 *   each sequence's onset frame added as 'neutral'; paper profile: the
 *   Multi-PIE pair manifest of `idfermHngManifest` (near-frontal poses, its
 *   four usable expressions). Either way only Multi-PIE's four classes are
 *   kept (neutral, surprise, disgust, happy/smile), and 1 in 10 subjects is
 *   held out as the validation split (the stage's test accuracy).
 * - Loss: the joint loss (softmax + RML), the reference of each query being
 *   its true neutral face (the manifest's neutral_path); neutral queries get
 *   no reference term (our reading of "the joint loss", §5.3). Variant 'softmax' pretrains without RML.
 * - The stage is a run of method 'idferm-pretrain' (registered in
 *   lib/experiments/idferm.ts) fetched with ctx.runDependency, so it is
 *   cached by its config hash and shared by every fine-tuning variant of the
 *   same network shape; a fine-tuning run loads its trunk, FC1_EC and ML
 *   branch and re-initialises FC2_EC and the metric head (our choice; §5.3 does not say).
 * - Learning rate: with idfermLrPlateau (paper profile) the paper's rule
 *   (halve and reload the best weights; lib/train/lr-plateau.ts) on a
 *   validation split of the stage's training subjects, and fine-tuning starts
 *   from the best-validation epoch; without it, from the last epoch.
 * @see notebooks/04-idferm.ipynb
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { loadConfig, type Config } from '../config';
import { loadDataset } from '../data/dataset';
import { type ManifestRow, readManifest, writeManifest } from '../data/manifest';
import { withNeutralClass } from '../data/pairs';
import { rng, shuffled } from '../data/random';
import { PROJECT_ROOT } from '../paths';
import { RUN_FILES } from '../results/store';
import { deriveSeed } from '../train/rng';
import { bestCheckpointFile } from '../train/trainer';
import { hngPairManifest } from './idferm-hng/face-db';
import type { OptionValue, RunConfig } from '../train/run-types';

/** Multi-PIE's usable expressions (IDFERM §5.1); SynFER's 'happy' is Multi-PIE's 'smile'. */
export const PRETRAIN_LABELS = ['neutral', 'surprise', 'disgust', 'happy', 'smile'] as const;

/** Validation subjects of the stage: 1 in 10, at least 1 (our choice: §5.3 uses a validation set but gives no split). */
export const validationSubjects = (n: number) => Math.max(1, Math.round(n / 10));

/**
 * Rows of the pretraining set: the four expressions, the rest dropped (they
 * are other classes, not bad rows); a `split` column holding out
 * validationSubjects of the subjects (seeded).
 */
export function pretrainRows(rows: ManifestRow[], seed: number): ManifestRow[] {
  const kept = rows.filter((r) => (PRETRAIN_LABELS as readonly string[]).includes(r.label));
  const labels = new Set(kept.map((r) => r.label));
  if (labels.size < 2) throw new Error(`RML pretraining needs at least 2 of the expressions ${PRETRAIN_LABELS.join(', ')}; the face database has ${[...labels].join(', ') || 'none'}`);
  const subjects = [...new Set(kept.map((r) => r.subject))].sort();
  if (subjects.length < 2) throw new Error(`RML pretraining needs at least 2 subjects (one for validation); the face database has ${subjects.length}`);
  const held = new Set(shuffled(rng(seed, 'idferm-pretrain-validation'), subjects).slice(0, validationSubjects(subjects.length)));
  return kept.map((r) => ({ ...r, split: held.has(r.subject) ? 'test' : 'train' }));
}

/**
 * Writes (once per source manifest and seed) the stage's manifest under
 * data/cache/idferm-pretrain/ with paths relative to it; returns its path
 * relative to the project root, so run ids do not depend on the checkout.
 */
export async function ensurePretrainManifest(config: Config): Promise<string> {
  let source: string, rows: ManifestRow[];
  if (config.idfermHngManifest) {
    source = hngPairManifest(config.idfermHngManifest).file; // absolute paths; neutral_path = frontal neutral target
    rows = readManifest(source);
  } else {
    if (config.dataset !== 'synfer') throw new Error(`RML pretraining on ${config.dataset} faces needs a real face database: set idfermHngManifest (FER_IDFERM_HNG_MANIFEST) to a Multi-PIE manifest`);
    // the HNG's synthetic face-db (idferm-hng loadFaceDb): other subjects than the FER data
    const set = await loadDataset({ ...config, dataset: 'synfer', subjects: config.idfermHngSubjects, imageSize: config.idfermImageSize, channels: 1, seed: deriveSeed(config.seed, 'face-db') % 100000 });
    source = set.source!.manifest;
    const dir = path.dirname(source);
    rows = withNeutralClass(set.rows).map((r) => ({ ...r, ...(r.frontal_path ? { frontal_path: path.resolve(dir, String(r.frontal_path)) } : {}) }));
  }
  const sha = createHash('sha256').update('pretrain-rows-v1').update(fs.readFileSync(source)).update(String(config.seed)).digest('hex').slice(0, 12); // bump the tag when pretrainRows changes
  const file = path.join(PROJECT_ROOT, 'data', 'cache', 'idferm-pretrain', `face-db-${sha}.csv`);
  if (!fs.existsSync(file)) {
    const out = path.dirname(file);
    const rel = (p: unknown) => (p ? path.relative(out, path.resolve(String(p))) : '');
    writeManifest(file, pretrainRows(rows, config.seed).map((r) => ({ ...r, path: rel(r.path), neutral_path: rel(r.neutral_path), ...(r.frontal_path ? { frontal_path: rel(r.frontal_path) } : {}) })));
  }
  return path.relative(PROJECT_ROOT, file);
}

/**
 * The stage's run settings for a fine-tuning configuration: the network
 * shape and the pretraining settings; everything else is the profile's
 * default, so fine-tuning runs that differ in anything else share the stage.
 */
export function pretrainRunConfig(config: Config | RunConfig, manifest: string): Config {
  const defaults = loadConfig({ FER_PROFILE: config.profile });
  return {
    ...defaults,
    seed: config.seed, idfermImageSize: config.idfermImageSize, idfermRmlWidth: config.idfermRmlWidth, idfermDropout: config.idfermDropout,
    idfermHngSubjects: config.idfermHngSubjects, idfermHngManifest: config.idfermHngManifest,
    idfermPretrainEpochs: config.idfermPretrainEpochs, idfermPretrainLearningRate: config.idfermPretrainLearningRate, idfermPretrainBatch: config.idfermPretrainBatch,
    // undefined in a run configuration made while the rule was off: runSettings leaves them out again
    idfermLrPlateau: config.idfermLrPlateau, idfermLrPatience: config.idfermLrPatience, idfermLrRise: config.idfermLrRise, idfermValShare: config.idfermValShare,
    dataset: 'csv', manifest, dataRoot: '', imageSize: config.idfermImageSize, channels: 1, epochs: config.idfermPretrainEpochs,
    lrSchedule: 'constant', lrMilestones: '', splPaceEpochs: '', backboneInit: 'scratch', pretrainedWeights: '',
  };
}

/** The stage options a fine-tuning run needs: its network shape (the stage's weights must fit it). */
export const stageOptions = (o: Record<string, OptionValue>) => ({ lreluSlope: o.lreluSlope, connect: o.connect });

/** The checkpoint of a stored stage run (its single fold: the train/validation split): its best-validation epoch when it trained under the learning-rate rule, else its last. */
export function pretrainedCheckpoint(runDir: string): string {
  const last = path.join(runDir, RUN_FILES.work, 'fold-0.ckpt');
  const best = bestCheckpointFile(last);
  return fs.existsSync(best) ? best : last;
}
