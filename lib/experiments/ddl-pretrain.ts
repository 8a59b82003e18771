/**
 * DDL stage 0 (DDL Sec. 4.2; the checkpoint's DDM layout follows the authors'
 * code, and starting the DFEM from it is our reading): the paper
 * starts every compared network (Baseline, Baseline_mat, the DDL variants)
 * and the DFEM trunk from a PreAct ResNet-18 pretrained on AffectNet, saved
 * in the DDM's own layout. Here:
 * - method 'ddl-pretrain' (ddl.ts, beside the DDM it reuses): the DDM with the plain head (S_g + expression
 *   head on u_5, the Baseline network) trained with cross-entropy on a
 *   separate expression set. Paper profile: the user's AffectNet manifest
 *   (`ddlPretrainManifest`); smoke/lite: SynFER's wild layout drawn with
 *   `ddlPretrainSeed` (other faces than notebook 05's FER data, as the DFEM's
 *   database uses ddlDfemSeed), `ddlPretrainImages` images per subject, a
 *   quarter of the subjects held out as the stage's test split.
 * - The stage is fetched by `prepare` with ctx.runDependency, so it is
 *   cached by its config hash (network shape + stage settings + the
 *   profile's defaults for the rest) and shared by every variant, seed and
 *   fold, and by the DFEM.
 * - Its S_g is exported as a TF.js model.json named in the DDM's layout
 *   ('Sg.stem.conv/kernel', ...); loadDdlWeights puts those weights into a
 *   DDM (S_g, plus S_e/S_d/head weights whose names and shapes match, as for
 *   the authors' checkpoint) or a DFEM trunk ('dfem.X' <- 'Sg.X'). Only S_g
 *   is exported, so every compared variant starts from the same weights.
 * - A user's `pretrainedWeights` (e.g. the authors' checkpoint converted to
 *   those names) replaces the stage.
 * @see notebooks/05-ddl.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadConfig, type Config } from '../config';
import { CKPLUS_CLASSES } from '../data/classes';
import { ensureSynfer } from '../data/dataset';
import { resolveSynferOptions } from '../data/synfer/generate';
import { buildDdm } from '../models/ddl/ddm';
import { type LoadReport, readWeightsFile, writeWeightsFile } from '../models/pretrained';
import { PROJECT_ROOT } from '../paths';
import { RUN_FILES } from '../results/store';
import { loadCheckpoint } from '../train/checkpoint';
import type { DependencyRequest, PrepareContext, RunConfig, StageRequest } from '../train/run-types';

/** How the DDL networks of a run start; what `prepare` hands to the builders. */
export interface DdlInit {
  kind: 'scratch' | 'stage0' | 'file';
  /** model.json in the DDM's layout (null: seeded random weights) */
  weights: string | null;
  /** the stage-0 run (kind 'stage0') */
  runId?: string;
}

export interface DdlLoadReport extends LoadReport {
  /** weights named alike in the file and the model but of another shape (e.g. a head for 8 AffectNet classes): left as initialised */
  mismatched: string[];
}

/** True when the trunk starts pretrained (stage 0 or a user's file): the 'pre' rate and milestones apply (DDL Sec. 4.2; the authors' code uses other milestones without pretraining). */
export const startsPretrained = (c: Pick<Config, 'ddlPretrain' | 'pretrainedWeights'>) => !!c.pretrainedWeights || c.ddlPretrain === 'stage0';

/** Whether a layer name (after its model prefix) is part of the trunk S_g (lib/models/ddl/layers.ts trunk()). */
const isTrunk = (rest: string) => rest.startsWith('stem.') || /^stage\d/.test(rest);

/**
 * Loads a DDM-layout weights file into a DDM ('Sg.', 'Se.', 'Sd.' names)
 * or a DFEM ('dfem.' trunk names read from 'Sg.'). Every trunk weight must
 * be in the file with its shape (else an error naming the file); other
 * weights are loaded where name and shape match, the rest stay as built.
 */
export function loadDdlWeights(model: tf.LayersModel, file: string, kind: 'ddm' | 'dfem'): DdlLoadReport {
  const stored = readWeightsFile(file);
  const report: DdlLoadReport = { file, loaded: [], kept: [], unused: [], mismatched: [] };
  const missing: string[] = [];
  const used = new Set<string>();
  try {
    const values = model.weights.map((w) => {
      const name = w.originalName;
      const prefix = kind === 'ddm' ? 'Sg.' : 'dfem.';
      const trunkWeight = name.startsWith(prefix) && isTrunk(name.slice(prefix.length));
      const key = kind === 'dfem' ? (trunkWeight ? 'Sg.' + name.slice(prefix.length) : '') : name;
      const t = key ? stored[key] : undefined;
      const fits = !!t && t.shape.join('x') === w.shape.join('x');
      if (!fits) {
        if (trunkWeight) missing.push(t ? `${key} (file [${t.shape}], model [${w.shape}])` : key);
        else (t ? report.mismatched : report.kept).push(name);
        return w.read();
      }
      used.add(key);
      report.loaded.push(name);
      return t!;
    });
    if (missing.length) {
      const none = report.loaded.length === 0;
      throw new Error(`${file}: ${none ? 'no weight matches the DDM layout' : `${missing.length} trunk weight(s) missing or of another shape`}` +
        ` (the ${kind === 'ddm' ? 'DDM' : 'DFEM'} trunk needs names like 'Sg.stem.conv/kernel'): ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', ...' : ''}`);
    }
    model.setWeights(values);
    report.unused = Object.keys(stored).filter((k) => !used.has(k));
    return report;
  } finally {
    tf.dispose(Object.values(stored));
  }
}

/** The stage's training data for a configuration: the user's manifest, or the synthetic expression set (its manifest path relative to the project root). */
export async function ensurePretrainData(config: Config | RunConfig): Promise<{ dataset: string; manifest: string }> {
  if (config.ddlPretrainManifest.trim()) return { dataset: 'csv', manifest: config.ddlPretrainManifest };
  if (config.profile === 'paper' && config.dataset !== 'synfer') {
    throw new Error('FER_DDL_PRETRAIN_MANIFEST is empty: the paper profile starts every DDL network from stage 0, an expression network pretrained on AffectNet (DDL Sec. 4.2); ' +
      'build an AffectNet manifest and set it, set FER_PRETRAINED_WEIGHTS to a DDM-layout checkpoint, or set FER_DDL_PRETRAIN=scratch');
  }
  if (config.dataset === 'synfer' && config.seed === config.ddlPretrainSeed) {
    throw new Error(`ddlPretrainSeed=${config.ddlPretrainSeed} equals seed: the stage-0 set would hold the FER subjects; set FER_DDL_PRETRAIN_SEED to another value`);
  }
  const manifest = await ensureSynfer(resolveSynferOptions({
    mode: 'wild', subjects: config.ddlPretrainSubjects, perSubject: config.ddlPretrainImages, seed: config.ddlPretrainSeed,
    size: config.imageSize, color: config.channels === 3, expressions: [...CKPLUS_CLASSES], testFraction: 0.25,
    frames: 4, // unused by the wild layout, the lowest valid value; size: the run's image size (notebook 06 rescales it)
    pose: config.ddlPose, light: config.ddlLight, labelNoise: 0, degrade: 0.3,
  }));
  return { dataset: 'csv', manifest: path.relative(PROJECT_ROOT, manifest) };
}

/**
 * The stage-0 run's settings: the DDM's shape and the stage's own settings;
 * everything else is the profile's default, so runs that differ in anything
 * else (variant, stage-2 epochs, seed) share the stage.
 */
export function pretrainRunConfig(config: Config | RunConfig, data: { dataset: string; manifest: string }): Config {
  const d = loadConfig({ FER_PROFILE: config.profile });
  return {
    ...d,
    ddlImageSize: config.ddlImageSize, ddlCrop: config.ddlCrop, ddlWidth: config.ddlWidth, ddlBlocks: config.ddlBlocks, ddlDownsample: config.ddlDownsample,
    ddlDropout: config.ddlDropout, ddlFeatureDim: config.ddlFeatureDim, channels: config.channels,
    ddlPretrainManifest: config.ddlPretrainManifest, ddlPretrainSubjects: config.ddlPretrainSubjects, ddlPretrainImages: config.ddlPretrainImages,
    ddlPretrainSeed: config.ddlPretrainSeed, ddlPretrainEpochs: config.ddlPretrainEpochs, ddlPretrainLearningRate: config.ddlPretrainLearningRate, ddlPose: config.ddlPose, ddlLight: config.ddlLight,
    ...data, dataRoot: '', seed: config.ddlPretrainSeed, imageSize: config.imageSize, epochs: config.ddlPretrainEpochs, folds: 2,
    batchSize: config.ddlBatchSize, learningRate: config.ddlPretrainLearningRate, optimizer: 'adam', weightDecay: 0,
    lrSchedule: 'constant', lrMilestones: '', ddlPretrain: 'scratch', pretrainedWeights: '', backboneInit: 'scratch',
  } as Config;
}

/** model.json of the S_g weights exported from a stage-0 run folder. */
export const stage0WeightsFile = (runDir: string) => path.join(runDir, 'trunk', 'model.json');

/** Writes S_g of a stage-0 run (its fold-0 checkpoint) as a DDM-layout model.json + weights.bin; .bin first, both atomic. */
export async function exportStage0Weights(runDir: string): Promise<string> {
  const file = stage0WeightsFile(runDir);
  if (fs.existsSync(file)) return file;
  const c = JSON.parse(fs.readFileSync(path.join(runDir, RUN_FILES.config), 'utf8')) as RunConfig;
  const ddm = buildDdm({
    width: c.ddlWidth, blocks: c.ddlBlocks, downsample: c.ddlDownsample as 'stride' | 'maxpool', inputShape: [c.ddlCrop, c.ddlCrop, c.channels],
    classes: c.data!.classes.length, head: 'plain', disturbance: false, featureDim: c.ddlFeatureDim, dropout: c.ddlDropout, seed: 0,
  });
  try {
    await loadCheckpoint(path.join(runDir, RUN_FILES.work, 'fold-0.ckpt'), { ddm: ddm.full }, {});
    const named = ddm.full.weights.filter((w) => w.originalName.startsWith('Sg.')).map((w) => ({ name: w.originalName, tensor: w.read() }));
    await writeWeightsFile(file, named, {
      format: 'ddl-stage0-weights', source: path.basename(runDir), layout: 'DDM (S_g only)',
      trunk: { width: c.ddlWidth, blocks: c.ddlBlocks, downsample: c.ddlDownsample, inputShape: [c.ddlCrop, c.ddlCrop, c.channels] },
    });
  } finally {
    ddm.full.dispose();
  }
  return file;
}

/**
 * How a DDL run's networks start: the user's pretrainedWeights (replaces
 * stage 0), the stage-0 run (trained or reused), or seeded random weights.
 */
export async function prepareDdlInit(ctx: PrepareContext): Promise<DdlInit> {
  const c = ctx.config;
  if (c.pretrainedWeights) {
    if (!fs.existsSync(path.resolve(PROJECT_ROOT, c.pretrainedWeights))) throw new Error(`pretrainedWeights: file not found: ${c.pretrainedWeights}`);
    return { kind: 'file', weights: path.resolve(PROJECT_ROOT, c.pretrainedWeights) };
  }
  const stage0 = await stage0Request(c);
  if (!stage0) return { kind: 'scratch', weights: null };
  const { runDir, runId } = await ctx.runDependency(stage0);
  return { kind: 'stage0', weights: await exportStage0Weights(runDir), runId };
}

/** The stage-0 run a DDL configuration starts from; null when it starts from a user's file or from scratch. */
export async function stage0Request(c: RunConfig): Promise<DependencyRequest | null> {
  if (c.pretrainedWeights || c.ddlPretrain === 'scratch') return null;
  if (c.ddlPretrain !== 'stage0') throw new Error(`ddlPretrain='${c.ddlPretrain}' must be 'stage0' or 'scratch'`);
  return { method: 'ddl-pretrain', variant: 'default', ...pretrainRunConfig(c, await ensurePretrainData(c)) };
}

/** The stages of prepareDdlInit (as StageRequests): stage 0, or none. */
export async function ddlInitStages(c: RunConfig): Promise<StageRequest[]> {
  const stage0 = await stage0Request(c);
  return stage0 ? [{ kind: 'run', request: stage0 }] : [];
}
