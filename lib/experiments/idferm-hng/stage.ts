/**
 * IDFERM stage A, the generator (IDFERM Sec. 3, Algorithm 1 and Sec. 5.3): the HNG trained once on
 * face-db (face-db.ts) with the identity networks (identity.ts), and cached on disk under
 * data/results/hng/<name>-<hash>/ (stage.json, curves.csv, weights.ckpt; settings.ts), so every
 * fold, seed, method and notebook reuses it (a config that changes nothing the stage depends on
 * reuses the stored weights). `hngStageStored` / `loadHngStage` read a stage without ever training
 * one (figure regeneration).
 * @see notebooks/04-idferm.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { yieldForGpu } from '../../backend/gpu-yield';
import type { Config } from '../../config';
import { writeFileAtomic } from '../../core/atomic-write';
import { progressLine } from '../../core/progress';
import type { FerSet } from '../../data/dataset';
import { buildHng, disposeHng, generate, Hng, hngStep, HngWeights } from '../../models/idferm/hng';
import { identityNetFromModel, type IdentityNet } from '../../models/idferm/identity-net';
import { readCsvRows, RESULTS_DIR, Row, writeCsv } from '../../results/store';
import { loadCheckpoint, saveCheckpoint } from '../../train/checkpoint';
import { deriveSeed } from '../../train/rng';
import { frontalImages, lcg, loadFaceDb, pick, shuffledRange } from './face-db';
import { eerThreshold, identityFor, idNetStage } from './identity';
import { hngSettings, hngStageDir, hngStageStored, hngVariantSettings, stageDir, type StageOptions } from './settings';

export interface HngStage {
  variant: string;
  dir: string;
  hng: Hng;
  /** per-epoch mean losses: phase 'warmup' | 'full' */
  curves: Row[];
  identity: IdentityNet;
  evaluator: IdentityNet;
  /** the evaluator's EER threshold on face-db pairs (the 1.242 of the paper's FaceNet) */
  threshold: number;
  eer: number;
  idnetCurves: Row[];
  cached: boolean;
  seconds: number;
  faceDb: string;
}

/** A stored HNG variant with its identity networks, or null when any of it is missing; never trains. */
export async function loadHngStage(config: Config, variant = 'full', opts: Omit<StageOptions, 'train'> = {}): Promise<HngStage | null> {
  if (!hngStageStored(config, variant, opts.resultsDir)) return null;
  return hngStage(config, variant, { ...opts, progress: null, train: false });
}

/** Trains (or loads) the HNG variant; the warm-up phase is shared by every variant but 'ae-only'. */
export async function hngStage(config: Config, variant: string, opts: StageOptions & { train: false }): Promise<HngStage | null>;
export async function hngStage(config: Config, variant?: string, opts?: StageOptions): Promise<HngStage>;
export async function hngStage(config: Config, variant = 'full', opts: StageOptions = {}): Promise<HngStage | null> {
  const t0 = Date.now();
  const v = hngVariantSettings(variant, config.idfermHngPixelWeight);
  const root = opts.resultsDir ?? RESULTS_DIR;
  const dir = hngStageDir(config, variant, root);
  const file = path.join(dir, 'weights.ckpt');
  if (opts.train === false && !fs.existsSync(file)) return null;
  const progress = opts.progress === null ? null : progressLine();
  const db = await loadFaceDb(config, opts);
  const id = await identityFor(config, db, opts);
  const b = await idNetStage(config, db, 'b', opts);
  if (!id || !b) { id?.net.dispose(); b?.net.dispose(); return null; }
  const { net: identity, curve: idCurve } = id;
  const evaluator = identityNetFromModel(b.net, 'synthetic', 'IdNet-B (evaluator)');
  const { threshold, eer } = eerThreshold(evaluator, db, deriveSeed(config.seed, 'eer'));
  const arch = {
    size: db.size, width: config.idfermHngWidth, latent: config.idfermHngLatent, seed: deriveSeed(config.seed, 'hng'),
    residual: config.idfermHngResidual };
  const settings = hngSettings(config);
  const aeOnly = variant === 'ae-only';
  const warmDir = stageDir(aeOnly ? 'warmup-ae' : 'warmup', settings, root);
  const hng = buildHng(arch);
  const parts = { enc: hng.enc, dec: hng.dec, dis: hng.dis };
  const result = (curves: Row[], cached: boolean): HngStage => ({
    variant, dir, hng, curves, identity, evaluator, threshold, eer, idnetCurves: [...idCurve, ...b.curve], cached,
    seconds: (Date.now() - t0) / 1000, faceDb: db.name,
  });
  if (fs.existsSync(file)) {
    await loadCheckpoint(file, parts, {});
    return result(readCsvRows(path.join(dir, 'curves.csv')), true);
  }
  const per = db.size * db.size, n = db.subjects.length, gN = db.g.length / per;
  const runPhase = async (phase: string, epochs: number, w: HngWeights, seed: number, startEpoch: number): Promise<Row[]> => {
    const lr = phase === 'warmup' ? config.idfermHngWarmupLearningRate : config.idfermHngLearningRate;
    const gen = tf.train.adam(lr, 0.5, 0.999, 1e-8), dis = tf.train.adam(lr, 0.5, 0.999, 1e-8);
    const rows: Row[] = [];
    for (let e = 1; e <= epochs; e++) {
      const r = lcg(deriveSeed(seed, e));
      const order = shuffledRange(n, r);
      const sums: Record<string, number> = {};
      let steps = 0;
      for (let s = 0; s + config.idfermHngBatch <= n || (s === 0 && n > 0); s += config.idfermHngBatch) {
        const idx = order.slice(s, s + config.idfermHngBatch);
        const gIdx = idx.map(() => Math.floor(r() * gN));
        const batch = tf.tidy(() => ({
          x: tf.tensor4d(pick(db.x, per, idx), [idx.length, db.size, db.size, 1]),
          y: tf.tensor4d(pick(db.y, per, idx), [idx.length, db.size, db.size, 1]),
          g: tf.tensor4d(pick(db.g, per, gIdx), [idx.length, db.size, db.size, 1]),
        }));
        const l = hngStep(hng, identity, batch, { weights: w, idRef: v.idRef, symSpace: v.symSpace }, gen, dis);
        tf.dispose([batch.x, batch.y, batch.g]);
        for (const [k, val] of Object.entries(l)) if (Number.isFinite(val)) sums[k] = (sums[k] ?? 0) + val;
        steps++;
        progress?.update(`HNG ${variant} · ${phase} epoch ${e}/${epochs} · step ${steps} · generator loss ${(sums.gen / steps).toFixed(4)}`);
        await yieldForGpu();
      }
      const row: Row = { variant, phase, epoch: startEpoch + e };
      for (const k of ['gen', 'feat', 'id', 'pixel', 'sym', 'adv', 'dis']) row[k] = sums[k] === undefined ? null : sums[k] / steps;
      rows.push(row);
    }
    gen.dispose(); dis.dispose();
    return rows;
  };
  // phase 1: perceptual auto-encoder warm-up (L_feat + w2 L_pixel; our choice, against early collapse), shared through its own cache
  const warmWeights: HngWeights = aeOnly ? v.weights : { feat: v.weights.feat, id: 0, pixel: v.weights.pixel, sym: 0, adv: 0 };
  let warmCurves: Row[];
  const warmFile = path.join(warmDir, 'weights.ckpt');
  if (fs.existsSync(warmFile) && (v.weights.feat > 0 || aeOnly)) {
    await loadCheckpoint(warmFile, parts, {});
    warmCurves = readCsvRows(path.join(warmDir, 'curves.csv')).map((r) => ({ ...r, variant }));
  } else {
    warmCurves = await runPhase('warmup', config.idfermHngWarmupEpochs, warmWeights, deriveSeed(config.seed, 'hng-warmup'), 0);
    if (v.weights.feat > 0 || aeOnly) {
      fs.mkdirSync(warmDir, { recursive: true });
      writeCsv(path.join(warmDir, 'curves.csv'), warmCurves);
      await saveCheckpoint(warmFile, { state: {}, parts, optimizers: {} });
    }
  }
  // phase 2: the full objective of the variant
  const full = await runPhase('full', config.idfermHngEpochs, v.weights, deriveSeed(config.seed, 'hng-full', variant),
    config.idfermHngWarmupEpochs);
  const curves = [...warmCurves, ...full];
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, 'stage.json'),
    JSON.stringify({ ...settings, variant, ...v, identityNet: identity.description }, null, 2) + '\n');
  writeCsv(path.join(dir, 'curves.csv'), curves);
  await saveCheckpoint(file, { state: {}, parts, optimizers: {} }); // last: marks the stage complete
  progress?.done(`HNG ${variant}: ${curves.length} epochs in ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${path.relative(RESULTS_DIR, dir)}`);
  return result(curves, false);
}

/** x* = HNG(x) for every sample of a set: [N, S, S, 1] in [0, 1]. */
export function generateReferences(stage: HngStage, set: FerSet, batchSize = 64): Float32Array {
  if (set.channels !== 1 || set.size !== stage.hng.arch.size) throw new Error(`set '${set.name}' is ${set.size}px x${set.channels}; the HNG was trained on ${stage.hng.arch.size}px grey faces (use idfermConfig)`);
  const per = set.size * set.size, n = set.labels.length;
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i += batchSize) {
    const m = Math.min(batchSize, n - i);
    const y = tf.tidy(() => {
      const x = tf.sub(tf.mul(tf.tensor4d(set.images.subarray(i * per, (i + m) * per), [m, set.size, set.size, 1]), 2), 1) as tf.Tensor4D;
      return tf.div(tf.add(generate(stage.hng, x), 1), 2);
    });
    out.set(y.dataSync() as Float32Array, i * per);
    y.dispose();
  }
  return out;
}

export interface HngEvaluation {
  variant: string;
  /** generated faces the evaluator places farther than its threshold from their input */
  identityErrorPct: number;
  idDistances: number[];
  threshold: number;
  /** mean |x* − frontal truth| and |x − frontal truth| (SynFER only) */
  l1ToOracle: number | null;
  l1InputToOracle: number | null;
  /** % of faces whose x* is closer (mean |·|) to their frontal truth than their input x is (SynFER only) */
  closerPct: number | null;
}

/** Identity errors and neutralisation of a stage on a FER set (Table 1 / Fig. 10 analogue, and our neutralisation check). */
export async function evaluateHng(stage: HngStage, set: FerSet, refs = generateReferences(stage, set)): Promise<HngEvaluation> {
  const per = set.size * set.size, n = set.labels.length;
  const dists: number[] = [];
  for (let i = 0; i < n; i += 64) {
    const m = Math.min(64, n - i);
    const d = tf.tidy(() => {
      const x = tf.sub(tf.mul(tf.tensor4d(set.images.subarray(i * per, (i + m) * per), [m, set.size, set.size, 1]), 2), 1) as tf.Tensor4D;
      const g = tf.sub(tf.mul(tf.tensor4d(refs.subarray(i * per, (i + m) * per), [m, set.size, set.size, 1]), 2), 1) as tf.Tensor4D;
      return tf.norm(tf.sub(stage.evaluator.embed(x), stage.evaluator.embed(g)), 2, 1);
    });
    dists.push(...(d.dataSync() as Float32Array));
    d.dispose();
  }
  let l1ToOracle: number | null = null, l1InputToOracle: number | null = null, closerPct: number | null = null;
  if (set.rows.every((r) => r.frontal_path)) {
    const oracle = await frontalImages(set);
    let a = 0, b = 0, closer = 0;
    for (let i = 0; i < n; i++) {
      let ai = 0, bi = 0;
      for (let k = i * per; k < (i + 1) * per; k++) { ai += Math.abs(refs[k] - oracle[k]); bi += Math.abs(set.images[k] - oracle[k]); }
      a += ai; b += bi; if (ai < bi) closer++;
    }
    l1ToOracle = a / oracle.length; l1InputToOracle = b / oracle.length; closerPct = (100 * closer) / n;
  }
  return {
    variant: stage.variant, identityErrorPct: (100 * dists.filter((d) => d > stage.threshold).length) / n, idDistances: dists,
    threshold: stage.threshold, l1ToOracle, l1InputToOracle, closerPct,
  };
}

export function disposeHngStage(stage: HngStage): void {
  disposeHng(stage.hng);
  stage.identity.dispose();
  stage.evaluator.dispose();
}
