/**
 * The experiment runner: a configuration -> every fold trained (or resumed,
 * or reused) -> tables in the results store. A run's id is a readable name
 * plus a hash of its full resolved configuration, so running an identical
 * configuration again returns the stored result unless `force` is set.
 * @see notebooks/02-spndl.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config';
import { type FerSet, setFingerprint } from '../data/dataset';
import { officialSplit, subjectFolds } from '../data/folds';
import { disposeBatch, makeBatch } from '../train/batches';
import { loadCheckpoint } from '../train/checkpoint';
import { deriveSeed } from '../train/rng';
import { dataInfo, disposeModel, EpochRow, FoldSplit, trainFold } from '../train/trainer';
import { foldPool } from './fold-pool';
import { loadRun, RESULTS_DIR, RUN_FILES, runDirFor, runIdFor, StoredRun, isComplete } from '../results/store';
import type { DependencyRequest, Method, MethodModel, OptionValue, RunConfig } from '../train/run-types';
import { getMethod } from './methods';
import { assembleRun, beginRun, foldCheckpointFile, readFoldResult, writeFoldResult } from './run-assembly';
import { resolveRunConfig } from './settings';
import { progressLine } from '../core/progress';

export interface RunOptions {
  /** from loadConfig() (profile values + FER_* overrides) */
  config: Config;
  method: string;
  /** defaults to the method's default variant */
  variant?: string;
  /** method options beyond the variant's */
  options?: Record<string, OptionValue>;
  /** the dataset, already loaded (notebooks, tests); by default loadDataset(config) */
  set?: FerSet;
  /** test fold of each sample; by default subject-independent folds (or the set's train/test split column) */
  foldOf?: ArrayLike<number>;
  /** results root, by default data/results */
  resultsDir?: string;
  /** recompute even when an identical run is stored (default: config.force) */
  force?: boolean;
  /**
   * called after each epoch's checkpoint, for progress. In-process (workers=1) throwing stops the run
   * (tests simulate a kill); with fold workers it only reports
   */
  onEpoch?: (row: EpochRow) => void;
  /** copies of a fold's checkpoint to keep, by epoch (file paths, from the fold index) */
  snapshots?: (fold: number) => Record<number, string>;
  /** null: no progress output */
  progress?: null;
  /** print a line per fold and where results went (command line) */
  log?: (line: string) => void;
}

export interface RunResult extends StoredRun {
  /** true when the stored result was reused without training */
  cached: boolean;
}

/** Test fold per sample: the set's official train/test split when its rows have one (fold 0; -1: train only), else subject-independent folds. */
export function defaultFolds(set: FerSet, folds: number, seed: number): number[] {
  if (set.rows.some((r) => r.split !== undefined && r.split !== '')) {
    const foldOf = new Array<number>(set.labels.length).fill(-1);
    for (const i of officialSplit(set.rows).test) foldOf[i] = 0;
    return foldOf;
  }
  if (folds < 2) throw new Error(`folds=${folds}: cross-validation needs at least 2 folds (or a dataset with a train/test split column)`);
  return subjectFolds(set.subjects, folds, seed);
}

/** Train/test index lists per fold from a test-fold-per-sample array (-1: never tested). */
export function foldSplits(foldOf: ArrayLike<number>): FoldSplit[] {
  const ids = [...new Set(Array.from(foldOf).filter((f) => f >= 0))].sort((a, b) => a - b);
  return ids.map((fold) => {
    const train: number[] = [], test: number[] = [];
    Array.from(foldOf).forEach((f, i) => (f === fold ? test : train).push(i));
    if (!train.length || !test.length) throw new Error(`fold ${fold} has ${train.length} training and ${test.length} test samples`);
    return { fold, train: Int32Array.from(train), test: Int32Array.from(test) };
  });
}

export function checkSet(set: FerSet): void {
  const n = set.labels.length;
  const per = set.size * set.size * set.channels;
  if (set.images.length !== n * per) throw new Error(`dataset '${set.name}': ${set.images.length} image values for ${n} samples of ${set.size}x${set.size}x${set.channels}`);
  if (set.neutral && set.neutral.length !== set.images.length) throw new Error(`dataset '${set.name}': neutral references do not match the images in size`);
  if (set.subjects.length !== n) throw new Error(`dataset '${set.name}': ${set.subjects.length} subjects for ${n} samples`);
  set.labels.forEach((y, i) => {
    if (!(y >= 0 && y < set.classes.length)) throw new Error(`dataset '${set.name}' sample ${i}: label ${y} is not a class index (0..${set.classes.length - 1})`);
  });
}

/** Resolves the run configuration and id without training (what would run, and where). */
export function planRun(opts: Pick<RunOptions, 'config' | 'method' | 'variant' | 'options' | 'resultsDir'> & { set?: FerSet }) {
  const method = getMethod(opts.method);
  const config = resolveRunConfig(opts.config, method, opts.variant ?? method.defaultVariant, opts.options);
  const withData: RunConfig = opts.set
    ? { ...config, data: { name: opts.set.name, samples: opts.set.labels.length, size: opts.set.size, channels: opts.set.channels, classes: opts.set.classes, fingerprint: setFingerprint(opts.set) } }
    : config;
  return { method, config: withData, runId: runIdFor(withData), dir: runDirFor(withData, opts.resultsDir ?? RESULTS_DIR) };
}

/** What runExperiment gets for a stage a run asks for: the stage's settings over the requester's lib/config values. */
export function dependencyRunOptions(base: Config, dep: DependencyRequest, resultsDir?: string): RunOptions {
  const { method, variant, options, ...rest } = dep;
  return { config: { ...base, ...rest } as Config, method, variant, options, resultsDir, force: false };
}

/**
 * Runs a method's once-per-run preparation (pretraining stages run as their own cached experiments; --force does
 * not retrain them). With `stagesStored` (a plan's task) a stage that is not stored is an error, never trained.
 */
export async function prepareMethod(method: Method, config: RunConfig, set: FerSet,
  opts: Pick<RunOptions, 'config' | 'resultsDir' | 'progress' | 'log'> & { stagesStored?: boolean }): Promise<unknown> {
  if (!method.prepare) return undefined;
  const stagesStored = opts.stagesStored ?? false;
  return method.prepare({
    config, data: dataInfo(set), stagesStored,
    runDependency: async (dep) => {
      const stage = dependencyRunOptions(opts.config, dep, opts.resultsDir);
      if (stagesStored) {
        const stored = await findStoredRun(stage);
        if (!stored) {
          const { dir } = planRun({ ...stage, set: await loadSet(stage) });
          throw new Error(`run ${config.method}/${config.variant} needs the stage ${path.basename(dir)}, which is not ` +
            `stored (${dir}): ` +
            `a plan's tasks never train stages; its stage jobs do (did one fail, or does ${method.name}'s stages() not list it?)`);
        }
        return { runDir: stored.dir, runId: stored.runId };
      }
      const r = await runExperiment({ ...stage, progress: opts.progress, log: opts.log });
      return { runDir: r.dir, runId: r.runId };
    },
  });
}

/** The run's set: the caller's, or the dataset its configuration names. */
export const loadSet = async (opts: Pick<RunOptions, 'set' | 'config'>): Promise<FerSet> =>
  opts.set ?? (require('../data/dataset') as typeof import('../data/dataset')).loadDataset(opts.config);

/**
 * A run's stored result, or null when it is not stored: for the runs a
 * notebook shows only when `npm run study` made them. Never trains.
 */
export async function findStoredRun(opts: Omit<RunOptions, 'force'>): Promise<RunResult | null> {
  const set = await loadSet(opts);
  const { dir } = planRun({ ...opts, set });
  return isComplete(dir) ? { ...loadRun(dir), cached: true } : null;
}

/**
 * Trains (or reuses) the run when `train` is true, e.g. config.study or a
 * notebook's main comparison; otherwise only looks it up (findStoredRun).
 */
export const runOrFind = (opts: RunOptions, train: boolean): Promise<RunResult | null> =>
  (train ? runExperiment(opts) : findStoredRun(opts));

/** Runs being trained in this process, by folder: a second request for the same run waits for the first. */
const inFlight = new Map<string, Promise<RunResult>>();

/**
 * Runs an experiment (all folds), or returns its stored result. Several may
 * run at once (e.g. a notebook's variants): their folds share the fold pool.
 */
export async function runExperiment(opts: RunOptions): Promise<RunResult> {
  const set = await loadSet(opts);
  checkSet(set);
  const plan = planRun({ ...opts, set });
  const running = inFlight.get(plan.dir);
  if (running) return running;
  const run = trainRun(opts, set, plan).finally(() => inFlight.delete(plan.dir));
  inFlight.set(plan.dir, run);
  return run;
}

async function trainRun(opts: RunOptions, set: FerSet, { method, config, runId, dir }: ReturnType<typeof planRun>): Promise<RunResult> {
  const log = opts.log ?? (() => undefined);
  const force = opts.force ?? opts.config.force;
  if (isComplete(dir) && !force) {
    log(`reusing stored run ${runId} (${dir}); use --force to recompute`);
    return { ...loadRun(dir), cached: true };
  }
  if (force) fs.rmSync(path.join(dir, RUN_FILES.work), { recursive: true, force: true }); // start over: no stale checkpoints
  const foldOf = runFoldsOf(opts, set, config);
  const splits = foldSplits(foldOf);
  beginRun(dir, config, set, foldOf);
  const prepared = await prepareMethod(method, config, set, opts);

  const pool = foldPool(opts.config);
  const trainOne = async (split: FoldSplit): Promise<void> => {
    if (readFoldResult(dir, split.fold)) {
      log(`fold ${split.fold + 1}/${splits.length}: finished earlier, kept`);
      return;
    }
    const checkpointFile = foldCheckpointFile(dir, split.fold);
    const snapshots = opts.snapshots?.(split.fold);
    const label = `${runId} fold ${split.fold + 1}/${splits.length}`;
    const started = Date.now();
    const result = pool
      ? await pool.train({ base: opts.config, config, split, checkpointFile, snapshots, resultsDir: opts.resultsDir, runId }, set, opts.onEpoch)
      : await trainFold({
        method, config, set, split, prepared, checkpointFile, snapshots, onEpoch: opts.onEpoch,
        progress: opts.progress === null ? null : progressLine(), label,
      });
    writeFoldResult(dir, result, (Date.now() - started) / 1000);
    if (pool) log(`${label} · done: ${result.rows.length} epochs · test acc ${result.rows[result.rows.length - 1]?.test_acc.toFixed(3)}`);
  };
  // with a pool every fold is queued at once; in-process they train in order
  if (pool) await Promise.all(splits.map(trainOne));
  else for (const split of splits) await trainOne(split);
  if (!assembleRun(dir)) throw new Error(`run ${runId}: a fold result is missing after training (${path.join(dir, RUN_FILES.work)})`);
  return { ...loadRun(dir), cached: false };
}

/** The test fold of every sample of a run: the caller's, or the default folds of its set. */
export function runFoldsOf(opts: Pick<RunOptions, 'foldOf'>, set: FerSet, config: RunConfig): number[] {
  const foldOf = Array.from(opts.foldOf ?? defaultFolds(set, config.folds, config.seed));
  if (foldOf.length !== set.labels.length) throw new Error(`foldOf has ${foldOf.length} entries for ${set.labels.length} samples`);
  return foldOf;
}

/** What trainRunFold did with its fold: found the run stored, kept the fold's stored result, or trained it. */
export interface FoldTaskResult {
  outcome: 'stored' | 'kept' | 'trained';
  /** whether the run is complete now (this call assembled it, or it was already) */
  complete: boolean;
  runId: string;
  dir: string;
}

/**
 * Trains one fold of a run, as a plan's task does: the folder is begun as runExperiment begins it, the fold
 * resumes from its checkpoint (a requeued task), its result lands atomically, and whichever call finds every
 * fold done assembles the run (assembleRun: the same bytes however many do). Stages must be stored already.
 */
export async function trainRunFold(opts: Omit<RunOptions, 'force' | 'progress'>, fold: number): Promise<FoldTaskResult> {
  const set = await loadSet(opts);
  checkSet(set);
  const { method, config, runId, dir } = planRun({ ...opts, set });
  if (isComplete(dir)) return { outcome: 'stored', complete: true, runId, dir };
  const foldOf = runFoldsOf(opts, set, config);
  const splits = foldSplits(foldOf);
  const split = splits.find((s) => s.fold === fold);
  if (!split) throw new Error(`run ${runId} has no fold ${fold} (its folds: ${splits.map((s) => s.fold).join(', ')})`);
  const landed = readFoldResult(dir, fold) !== null;
  // before anything is written: a missing stage fails the task with the folder as it was
  const prepared = landed ? undefined : await prepareMethod(method, config, set, { ...opts, progress: null, stagesStored: true });
  beginRun(dir, config, set, foldOf);
  let outcome: FoldTaskResult['outcome'] = 'kept';
  if (!landed) {
    const started = Date.now();
    const result = await trainFold({
      method, config, set, split, prepared, checkpointFile: foldCheckpointFile(dir, fold), snapshots: opts.snapshots?.(fold),
      onEpoch: opts.onEpoch, progress: null,
    });
    writeFoldResult(dir, result, (Date.now() - started) / 1000);
    outcome = 'trained';
  }
  return { outcome, complete: assembleRun(dir), runId, dir };
}

/**
 * A stored run's trained model of one fold (its last checkpoint), for
 * features, probes and t-SNE without retraining. The caller disposes it
 * with disposeModel.
 */
export async function loadFoldModel(run: StoredRun, fold: number, set: FerSet, resultsDir?: string): Promise<MethodModel> {
  const method = getMethod(run.config.method);
  const file = path.join(run.dir, RUN_FILES.work, `fold-${fold}.ckpt`);
  if (!fs.existsSync(file)) throw new Error(`run ${run.runId} has no checkpoint for fold ${fold} (${file})`);
  const config = loadConfigOf(run);
  const prepared = await prepareMethod(method, run.config, set, { config, resultsDir, progress: null });
  const model = await method.build({
    config: run.config, options: run.config.options, data: dataInfo(set), fold, seed: deriveSeed(run.config.seed, 'init', fold),
    prepared, methodPrepares: !!method.prepare,
  });
  try {
    await loadCheckpoint(file, model.parts, model.optimizers);
  } catch (e) {
    disposeModel(model);
    throw e;
  }
  return model;
}

/** The lib/config values a stored run was made with (to run its dependencies). */
function loadConfigOf(run: StoredRun): Config {
  const { method: _m, variant: _v, options: _o, totalEpochs: _t, spl: _s, paceEpochs: _p, data: _d, ...rest } = run.config;
  return { ...rest, force: false } as Config;
}

/** Eval-mode features of some samples: one [n, D] Float32Array per feature the method names. */
export function extractFeatures(model: MethodModel, set: FerSet, samples: Int32Array, pairs: boolean, batchSize = 64): Record<string, { dim: number; data: Float32Array }> {
  if (!model.features) throw new Error('this method exposes no features');
  const parts: Record<string, Float32Array[]> = {};
  const dims: Record<string, number> = {};
  for (let i = 0; i < samples.length; i += batchSize) {
    const batch = makeBatch(set, samples.subarray(i, i + batchSize), pairs);
    const feats = model.features(batch);
    for (const [name, t] of Object.entries(feats)) {
      (parts[name] ??= []).push(t.dataSync() as Float32Array);
      dims[name] = t.shape[1];
    }
    tf.dispose(Object.values(feats));
    disposeBatch(batch);
  }
  return Object.fromEntries(Object.entries(parts).map(([name, arrays]) => {
    const data = new Float32Array(arrays.reduce((a, x) => a + x.length, 0));
    let off = 0;
    for (const x of arrays) { data.set(x, off); off += x.length; }
    return [name, { dim: dims[name], data }];
  }));
}
