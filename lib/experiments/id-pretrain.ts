/**
 * Identity pretraining of the lite backbones (our stand-in for the face-recognition starts of SPNDL Sec. 3.2, set `id-pre`).
 * The papers start from backbones trained to recognise faces (MS-Celeb-1M);
 * the lite stand-in teaches the configured backbone (its kind, width, image
 * size and channels) to tell `idPreSubjects` synthetic identities apart, and
 * every backbone of a run with backboneInit='id-pre' starts from the result,
 * so the comparisons between variants stay controlled.
 *
 * - Identity database: SynFER in its wild layout drawn with `idPreSeed`
 *   (other faces than the FER data, as DDL's DFEM database uses
 *   ddlDfemSeed): `idPreImages` training images per identity plus 1 in 10
 *   held out, random expressions, the configuration's pose, light,
 *   occlusion and confound. Beside the set an identity manifest
 *   (label = identity, split = test on the held-out images) makes it a
 *   dataset the shared runner trains on as it is.
 * - The stage is a run of method 'id-pretrain' (baseline.ts: the baseline's backbone,
 *   linear classifier and cross-entropy, on identity labels) fetched with
 *   ctx.runDependency, so it is cached by its config hash. That config holds
 *   the backbone shape, the id-pre settings and the profile's defaults for
 *   everything else, so every run with the same backbone shape shares one.
 *   Its test accuracy is the closed-set identity accuracy on held-out images.
 * - The trained backbone is exported as a TF.js model.json
 *   (backbone/model.json in the run folder) and loaded by the loader of a
 *   user's `pretrainedWeights` (lib/models/pretrained.ts).
 * Methods opt in by returning prepareBackboneInit(ctx) from `prepare`; the
 * builders read it with initialBackboneWeights(ctx).
 * @see notebooks/02-spndl.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadConfig, type Config } from '../config';
import { CLASS_ORDER } from '../data/classes';
import { ensureSynfer } from '../data/dataset';
import { readManifest, writeManifest } from '../data/manifest';
import { resolveSynferOptions, type SynferOptions } from '../data/synfer/generate';
import { BackboneName, buildBackbone } from '../models/backbones';
import { writeWeightsFile } from '../models/pretrained';
import { PROJECT_ROOT } from '../paths';
import { RUN_FILES } from '../results/store';
import { loadCheckpoint } from '../train/checkpoint';
import type { BuildContext, DataInfo, DependencyRequest, PrepareContext, RunConfig, StageRequest } from '../train/run-types';

/** How a run's backbones start; what `prepare` hands to the builders. */
export interface BackboneInit {
  kind: 'scratch' | 'file' | 'id-pre';
  /** TF.js model.json every backbone loads (null: seeded random weights) */
  weights: string | null;
  /** the identity-pretraining run (kind 'id-pre') */
  runId?: string;
}

/** Held-out images per identity for the closed-set accuracy (1 in 10, at least 1). */
export const heldOutPerIdentity = (images: number) => Math.max(1, Math.ceil(images / 10));

/** The image shape a backbone is built for: the data's, which may differ from config.imageSize when a caller passes its own set. */
export type ImageShape = Pick<DataInfo, 'size' | 'channels'>;

/** The wild-layout SynFER options of the identity database for a configuration and image shape. */
export function identityDatabaseOptions(config: Config | RunConfig, shape: ImageShape): SynferOptions {
  return resolveSynferOptions({
    mode: 'wild', subjects: config.idPreSubjects, perSubject: config.idPreImages + heldOutPerIdentity(config.idPreImages),
    seed: config.idPreSeed, size: shape.size, color: shape.channels === 3, expressions: [...CLASS_ORDER],
    testFraction: 0, labelNoise: 0, corrupt: 0, degrade: 0, frames: 4, // frames: unused by the wild layout, the lowest valid value
    pose: config.synferPose, light: config.synferLight, occlusion: config.synferOcclusion, confound: config.synferConfound,
  });
}

/**
 * Generates (or reuses) the identity database and writes its identity
 * manifest: label = identity, split = 'test' on the last held-out images of
 * each identity. Returns the manifest path relative to the project root, so
 * run ids do not depend on where the project is checked out.
 */
export async function ensureIdentityDatabase(config: Config | RunConfig, shape: ImageShape): Promise<string> {
  if (config.dataset === 'synfer' && config.seed === config.idPreSeed) {
    throw new Error(`idPreSeed=${config.idPreSeed} equals seed: the identity database would hold the FER subjects; set FER_ID_PRE_SEED to another value`);
  }
  const options = identityDatabaseOptions(config, shape);
  const synfer = await ensureSynfer(options);
  const file = path.join(path.dirname(synfer), 'identities.csv');
  if (!fs.existsSync(file)) {
    const rows = readManifest(synfer).map((r) => {
      const k = Number(/_i(\d+)$/.exec(String(r.sequence))?.[1]); // image index within its identity
      if (!Number.isInteger(k)) throw new Error(`${synfer}: sequence '${r.sequence}' is not a wild-layout image key`);
      return { ...r, expression: r.label, label: r.subject, split: k < config.idPreImages ? 'train' : 'test' };
    });
    writeManifest(file, rows); // atomic: a concurrent writer writes the same content
  }
  return path.relative(PROJECT_ROOT, file);
}

/**
 * The id-pretrain run's settings for a run's configuration: the backbone
 * shape it initialises and the id-pre settings; everything else is the
 * profile's default, so runs of different notebooks share the pretraining.
 */
export function idPretrainRunConfig(config: Config | RunConfig, shape: ImageShape, manifest: string): Config {
  const defaults = loadConfig({ FER_PROFILE: config.profile });
  return {
    ...defaults,
    backbone: config.backbone, backboneWidth: config.backboneWidth, imageSize: shape.size, channels: shape.channels,
    synferPose: config.synferPose, synferLight: config.synferLight, synferOcclusion: config.synferOcclusion, synferConfound: config.synferConfound,
    idPreSubjects: config.idPreSubjects, idPreImages: config.idPreImages, idPreEpochs: config.idPreEpochs, idPreSeed: config.idPreSeed,
    dataset: 'csv', manifest, dataRoot: '', seed: config.idPreSeed, epochs: config.idPreEpochs,
    backboneInit: 'scratch', pretrainedWeights: '', lrSchedule: 'constant', lrMilestones: '', splPaceEpochs: '',
  };
}

/** model.json of the backbone weights exported from an id-pretrain run folder. */
export const exportedWeightsFile = (runDir: string) => path.join(runDir, 'backbone', 'model.json');

/**
 * Writes the trained backbone of an id-pretrain run (its fold-0 checkpoint)
 * as a TF.js model.json + weights.bin, named by the backbone's own weight
 * names; the .bin first, the model.json last, both atomically.
 */
export async function exportBackboneWeights(runDir: string): Promise<string> {
  const file = exportedWeightsFile(runDir);
  if (fs.existsSync(file)) return file;
  const config = JSON.parse(fs.readFileSync(path.join(runDir, RUN_FILES.config), 'utf8')) as RunConfig;
  const backbone = buildBackbone(config.backbone as BackboneName, {
    inputShape: [config.imageSize, config.imageSize, config.channels], width: config.backboneWidth, seed: 0,
  });
  try {
    await loadCheckpoint(path.join(runDir, RUN_FILES.work, 'fold-0.ckpt'), { backbone: backbone.model }, {});
    const named = backbone.model.weights.map((w) => ({ name: w.originalName, tensor: w.read() }));
    await writeWeightsFile(file, named, {
      format: 'fer-backbone-weights', source: path.basename(runDir),
      backbone: { name: config.backbone, width: config.backboneWidth, inputShape: [config.imageSize, config.imageSize, config.channels] },
    });
  } finally {
    backbone.model.dispose();
  }
  return file;
}

/** The id-pretrain run a run's backbone shape starts from (generating its identity database when missing). */
export async function idPretrainRequest(config: RunConfig, shape: ImageShape): Promise<DependencyRequest> {
  const manifest = await ensureIdentityDatabase(config, shape);
  return { method: 'id-pretrain', variant: 'default', ...idPretrainRunConfig(config, shape, manifest) };
}

/** Trains (or reuses) the identity pretraining for a run's backbone shape; returns its exported weights. */
export async function ensureIdPretrain(ctx: PrepareContext): Promise<BackboneInit> {
  const { runDir, runId } = await ctx.runDependency(await idPretrainRequest(ctx.config, ctx.data));
  return { kind: 'id-pre', weights: await exportBackboneWeights(runDir), runId };
}

/**
 * A method's `prepare` for backbones that honour backboneInit: the user's
 * pretrainedWeights file, the identity pretraining, or nothing.
 */
export async function prepareBackboneInit(ctx: PrepareContext): Promise<{ backboneInit: BackboneInit }> {
  checkBackboneInit(ctx.config);
  if (ctx.config.backboneInit === 'id-pre') return { backboneInit: await ensureIdPretrain(ctx) };
  const file = ctx.config.pretrainedWeights;
  return { backboneInit: file ? { kind: 'file', weights: file } : { kind: 'scratch', weights: null } };
}

/** The stages of prepareBackboneInit: the identity pretraining with backboneInit='id-pre', else none. */
export async function backboneInitStages(ctx: Pick<PrepareContext, 'config' | 'data'>): Promise<StageRequest[]> {
  checkBackboneInit(ctx.config);
  return ctx.config.backboneInit === 'id-pre' ? [{ kind: 'run', request: await idPretrainRequest(ctx.config, ctx.data) }] : [];
}

function checkBackboneInit(config: RunConfig): void {
  if (config.backboneInit === 'id-pre' && config.pretrainedWeights) {
    throw new Error(`backboneInit='id-pre' and pretrainedWeights='${config.pretrainedWeights}' contradict each other: set FER_BACKBONE_INIT=scratch to start from your file, or clear FER_PRETRAINED_WEIGHTS`);
  }
  if (config.backboneInit !== 'id-pre' && config.backboneInit !== 'scratch') throw new Error(`backboneInit='${config.backboneInit}' must be 'scratch' or 'id-pre'`);
}

/**
 * The weights file every backbone of a build starts from (undefined: seeded
 * random weights). With backboneInit='id-pre' it comes from what the
 * method's `prepare` returned; a build outside a run (prepared undefined, as
 * when a stored checkpoint is loaded next or for a walkthrough) starts from
 * the seed, but only for methods that do prepare it, so a method that never
 * prepares the init cannot train from scratch under an 'id-pre' config.
 */
export function initialBackboneWeights(ctx: BuildContext): string | undefined {
  const { config } = ctx;
  checkBackboneInit(config);
  if (config.backboneInit !== 'id-pre') return config.pretrainedWeights || undefined;
  const init = (ctx.prepared as { backboneInit?: BackboneInit } | undefined)?.backboneInit;
  if (init?.kind === 'id-pre' && init.weights) return init.weights;
  // a build outside a run (no methodPrepares given) is taken for a method that prepares
  if (ctx.prepared === undefined && (ctx.methodPrepares ?? true)) return undefined;
  throw new Error(`backboneInit='id-pre': method '${config.method}' built its backbone without the identity-pretrained weights; ` +
    `its prepare must return prepareBackboneInit(ctx) (lib/experiments/id-pretrain.ts), or set FER_BACKBONE_INIT=scratch`);
}
