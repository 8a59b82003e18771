/**
 * Notebook 06: one controlled comparison of the four papers' methods and the
 * plain baseline; this file says what is compared and plans and runs it.
 * Every method trains on the same data set, the same
 * subject-independent folds, the same image size, the same number of epochs
 * and the same seed; the baseline, SPNDL and GNDL share the configured
 * backbone (backboneForRun, so backboneInit applies), while IDFERM's RML
 * network and DDL's PreAct trunk + attention keep their own structure, sized
 * by comparison* widths to a similar parameter count. Each method keeps its
 * own paper's loss, optimiser, batch size and pretraining stage (IDFERM's
 * HNG, DDL's DFEM), reused from notebooks 04/05 when an identical one is stored.
 *
 * Beside it: rows.ts (the tables of results), leakage.ts (the model
 * analysis: parameters and identity leakage of the expression features),
 * reference.ts (face-api's expression model on the same data), benchmark.ts
 * (the comparison repeated while one SynFER factor grows) and verdicts.ts
 * (the notebook's questions answered with the shared paired test,
 * ../../analysis/paired.ts). Figures from stored results:
 * lib/figures/comparison.ts.
 * @see notebooks/06-comparison.ipynb
 */
import * as path from 'path';
import type { Config } from '../../config';
import { writeFileAtomic } from '../../core/atomic-write';
import { loadDataset, type FerSet } from '../../data/dataset';
import { RESULTS_DIR, type StoredRun } from '../../results/store';
import { paceEpochsFor } from '../../train/spl';
import { ddlConfig } from '../ddl';
import { gndlConfig } from '../gndl-study';
import { idfermConfig } from '../idferm';
import { comparisonIndexFile } from '../index-report';
import { defaultFolds, planRun } from '../runner';
import { parseNumberList } from '../settings';
import { runStudy, type StudyRun } from '../study-runs';
import { spndlConfig } from '../spndl-study';

/** What each compared method is: its run variant, the feature its classifier reads, its paper's own settings. */
interface Entry {
  label: string;
  /** the variant run on this data, or null when the data cannot support the method */
  variant(set: FerSet): string | null;
  /** the features() entry the expression classifier reads (probed for identity) */
  feature: string;
  /** the paper notebook's configuration (its own loss settings, optimiser, batch) */
  own(config: Config): Config;
  /** whether `own` is exactly the paper notebook's run (same configuration, so the same run id): it then also
   * stands for the paper's rows in the results index; false where the comparison changes the protocol */
  paperRun: boolean;
  network: string;
  pretraining: string;
}

const ENTRIES: Record<string, Entry> = {
  baseline: {
    label: 'Baseline', variant: () => 'plain', feature: 'backbone', own: (c) => c, paperRun: true,
    network: 'shared backbone + linear softmax', pretraining: 'none',
  },
  spndl: {
    label: 'SPNDL', variant: (set) => (set.neutral ? 'spndl' : 'spndl-won'), feature: 'ndf',
    own: spndlConfig, paperRun: true,
    network: 'shared backbone on (target, neutral) with joint BN, classifier on the difference; self-paced', pretraining: 'none',
  },
  gndl: {
    label: 'GNDL', variant: (set) => (set.neutral ? 'gndl' : null), feature: 'v_gen', own: gndlConfig, paperRun: true,
    network: 'shared backbone + neutral feature generator, classifier on F − NFG(F)', pretraining: 'none',
  },
  idferm: {
    label: 'IDFERM', variant: () => 'idferm', feature: 'e', own: idfermConfig, paperRun: true,
    network: 'RML network (conv groups, EC and ML branches), softmax + radial metric loss',
    pretraining: 'HNG generator + identity nets (face-db)',
  },
  ddl: {
    label: 'DDL', variant: () => 'ddl-gar-id-il-p', feature: 'fe',
    // no stage-0 expression pretraining here: the other methods start from scratch on the same data
    own: (c) => ddlConfig(c, { ddlPretrain: 'scratch' }), paperRun: false,
    network: 'PreAct trunk + expression/disturbance attention, adversarial + attention transfer',
    pretraining: 'DFEM on the disturbance database (frozen)',
  },
};

/** The methods notebook 06 knows, in table order. */
export const COMPARISON_METHODS = Object.keys(ENTRIES);

export const entry = (method: string): Entry => {
  const e = ENTRIES[method];
  if (!e) throw new Error(`comparison: unknown method '${method}'; methods: ${COMPARISON_METHODS.join(', ')}`);
  return e;
};

export const methodLabel = (method: string) => entry(method).label;

/** Parses a comma-separated method list (a comparison* setting); the baseline must be in it, every name known. */
export function parseMethods(text: string, setting: string): string[] {
  const names = text.split(',').map((m) => m.trim()).filter(Boolean);
  const unknown = names.filter((m) => !ENTRIES[m]);
  if (unknown.length) {
    throw new Error(`${setting}='${text}': unknown method ${unknown.join(', ')}; methods: ${COMPARISON_METHODS.join(', ')}`);
  }
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

export const mainScale = (c: Config): Scale => ({
  dataset: c.dataset, subjects: c.comparisonSubjects, folds: c.comparisonFolds, epochs: c.comparisonEpochs,
  imageSize: c.comparisonImageSize });
/** The benchmark always runs on SynFER: its factors are set by the generator. */
export const benchScale = (c: Config): Scale => ({
  dataset: 'synfer', subjects: c.comparisonBenchSubjects, folds: c.comparisonBenchFolds, epochs: c.comparisonBenchEpochs,
  imageSize: c.comparisonImageSize });
/** The main comparison's factor levels: the shared synfer* settings. */
export const referencePoint = (c: Config): DataPoint => ({ confound: c.synferConfound, pose: c.synferPose, light: c.synferLight });

/** The settings that define the data, identical for every method of a comparison. */
export function sharedConfig(config: Config, scale: Scale, point: DataPoint): Config {
  if (scale.imageSize % 16 !== 0) {
    throw new Error(`comparisonImageSize=${scale.imageSize} must be a multiple of 16 (IDFERM's generator halves it four times)`);
  }
  return Object.freeze({
    ...config, dataset: scale.dataset, subjects: scale.subjects, imageSize: scale.imageSize, folds: scale.folds, epochs: scale.epochs,
    channels: 1, // IDFERM's RML network is defined on grey faces: every method gets the same grey images
    synferConfound: point.confound, synferPose: point.pose, synferLight: point.light,
  });
}

const DATA_KEYS = ['dataset', 'dataRoot', 'manifest', 'seed', 'subjects', 'imageSize', 'channels', 'folds', 'epochs',
  'synferExpressions', 'synferFrames', 'synferConfound', 'synferSubtle', 'synferLabelNoise', 'synferCorrupt', 'synferPose',
  'synferLight', 'synferOcclusion'] as const;

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
  if (method === 'ddl') {
    Object.assign(extra, {
      ddlWidth: config.comparisonDdlWidth, ddlCrop: Math.round((scale.imageSize * config.ddlCrop) / config.ddlImageSize) });
  }
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
export async function planComparison(
  config: Config, methods: string[], scale: Scale, point: DataPoint, opts: { resultsDir?: string; set?: FerSet } = {}
): Promise<ComparisonPlan> {
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
  if (off.length) {
    throw new Error(`comparison: ${off.map((p) => `${p.method} would train ${p.totalEpochs} epochs`).join(', ')}, not ${scale.epochs}`);
  }
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
export async function runPlanned(
  plan: ComparisonPlan, opts: { resultsDir?: string; log?: (line: string) => void; label?: string } = {}
): Promise<Comparison> {
  const results = await runStudy(comparisonRuns(plan, true, { resultsDir: opts.resultsDir }),
    { label: opts.label, log: opts.log });
  return { ...plan, runs: Object.fromEntries(plan.methods.map((p, i) => [p.method, results[i]!])) };
}

/** The main comparison's plan (runComparison trains it). */
export const planMainComparison = (config: Config, opts: { resultsDir?: string; set?: FerSet } = {}): Promise<ComparisonPlan> =>
  planComparison(config, parseMethods(config.comparisonMethods, 'comparisonMethods'), mainScale(config),
    referencePoint(config), opts);

/** The main comparison: plans, runs (or reuses) and records it in the results index. */
export async function runComparison(
  config: Config, opts: { resultsDir?: string; log?: (line: string) => void; set?: FerSet } = {}
): Promise<Comparison> {
  const cmp = await runPlanned(await planMainComparison(config, opts), opts);
  const root = opts.resultsDir ?? RESULTS_DIR;
  writeFileAtomic(comparisonIndexFile(config.profile, root), JSON.stringify({
    dataset: cmp.set.name,
    runs: cmp.methods.map((p) => ({
      method: p.method, label: entry(p.method).label, runId: p.runId, dir: path.relative(root, p.dir),
      paperRun: entry(p.method).paperRun })),
  }, null, 2) + '\n');
  return cmp;
}
