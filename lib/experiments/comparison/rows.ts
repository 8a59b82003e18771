/**
 * Notebook 06's tables of results: the setup of every method, the shared
 * data and protocol, and per method accuracy and macro-F1 over folds with
 * the paired test of its difference to the baseline
 * (../../analysis/paired.ts).
 * @see notebooks/06-comparison.ipynb
 */
import type { Config } from '../../config';
import { formatP, formatPaired, pairedDifference, type PairedTest } from '../../analysis/paired';
import { finalAccuracies, frameRows, type Row, type StoredRun } from '../../results/store';
import { confusionMatrix, macroF1 } from '../../train/metrics';
import { queriesPerBatch } from '../idferm';
import { getMethod } from '../methods';
import { pm, signed } from './format';
import type { ModelAnalysis } from './leakage';
import { entry, type Comparison, type ComparisonPlan } from './plan';

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
    const opt = p.method === 'idferm' ? `SGD m0.9, lr ${c.idfermLearningRate}`
      : p.method === 'ddl' ? `Adam β1 0.5, lr ${c.learningRate}` : `${c.optimizer}, lr ${c.learningRate}`;
    const width = p.method === 'idferm' ? `RML w${c.idfermRmlWidth}`
      : p.method === 'ddl' ? `PreAct w${c.ddlWidth}, crop ${c.ddlCrop}` : `${c.backbone} w${c.backboneWidth}`;
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
    image: `${cmp.scale.imageSize}×${cmp.scale.imageSize} grey`, folds: `${cmp.scale.folds} subject-independent (shared)`,
    epochs: cmp.scale.epochs,
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
      method: r.label, 'accuracy %': pm(r.accuracy), 'macro-F1 %': pm(r.macroF1),
      'per fold %': r.accuracy.map((a) => a.toFixed(1)).join(' '),
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
