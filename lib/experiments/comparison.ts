/**
 * Notebook 06: one controlled comparison of the four papers' methods and the
 * plain baseline. Every method trains on the same data set, the same
 * subject-independent folds, the same image size, the same number of epochs
 * and the same seed; the baseline, SPNDL and GNDL share the configured
 * backbone (backboneForRun, so backboneInit applies), while IDFERM's RML
 * network and DDL's PreAct trunk + attention keep their own structure, sized
 * by comparison* widths to a similar parameter count. Each method keeps its
 * own paper's loss, optimiser, batch size and pretraining stage (IDFERM's
 * HNG, DDL's DFEM), reused from notebooks 04/05 when an identical one is stored.
 *
 * The controlled benchmark repeats a smaller comparison while one SynFER
 * factor grows (identity confound, pose range, illumination), the others at
 * the main comparison's values. The model analysis reloads every fold model:
 * parameter count and the identity leakage of its expression features
 * (../analysis/leakage.ts), every feature projected to one common dimension,
 * stored under data/results/comparison/. Every comparison with the baseline
 * (and every verdict) comes from the shared paired test (../analysis/paired.ts).
 * @see notebooks/06-comparison.ipynb
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from '../config';
import { loadDataset, type FerSet } from '../data/dataset';
import { writeFileAtomic } from '../core/atomic-write';
import { identityLeakage, identitySplit } from '../analysis/leakage';
import { formatP, formatPaired, pairedDifference, pairedTest, type PairedTest } from '../analysis/paired';
import { meanStd } from '../analysis/stats';
import { loadFaceApiExpression, scoreFaceApi, type FaceApiScore } from '../models/face-api-expression';
import { progressLine } from '../core/progress';
import { comparisonBenchFile, comparisonIndexFile } from './index-report';
import { canonicalJson, finalAccuracies, frameRows, isComplete, loadRun, pooledAccuracy, readCsvRows, RESULTS_DIR, Row, StoredRun, writeCsv } from '../results/store';
import { confusionMatrix, macroF1 } from '../train/metrics';
import { paceEpochsFor } from '../train/spl';
import { disposeModel } from '../train/trainer';
import { ddlConfig } from './ddl';
import { gndlConfig } from './gndl-study';
import { idfermConfig, queriesPerBatch } from './idferm';
import { getMethod } from './methods';
import { defaultFolds, extractFeatures, loadFoldModel, planRun } from './runner';
import { runStudy, type StudyRun } from './study-runs';
import { parseNumberList } from './settings';
import { spndlConfig } from './spndl-study';

/** What each compared method is: its run variant, the feature its classifier reads, its paper's own settings. */
interface Entry {
  label: string;
  /** the variant run on this data, or null when the data cannot support the method */
  variant(set: FerSet): string | null;
  /** the features() entry the expression classifier reads (probed for identity) */
  feature: string;
  /** the paper notebook's configuration (its own loss settings, optimiser, batch) */
  own(config: Config): Config;
  network: string;
  pretraining: string;
}

const ENTRIES: Record<string, Entry> = {
  baseline: {
    label: 'Baseline', variant: () => 'plain', feature: 'backbone', own: (c) => c,
    network: 'shared backbone + linear softmax', pretraining: 'none',
  },
  spndl: {
    label: 'SPNDL', variant: (set) => (set.neutral ? 'spndl' : 'spndl-won'), feature: 'ndf', own: spndlConfig,
    network: 'shared backbone on (target, neutral) with joint BN, classifier on the difference; self-paced', pretraining: 'none',
  },
  gndl: {
    label: 'GNDL', variant: (set) => (set.neutral ? 'gndl' : null), feature: 'v_gen', own: gndlConfig,
    network: 'shared backbone + neutral feature generator, classifier on F − NFG(F)', pretraining: 'none',
  },
  idferm: {
    label: 'IDFERM', variant: () => 'idferm', feature: 'e', own: idfermConfig,
    network: 'RML network (conv groups, EC and ML branches), softmax + radial metric loss', pretraining: 'HNG generator + identity nets (face-db)',
  },
  ddl: {
    label: 'DDL', variant: () => 'ddl-gar-id-il-p', feature: 'fe',
    // no stage-0 expression pretraining here: the other methods start from scratch on the same data
    own: (c) => ddlConfig(c, { ddlPretrain: 'scratch' }),
    network: 'PreAct trunk + expression/disturbance attention, adversarial + attention transfer', pretraining: 'DFEM on the disturbance database (frozen)',
  },
};

/** The methods notebook 06 knows, in table order. */
export const COMPARISON_METHODS = Object.keys(ENTRIES);

const entry = (method: string): Entry => {
  const e = ENTRIES[method];
  if (!e) throw new Error(`comparison: unknown method '${method}'; methods: ${COMPARISON_METHODS.join(', ')}`);
  return e;
};

export const methodLabel = (method: string) => entry(method).label;

/** Parses a comma-separated method list (a comparison* setting); the baseline must be in it, every name known. */
export function parseMethods(text: string, setting: string): string[] {
  const names = text.split(',').map((m) => m.trim()).filter(Boolean);
  const unknown = names.filter((m) => !ENTRIES[m]);
  if (unknown.length) throw new Error(`${setting}='${text}': unknown method ${unknown.join(', ')}; methods: ${COMPARISON_METHODS.join(', ')}`);
  if (!names.includes('baseline')) throw new Error(`${setting}='${text}' must include baseline: every paired test is against it`);
  return ['baseline', ...new Set(names.filter((m) => m !== 'baseline'))];
}

/** Data size and budget of one comparison. */
export interface Scale {
  dataset: string;
  subjects: number;
  folds: number;
  epochs: number;
  imageSize: number;
}

/** SynFER factor levels of one comparison. */
export interface DataPoint {
  confound: number;
  pose: number;
  light: number;
}

export const mainScale = (c: Config): Scale => ({ dataset: c.dataset, subjects: c.comparisonSubjects, folds: c.comparisonFolds, epochs: c.comparisonEpochs, imageSize: c.comparisonImageSize });
/** The benchmark always runs on SynFER: its factors are set by the generator. */
export const benchScale = (c: Config): Scale => ({ dataset: 'synfer', subjects: c.comparisonBenchSubjects, folds: c.comparisonBenchFolds, epochs: c.comparisonBenchEpochs, imageSize: c.comparisonImageSize });
/** The main comparison's factor levels: the shared synfer* settings. */
export const referencePoint = (c: Config): DataPoint => ({ confound: c.synferConfound, pose: c.synferPose, light: c.synferLight });

/** The settings that define the data, identical for every method of a comparison. */
export function sharedConfig(config: Config, scale: Scale, point: DataPoint): Config {
  if (scale.imageSize % 16 !== 0) throw new Error(`comparisonImageSize=${scale.imageSize} must be a multiple of 16 (IDFERM's generator halves it four times)`);
  return Object.freeze({
    ...config, dataset: scale.dataset, subjects: scale.subjects, imageSize: scale.imageSize, folds: scale.folds, epochs: scale.epochs,
    channels: 1, // IDFERM's RML network is defined on grey faces: every method gets the same grey images
    synferConfound: point.confound, synferPose: point.pose, synferLight: point.light,
  });
}

const DATA_KEYS = ['dataset', 'dataRoot', 'manifest', 'seed', 'subjects', 'imageSize', 'channels', 'folds', 'epochs',
  'synferExpressions', 'synferFrames', 'synferConfound', 'synferSubtle', 'synferLabelNoise', 'synferCorrupt', 'synferPose', 'synferLight', 'synferOcclusion'] as const;

/**
 * A method's configuration in the comparison: its paper notebook's settings
 * (loss weights, optimiser, batch size), then the shared data, folds, image
 * size and epochs put back, then the comparison's network width. SPNDL's
 * self-paced schedule is fitted into the epochs (its last paces when fewer
 * than six epochs), so its budget matches the others'.
 */
export function methodConfig(config: Config, method: string, scale: Scale, point: DataPoint): Config {
  const shared = sharedConfig(config, scale, point);
  const data = Object.fromEntries(DATA_KEYS.map((k) => [k, shared[k]]));
  const extra: Partial<Record<keyof Config, number | string>> = {};
  if (method === 'baseline' || method === 'spndl' || method === 'gndl') extra.backboneWidth = config.comparisonBackboneWidth;
  if (method === 'spndl') {
    const rho = parseNumberList(config.splRho, 'splRho');
    const paces = Math.min(rho.length, scale.epochs);
    extra.splRho = rho.slice(rho.length - paces).join(',');
    extra.splPaceEpochs = paceEpochsFor(scale.epochs, paces).join(',');
  }
  if (method === 'idferm') Object.assign(extra, { idfermRmlWidth: config.comparisonRmlWidth, idfermImageSize: scale.imageSize });
  if (method === 'ddl') Object.assign(extra, { ddlWidth: config.comparisonDdlWidth, ddlCrop: Math.round((scale.imageSize * config.ddlCrop) / config.ddlImageSize) });
  return Object.freeze({ ...entry(method).own(config), ...data, ...extra }) as Config;
}

export interface PlannedMethod {
  method: string;
  variant: string;
  config: Config;
  runId: string;
  dir: string;
  totalEpochs: number;
}

export interface ComparisonPlan {
  scale: Scale;
  point: DataPoint;
  set: FerSet;
  /** test fold per sample, shared by every method */
  foldOf: number[];
  methods: PlannedMethod[];
  /** methods the data cannot support, with the reason */
  skipped: { method: string; reason: string }[];
}

/** Loads the shared data and plans every method's run (no training); every method must train the same number of epochs. */
export async function planComparison(config: Config, methods: string[], scale: Scale, point: DataPoint, opts: { resultsDir?: string; set?: FerSet } = {}): Promise<ComparisonPlan> {
  for (const m of methods) entry(m);
  const set = opts.set ?? await loadDataset(sharedConfig(config, scale, point));
  const planned: PlannedMethod[] = [], skipped: ComparisonPlan['skipped'] = [];
  for (const method of methods) {
    const variant = entry(method).variant(set);
    if (!variant) {
      skipped.push({ method, reason: `${set.name} has no neutral frames, which ${entry(method).label} needs in training` });
      continue;
    }
    const cfg = methodConfig(config, method, scale, point);
    const p = planRun({ config: cfg, method, variant, set, resultsDir: opts.resultsDir });
    planned.push({ method, variant, config: cfg, runId: p.runId, dir: p.dir, totalEpochs: p.config.totalEpochs });
  }
  const off = planned.filter((p) => p.totalEpochs !== scale.epochs);
  if (off.length) throw new Error(`comparison: ${off.map((p) => `${p.method} would train ${p.totalEpochs} epochs`).join(', ')}, not ${scale.epochs}`);
  return { scale, point, set, foldOf: defaultFolds(set, scale.folds, config.seed), methods: planned, skipped };
}

export interface Comparison extends ComparisonPlan {
  runs: Record<string, StoredRun>;
}

/** A comparison's runs: one per planned method, on the shared data and folds. */
export const comparisonRuns = (plan: ComparisonPlan, train: boolean,
  opts: { resultsDir?: string; label?: string } = {}): StudyRun[] =>
  plan.methods.map((p) => ({
    name: opts.label ? `${p.method} (${opts.label})` : p.method, train,
    run: { config: p.config, method: p.method, variant: p.variant, set: plan.set, foldOf: plan.foldOf, resultsDir: opts.resultsDir },
  }));

/** Runs (or reuses) every planned method on the shared folds, all at once: their folds share the fold pool. */
export async function runPlanned(plan: ComparisonPlan, opts: { resultsDir?: string; log?: (line: string) => void; label?: string } = {}): Promise<Comparison> {
  const results = await runStudy(comparisonRuns(plan, true, { resultsDir: opts.resultsDir }), { label: opts.label, log: opts.log });
  return { ...plan, runs: Object.fromEntries(plan.methods.map((p, i) => [p.method, results[i]!])) };
}

/** The main comparison's plan (runComparison trains it). */
export const planMainComparison = (config: Config, opts: { resultsDir?: string; set?: FerSet } = {}): Promise<ComparisonPlan> =>
  planComparison(config, parseMethods(config.comparisonMethods, 'comparisonMethods'), mainScale(config),
    referencePoint(config), opts);

/** Notebook 06's runs: the main comparison's (in npm start) and, with config.study, the benchmark's. */
export async function planComparisonStudy(config: Config, opts: { resultsDir?: string } = {}): Promise<StudyRun[]> {
  const main = comparisonRuns(await planMainComparison(config, opts), true, opts);
  const { plans } = await planBenchmark(config, opts);
  const bench = [...plans.values()].flatMap((plan) => comparisonRuns(plan, config.study, {
    ...opts, label: `confound ${plan.point.confound}, pose ${plan.point.pose}, light ${plan.point.light}`,
  }));
  return [...main, ...bench];
}

/** The main comparison: plans, runs (or reuses) and records it in the results index. */
export async function runComparison(config: Config, opts: { resultsDir?: string; log?: (line: string) => void; set?: FerSet } = {}): Promise<Comparison> {
  const cmp = await runPlanned(await planMainComparison(config, opts), opts);
  const root = opts.resultsDir ?? RESULTS_DIR;
  writeFileAtomic(comparisonIndexFile(config.profile, root), JSON.stringify({
    dataset: cmp.set.name, runs: cmp.methods.map((p) => ({ method: p.method, label: entry(p.method).label, runId: p.runId, dir: path.relative(root, p.dir) })),
  }, null, 2) + '\n');
  return cmp;
}

const foldAccuracies = (run: StoredRun) => finalAccuracies(run).map((a) => 100 * a.test_acc);

/** Macro-F1 (%) per fold from the final test predictions. */
export function foldMacroF1(run: StoredRun, classes: number): number[] {
  const byFold = new Map<number, Row[]>();
  for (const p of frameRows(run.predictions)) byFold.set(p.fold as number, [...(byFold.get(p.fold as number) ?? []), p]);
  return [...byFold.keys()].sort((a, b) => a - b).map((f) => {
    const ps = byFold.get(f)!;
    return 100 * macroF1(confusionMatrix(ps.map((p) => p.label as number), ps.map((p) => p.prediction as number), classes));
  });
}

/** Seconds spent in training steps, over every fold and epoch (no evaluation, no pretraining): from each epoch's throughput. */
export function trainingSeconds(run: StoredRun): number {
  const pairs = getMethod(run.config.method).inputs(run.config.options).train === 'pair';
  return frameRows(run.results).reduce((s, r) => s + ((r.n_train as number) * (pairs ? 2 : 1)) / (r.images_per_s as number), 0);
}

const pm = (xs: number[], digits = 1) => {
  const { mean, std } = meanStd(xs);
  return `${mean.toFixed(digits)} ± ${std.toFixed(digits)}`;
};
const signed = (x: number, digits = 1) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;

/** How each method's network starts: backboneInit for the shared backbone, its own pretraining stage otherwise. */
function initOf(method: string, config: Pick<Config, 'pretrainedWeights'>): string {
  const init = String((config as unknown as Record<string, unknown>).backboneInit ?? 'scratch');
  if (method === 'idferm' || method === 'ddl') return `scratch; ${entry(method).pretraining}`;
  return config.pretrainedWeights && init === 'scratch' ? `weights from ${config.pretrainedWeights}` : init;
}

/** One row per method: what it trains, on what, how long, with how many parameters (from the model analysis, when given). */
export function setupRows(cmp: Comparison, analysis?: ModelAnalysis): Row[] {
  return cmp.methods.map((p) => {
    const c = cmp.runs[p.method]?.config ?? p.config;
    const batch = p.method === 'idferm' ? `${queriesPerBatch(cmp.set.classes.length)} (2 per class)` : String(c.batchSize);
    const opt = p.method === 'idferm' ? `SGD m0.9, lr ${c.idfermLearningRate}` : p.method === 'ddl' ? `Adam β1 0.5, lr ${c.learningRate}` : `${c.optimizer}, lr ${c.learningRate}`;
    const width = p.method === 'idferm' ? `RML w${c.idfermRmlWidth}` : p.method === 'ddl' ? `PreAct w${c.ddlWidth}, crop ${c.ddlCrop}` : `${c.backbone} w${c.backboneWidth}`;
    const run = cmp.runs[p.method];
    return {
      method: entry(p.method).label, variant: p.variant, network: width, init: initOf(p.method, c), 'batch': batch, optimiser: opt,
      epochs: p.totalEpochs, parameters: analysis?.parameters[p.method] ?? null,
      'train s': run ? Math.round(trainingSeconds(run)) : null, 'run s': run ? Math.round(Number(run.meta.seconds ?? NaN)) : null,
    };
  });
}

/** The data and protocol every method shares. */
export function dataRow(cmp: ComparisonPlan, config: Config): Row {
  return {
    data: cmp.set.name, samples: cmp.set.labels.length, subjects: new Set(cmp.set.subjects).size, classes: cmp.set.classes.length,
    image: `${cmp.scale.imageSize}×${cmp.scale.imageSize} grey`, folds: `${cmp.scale.folds} subject-independent (shared)`, epochs: cmp.scale.epochs,
    seed: config.seed, confound: cmp.point.confound, 'pose ±°': cmp.point.pose, light: cmp.point.light,
    'backbone init': String((config as unknown as Record<string, unknown>).backboneInit ?? 'scratch'), profile: config.profile,
  };
}

export interface MethodResult {
  method: string;
  label: string;
  /** per fold, % */
  accuracy: number[];
  macroF1: number[];
  /** method − baseline per fold (percentage points) with the shared paired test; null for the baseline itself */
  vsBaseline: PairedTest | null;
}

/** Per method: fold accuracies and macro-F1, and the paired test of its difference to the baseline. */
export function methodResults(cmp: Comparison): MethodResult[] {
  const base = cmp.runs.baseline;
  if (!base) throw new Error('comparison: the baseline run is missing');
  return cmp.methods.filter((p) => cmp.runs[p.method]).map((p) => {
    const run = cmp.runs[p.method];
    return {
      method: p.method, label: entry(p.method).label, accuracy: foldAccuracies(run), macroF1: foldMacroF1(run, cmp.set.classes.length),
      vsBaseline: p.method === 'baseline' ? null : pairedDifference(run, base),
    };
  });
}

const tText = (t: number) => (Number.isFinite(t) ? t.toFixed(2) : String(t));

/** The results table: accuracy and macro-F1 (mean ± sd over folds), the paired test against the baseline, its verdict. */
export function resultRows(results: MethodResult[]): Row[] {
  return results.map((r) => {
    const d = r.vsBaseline;
    return {
      method: r.label, 'accuracy %': pm(r.accuracy), 'macro-F1 %': pm(r.macroF1), 'per fold %': r.accuracy.map((a) => a.toFixed(1)).join(' '),
      'Δ vs baseline': d ? formatPaired(d) : '',
      '95 % CI (pp)': d ? `${signed(d.ci[0])} to ${signed(d.ci[1])}` : '',
      't': d ? tText(d.t) : '',
      'p (paired t)': d ? formatP(d.p) : '',
      'p (sign test)': d ? formatP(d.signP) : '',
      'beats baseline': d ? d.verdict : '',
    };
  });
}

/** Per-fold accuracy rows for the figure (fraction). */
export const accuracyFigureRows = (results: MethodResult[]) =>
  results.flatMap((r) => r.accuracy.map((acc, fold) => ({ method: r.label, fold, acc: acc / 100 })));

// ---------------------------------------------------------------- model analysis

export interface LeakageRow {
  method: string;
  fold: number;
  feature: string;
  /** the feature's own dimension, and the one every feature is probed in (the smallest among the methods) */
  dim: number;
  probeDim: number;
  accuracy: number;
  chance: number;
  subjects: number;
  train: number;
  test: number;
}

export interface ModelAnalysis {
  /** trained parameters per method (every checkpointed part; frozen pretraining stages excluded) */
  parameters: Record<string, number>;
  /** identity-probe rows per method and fold, plus 'pixels' (the input itself) */
  leakage: LeakageRow[];
  file: string;
  cached: boolean;
}

const PROBE = { steps: 300, learningRate: 0.05, l2: 1e-3 };

/** Where the model analysis of a comparison is stored (keyed by its runs and the probe settings). */
export function analysisFile(cmp: ComparisonPlan, seed: number, resultsDir = RESULTS_DIR): string {
  // version 2: every feature is probed after a PCA to the smallest feature dimension of the compared methods
  const key = canonicalJson({ runs: cmp.methods.map((p) => p.runId), probe: PROBE, seed, version: 2 });
  return path.join(resultsDir, 'comparison', `analysis-${createHash('sha256').update(key).digest('hex').slice(0, 12)}.csv`);
}

/** The features one fold model's expression classifier reads, on that fold's test samples. */
interface ProbedFeature { method: string; fold: number; feature: string; dim: number; data: Float32Array; params: number }

/**
 * Reloads every fold model of every method: its parameter count, and the
 * identity leakage of its expression features on the fold's test subjects
 * (probe fitted on half of each subject's expressions, scored on the rest).
 * The input pixels are probed the same way, as the level before any network.
 * Every feature, pixels included, is first projected onto its principal
 * directions down to the smallest feature dimension among the methods (PCA
 * fitted on the probe's training faces, ../analysis/leakage.ts): a probe on a
 * wider vector has more weights to fit identity with, so without it DDL's
 * 32-d f^e would be measured against the baseline's 64-d vector with a
 * weaker probe. Stored, so figures are redrawn without the models.
 */
export async function analyseModels(cmp: Comparison, seed: number, opts: { resultsDir?: string; force?: boolean } = {}): Promise<ModelAnalysis> {
  const file = analysisFile(cmp, seed, opts.resultsDir);
  if (fs.existsSync(file) && !opts.force) return { ...readAnalysis(file), file, cached: true };
  const folds = [...new Set(cmp.foldOf.filter((f) => f >= 0))].sort((a, b) => a - b);
  const splits = new Map(folds.map((f) => {
    const test = Int32Array.from(cmp.foldOf.flatMap((g, i) => (g === f ? [i] : [])));
    return [f, { test, split: identitySplit(test, cmp.set.subjects, cmp.set.labels, seed + f) }] as const;
  }));
  const per = cmp.set.size * cmp.set.size * cmp.set.channels;
  const probed: ProbedFeature[] = [];
  for (const [fold, { test }] of splits) {
    const pixels = new Float32Array(test.length * per);
    test.forEach((s, r) => pixels.set(cmp.set.images.subarray(s * per, (s + 1) * per), r * per));
    probed.push({ method: 'pixels', fold, feature: 'input image', dim: per, data: pixels, params: 0 });
  }
  const progress = progressLine();
  for (const p of cmp.methods) {
    const run = cmp.runs[p.method];
    const method = getMethod(p.method);
    for (const [fold, { test }] of splits) {
      progress.update(`model analysis: ${p.method} fold ${fold + 1}/${folds.length}`);
      const model = await loadFoldModel(run, fold, cmp.set, opts.resultsDir);
      try {
        const params = Object.values(model.parts).reduce((a, m) => a + m.countParams(), 0);
        const feats = extractFeatures(model, cmp.set, test, method.inputs(run.config.options).test === 'pair');
        const name = entry(p.method).feature;
        const f = feats[name];
        if (!f) throw new Error(`${p.method}: its features() has no '${name}' (it has ${Object.keys(feats).join(', ')}); update the comparison's feature name`);
        probed.push({ method: p.method, fold, feature: name, dim: f.dim, data: f.data, params });
      } finally {
        disposeModel(model);
      }
    }
  }
  const probeDim = Math.min(...probed.filter((f) => f.method !== 'pixels').map((f) => f.dim));
  const rows: Row[] = [];
  for (const { data, ...f } of probed) {
    const { test, split } = splits.get(f.fold)!;
    const leakage = await identityLeakage(data, f.dim, test, cmp.set.subjects, split, { ...PROBE, dimension: probeDim });
    rows.push({ ...f, ...leakage, dim: f.dim, probeDim });
  }
  progress.done(`model analysis: ${cmp.methods.length} methods × ${folds.length} folds, probed in ${probeDim}-d`);
  writeCsv(file, rows);
  return { ...readAnalysis(file), file, cached: false };
}

function readAnalysis(file: string): Omit<ModelAnalysis, 'file' | 'cached'> {
  const rows = readCsvRows(file);
  const parameters: Record<string, number> = {};
  for (const r of rows) if (r.method !== 'pixels') parameters[r.method as string] = r.params as number;
  const leakage = rows.map((r) => ({
    method: String(r.method), fold: r.fold as number, feature: String(r.feature), dim: r.dim as number, probeDim: r.probeDim as number,
    accuracy: r.accuracy as number,
    chance: r.chance as number, subjects: r.subjects as number, train: r.train as number, test: r.test as number,
  }));
  return { parameters, leakage };
}

const leakLabel = (m: string) => (m === 'pixels' ? 'input pixels' : entry(m).label);

/** One row per method: identity-probe accuracy (mean ± sd over folds) beside chance. */
export function leakageRows(a: ModelAnalysis): Row[] {
  const methods = [...new Set(a.leakage.map((r) => r.method))];
  return methods.map((m) => {
    const rs = a.leakage.filter((r) => r.method === m);
    return {
      features: leakLabel(m), vector: `${rs[0].feature} (${rs[0].dim}-d, probed in ${rs[0].probeDim}-d)`,
      'probe accuracy %': pm(rs.map((r) => 100 * r.accuracy)),
      'chance %': pm(rs.map((r) => 100 * r.chance)), 'per fold %': rs.map((r) => (100 * r.accuracy).toFixed(0)).join(' '),
      'subjects per fold': rs.map((r) => r.subjects).join(' '), 'probe train/test': `${rs[0].train}/${rs[0].test}`,
    };
  });
}

export const leakageFigureRows = (a: ModelAnalysis) => a.leakage.map((r) => ({ method: leakLabel(r.method), fold: r.fold, accuracy: r.accuracy, chance: r.chance }));

// ---------------------------------------------------------------- outside reference

/** face-api's bundled expression model on every sample of the comparison's data (each sample is unseen by it). */
export async function faceApiReference(cmp: ComparisonPlan): Promise<FaceApiScore> {
  const model = await loadFaceApiExpression();
  try {
    const all = Int32Array.from(cmp.set.labels.keys());
    return scoreFaceApi(model, cmp.set.images, cmp.set.size, cmp.set.channels, cmp.set.labels, cmp.set.classes, all);
  } finally {
    model.dispose();
  }
}

// ---------------------------------------------------------------- controlled benchmark

export const FACTORS = ['confound', 'pose', 'light'] as const;
export type Factor = (typeof FACTORS)[number];

/** Every (factor, level) of the benchmark with its data point: one factor moves, the others stay at the reference. */
export function benchmarkPoints(config: Config): { factor: Factor; level: number; point: DataPoint }[] {
  const ref = referencePoint(config);
  const lists: Record<Factor, string> = { confound: config.comparisonConfoundLevels, pose: config.comparisonPoseLevels, light: config.comparisonLightLevels };
  const setting: Record<Factor, string> = { confound: 'comparisonConfoundLevels', pose: 'comparisonPoseLevels', light: 'comparisonLightLevels' };
  return FACTORS.flatMap((factor) => parseNumberList(lists[factor], setting[factor]).map((level) => ({ factor, level, point: { ...ref, [factor]: level } })));
}

const pointKey = (p: DataPoint) => `${p.confound}|${p.pose}|${p.light}`;

export interface Benchmark {
  points: { factor: Factor; level: number; point: DataPoint }[];
  /** one comparison per distinct data point */
  comparisons: Map<string, Comparison>;
}

/** Plans the benchmark's comparisons (one per distinct data point; no training). */
export async function planBenchmark(config: Config, opts: { resultsDir?: string } = {}): Promise<{ points: Benchmark['points']; plans: Map<string, ComparisonPlan> }> {
  const points = benchmarkPoints(config);
  const methods = parseMethods(config.comparisonBenchMethods, 'comparisonBenchMethods');
  const plans = new Map<string, ComparisonPlan>();
  for (const { point } of points) {
    if (!plans.has(pointKey(point))) plans.set(pointKey(point), await planComparison(config, methods, benchScale(config), point, opts));
  }
  return { points, plans };
}

/** Runs (or reuses) the benchmark; outside the study (config.study) only loads it, and gives null unless every run is stored. */
export async function runBenchmark(config: Config, opts: { resultsDir?: string; log?: (line: string) => void } = {}): Promise<Benchmark | null> {
  const { points, plans } = await planBenchmark(config, opts);
  if (!config.study && ![...plans.values()].every((plan) => plan.methods.every((p) => isComplete(p.dir)))) return null;
  const comparisons = new Map<string, Comparison>();
  let i = 0;
  for (const [key, plan] of plans) {
    i++;
    comparisons.set(key, await runPlanned(plan, { ...opts, label: `level ${i}/${plans.size} (confound ${plan.point.confound}, pose ${plan.point.pose}, light ${plan.point.light})` }));
  }
  const runIds = [...plans.values()].flatMap((plan) => plan.methods.map((p) => p.runId));
  writeFileAtomic(comparisonBenchFile(config.profile, opts.resultsDir ?? RESULTS_DIR), JSON.stringify({ runs: runIds }, null, 2) + '\n');
  return { points, comparisons };
}

/** Whether a method's pooled test accuracy is more than two binomial standard errors above chance. */
function aboveChance(c: Comparison, method: string): boolean {
  const chance = 1 / c.set.classes.length, n = c.set.labels.length;
  return pooledAccuracy(c.runs[method]).acc > chance + 2 * Math.sqrt((chance * (1 - chance)) / n);
}

/** Accuracy per (factor, level, method): mean and sd over folds (fractions), for the table and the figure. */
export function benchmarkRows(bench: Benchmark): { factor: Factor; level: number; method: string; acc_mean: number; acc_std: number; folds: number; run: string }[] {
  return bench.points.flatMap(({ factor, level, point }) => {
    const cmp = bench.comparisons.get(pointKey(point))!;
    return cmp.methods.map((p) => {
      const accs = finalAccuracies(cmp.runs[p.method]).map((a) => a.test_acc);
      const { mean, std } = meanStd(accs);
      return { factor, level, method: entry(p.method).label, acc_mean: mean, acc_std: std, folds: accs.length, run: p.runId };
    });
  });
}

/**
 * Per factor and method: accuracy lost from the factor's lowest to its
 * highest level, and whether the method loses less than the baseline,
 * judged per fold with the shared paired test.
 */
export function robustnessRows(bench: Benchmark): Row[] {
  const out: Row[] = [];
  for (const factor of FACTORS) {
    const levels = bench.points.filter((p) => p.factor === factor).sort((a, b) => a.level - b.level);
    if (levels.length < 2) continue;
    const [lo, hi] = [levels[0], levels[levels.length - 1]];
    const cmpLo = bench.comparisons.get(pointKey(lo.point))!, cmpHi = bench.comparisons.get(pointKey(hi.point))!;
    const drops = (method: string) => {
      const a = new Map(finalAccuracies(cmpLo.runs[method]).map((x) => [x.fold, 100 * x.test_acc]));
      return finalAccuracies(cmpHi.runs[method]).filter((x) => a.has(x.fold)).map((x) => a.get(x.fold)! - 100 * x.test_acc);
    };
    const base = drops('baseline');
    // a method at chance at the lowest level has nothing to lose: its "robustness" would be noise
    const learnt = (method: string) => aboveChance(cmpLo, method);
    for (const p of cmpLo.methods) {
      const d = drops(p.method);
      const isBase = p.method === 'baseline';
      const gain = pairedTest(base.map((b, i) => b - d[i])); // > 0: the method loses less than the baseline
      out.push({
        factor, levels: `${lo.level} → ${hi.level}`, method: entry(p.method).label, 'accuracy lost (pp)': pm(d),
        'loses less than baseline': isBase ? '' : formatPaired(gain),
        p: isBase ? '' : formatP(gain.p),
        'more robust': isBase ? '' : learnt(p.method) && learnt('baseline') ? gain.verdict
          : 'unclear (at chance at the lowest level)',
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------- verdicts

const listed = (xs: { label: string }[]) => xs.map((x) => x.label).join(', ');

/**
 * The notebook's questions, each answered from the stored numbers; every
 * comparison of two runs (or of a probe with chance) is the shared paired
 * test over folds: p < 0.05 in a paired t-test, and a 'no' also when the
 * 95 % interval rules out a gain of a point or more.
 */
export function comparisonVerdicts(results: MethodResult[], bench: Benchmark | null, analysis: ModelAnalysis | null, faceApi: FaceApiScore | null): Row[] {
  const out: Row[] = [];
  const others = results.filter((r): r is MethodResult & { vsBaseline: PairedTest } => r.vsBaseline !== null);
  const beat = others.filter((r) => r.vsBaseline.verdict === 'yes');
  const worse = others.filter((r) => pairedTest(r.vsBaseline.diffs.map((x) => -x)).verdict === 'yes');
  out.push({
    question: `Does any method beat the baseline (paired t-test over folds, p < 0.05; ${others.length} tests, `
      + 'no multiplicity correction)?',
    numbers: others.map((r) => `${r.label} ${formatPaired(r.vsBaseline)}`).join('; '),
    answer: beat.length ? `yes: ${listed(beat)}` : 'no',
  });
  out.push({
    question: 'Does any method fall below the baseline (p < 0.05)?', numbers: '(same tests)',
    answer: worse.length ? `yes: ${listed(worse)}` : 'no',
  });
  const small = others.filter((r) => r.vsBaseline.verdict === 'no' && r.vsBaseline.mean >= 0);
  out.push({
    question: 'Which gains, if any, are smaller than a point with 95 % confidence?',
    numbers: others.map(({ label, vsBaseline: { ci } }) => `${label} 95 % CI ${signed(ci[0])} to ${signed(ci[1])} pp`).join('; '),
    answer: small.length ? listed(small) : 'none',
  });
  const ranked = [...results].sort((a, b) => meanStd(b.accuracy).mean - meanStd(a.accuracy).mean);
  if (ranked.length >= 2) {
    const [top, next] = ranked;
    const d = pairedTest(top.accuracy.map((a, i) => a - next.accuracy[i]));
    out.push({
      question: 'Is the most accurate method ahead of the runner-up (p < 0.05)?',
      numbers: `${top.label} ${pm(top.accuracy)} % vs ${next.label} ${pm(next.accuracy)} %; paired ${formatPaired(d)}`,
      answer: d.verdict === 'yes' ? `yes: ${top.label}` : `${d.verdict}: ${top.label} leads by less than the test can resolve`,
    });
  }
  if (bench) {
    for (const factor of FACTORS) {
      const rows = robustnessRows(bench).filter((r) => r.factor === factor);
      if (!rows.length) continue;
      const robust = rows.filter((r) => r['more robust'] === 'yes');
      const base = rows.find((r) => r.method === 'Baseline');
      // losing accuracy needs some to lose: below two binomial standard errors above chance, a drop is noise
      const learnt = bench.points.filter((p) => p.factor === factor).some(({ point }) => {
        const c = bench.comparisons.get(pointKey(point))!;
        return Object.keys(c.runs).some((method) => aboveChance(c, method));
      });
      out.push({
        question: `As ${factor === 'confound' ? 'the identity confound' : factor === 'pose' ? 'the pose range' : 'the illumination range'} `
          + `grows (${rows[0].levels}), does any method lose less accuracy than the baseline (p < 0.05)?`,
        numbers: `baseline loses ${base?.['accuracy lost (pp)'] ?? 'n/a'} pp; ${rows.filter((r) => r.method !== 'Baseline').map((r) => `${r.method} ${r['accuracy lost (pp)']}`).join('; ')}`,
        answer: !learnt ? 'unclear: no method is above chance at any of these levels' : robust.length ? `yes: ${robust.map((r) => r.method).join(', ')}` : 'no',
      });
    }
  }
  if (analysis) {
    const leak = (m: string) => analysis.leakage.filter((r) => r.method === m);
    const byFold = (rs: LeakageRow[]) => new Map(rs.map((r) => [r.fold, 100 * r.accuracy]));
    const base = byFold(leak('baseline'));
    const methods = [...new Set(analysis.leakage.map((r) => r.method))].filter((m) => m !== 'pixels');
    // baseline − method probe accuracy per fold: > 0 when the method's features name the person less often
    const lessThanBase = (m: string): PairedTest => {
      const mine = byFold(leak(m));
      return pairedTest([...base].filter(([f]) => mine.has(f)).map(([f, acc]) => acc - mine.get(f)!));
    };
    const less = methods.filter((m) => m !== 'baseline' && lessThanBase(m).verdict === 'yes');
    const probeDim = analysis.leakage[0]?.probeDim;
    out.push({
      question: 'Do the disentangling methods\' expression features carry less identity than the baseline\'s '
        + `(probe accuracy in ${probeDim}-d, per fold, p < 0.05)?`,
      numbers: methods.filter((m) => m !== 'baseline').map((m) => `${leakLabel(m)} ${formatPaired(lessThanBase(m))}`).join('; '),
      answer: less.length ? `yes: ${less.map(leakLabel).join(', ')}` : 'no',
    });
    const aboveChance = (m: string) => pairedTest(leak(m).map((r) => 100 * (r.accuracy - r.chance)));
    const atChance = methods.filter((m) => aboveChance(m).verdict !== 'yes');
    out.push({
      question: 'Whose expression features are not shown to name the person above chance (probe − chance per fold, p ≥ 0.05)?',
      numbers: `${methods.map((m) => `${leakLabel(m)} ${formatPaired(aboveChance(m))}`).join('; ')} `
        + `(chance ${pm(leak('baseline').map((r) => 100 * r.chance))} %)`,
      answer: atChance.length ? atChance.map(leakLabel).join(', ') : 'none',
    });
  }
  if (faceApi && faceApi.mappable) {
    const se = Math.sqrt((faceApi.chanceRestricted * (1 - faceApi.chanceRestricted)) / faceApi.mappable);
    const above = faceApi.accuracyRestricted > faceApi.chanceRestricted + 2 * se;
    out.push({
      question: 'Does the off-the-shelf face-api model read our faces above chance?',
      numbers: `${(100 * faceApi.accuracyRestricted).toFixed(1)} % on ${faceApi.mappable} mappable samples (chance ${(100 * faceApi.chanceRestricted).toFixed(1)} %, 2 s.e. ${(200 * se).toFixed(1)} pp)`,
      answer: above ? 'yes' : 'no',
    });
  }
  return out;
}

// ---------------------------------------------------------------- figures from stored results

export interface ComparisonFigure {
  figure: string;
  file: string;
  paperFigure: string;
  source: string;
}

/**
 * Redraws notebook 06's figures from stored results only (used by
 * `npm run figures` and notebook 07): a figure whose runs or analysis are
 * not stored is listed as missing.
 */
export async function redrawComparisonFigures(config: Config, draw: (spec: import('../figures/render').FigureSpec, name: string) => Promise<string>, opts: { resultsDir?: string } = {}): Promise<ComparisonFigure[]> {
  const { accuracyByMethodSpec, factorCurvesSpec, leakageSpec } = await import('../figures/comparison');
  const out: ComparisonFigure[] = [];
  const missing = (figure: string, what: string, source: string, how = 'run notebook 06 first') => out.push({ figure, paperFigure: 'none (cross-paper comparison)', source, file: `missing: ${how} (${what})` });
  const plan = await planMainComparison(config, opts);
  const source = plan.methods.map((p) => p.runId).join(', ');
  const incomplete = plan.methods.filter((p) => !isComplete(p.dir));
  if (incomplete.length) {
    missing('comparison/accuracy', `no complete run ${incomplete.map((p) => p.runId).join(', ')}`, source);
    missing('comparison/leakage', 'the main comparison is not complete', source);
  } else {
    const cmp: Comparison = { ...plan, runs: Object.fromEntries(plan.methods.map((p) => [p.method, loadRun(p.dir)])) };
    out.push({ figure: 'comparison/accuracy', paperFigure: 'none (cross-paper comparison)', source, file: await draw(accuracyByMethodSpec(accuracyFigureRows(methodResults(cmp)), 1 / plan.set.classes.length), 'comparison/accuracy') });
    const file = analysisFile(plan, config.seed, opts.resultsDir);
    if (fs.existsSync(file)) {
      out.push({ figure: 'comparison/leakage', paperFigure: 'none (identity leakage)', source: path.basename(file), file: await draw(leakageSpec(leakageFigureRows({ ...readAnalysis(file), file, cached: true })), 'comparison/leakage') });
    } else missing('comparison/leakage', `no stored model analysis ${path.basename(file)}`, source);
  }
  const { points, plans } = await planBenchmark(config, opts);
  const benchIds = [...plans.values()].flatMap((p) => p.methods);
  const lacking = benchIds.filter((p) => !isComplete(p.dir));
  if (lacking.length) {
    // the benchmark trains only in the study (runBenchmark)
    missing('comparison/benchmark', `no complete run ${lacking.map((p) => p.runId).join(', ')}`, benchIds.map((p) => p.runId).join(', '), 'run `npm run study` (or notebook 06 with FER_STUDY=1) first');
  } else {
    const comparisons = new Map([...plans].map(([k, p]) => [k, { ...p, runs: Object.fromEntries(p.methods.map((m) => [m.method, loadRun(m.dir)])) }]));
    out.push({ figure: 'comparison/benchmark', paperFigure: 'none (controlled benchmark)', source: `${benchIds.length} runs`, file: await draw(factorCurvesSpec(benchmarkRows({ points, comparisons })), 'comparison/benchmark') });
  }
  return out;
}
