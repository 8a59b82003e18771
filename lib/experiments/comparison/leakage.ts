/**
 * Notebook 06's model analysis: every fold model reloaded for its parameter
 * count and the identity leakage of its expression features (a linear
 * probe, ../../analysis/leakage.ts), stored under data/results/comparison/.
 * @see notebooks/06-comparison.ipynb
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { identityLeakage, identitySplit } from '../../analysis/leakage';
import { progressLine } from '../../core/progress';
import { canonicalJson, readCsvRows, RESULTS_DIR, type Row, writeCsv } from '../../results/store';
import { disposeModel } from '../../train/trainer';
import { getMethod } from '../methods';
import { extractFeatures, loadFoldModel } from '../runner';
import { pm } from './format';
import { entry, type Comparison, type ComparisonPlan } from './plan';

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
export async function analyseModels(
  cmp: Comparison, seed: number, opts: { resultsDir?: string; force?: boolean } = {}
): Promise<ModelAnalysis> {
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
        if (!f) {
          throw new Error(`${p.method}: its features() has no '${name}' (it has ${Object.keys(feats).join(', ')}); `
            + 'update the comparison\'s feature name');
        }
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

export function readAnalysis(file: string): Omit<ModelAnalysis, 'file' | 'cached'> {
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

export const leakLabel = (m: string) => (m === 'pixels' ? 'input pixels' : entry(m).label);

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

export const leakageFigureRows = (a: ModelAnalysis) =>
  a.leakage.map((r) => ({ method: leakLabel(r.method), fold: r.fold, accuracy: r.accuracy, chance: r.chance }));
