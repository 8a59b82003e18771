/**
 * Notebook 06's figures as vega-lite specs, drawn from stored results:
 * accuracy per method with one dot per fold, accuracy against the strength of
 * each disturbance factor (one line per method), and the identity leakage of
 * each method's expression features beside chance; and redrawComparisonFigures,
 * which draws them from the stored runs and analysis alone.
 * @see notebooks/06-comparison.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from '../config';
import { isComplete, loadRun } from '../results/store';
import { benchmarkRows, planBenchmark } from '../experiments/comparison/benchmark';
import { analysisFile, leakageFigureRows, readAnalysis } from '../experiments/comparison/leakage';
import { planMainComparison, type Comparison } from '../experiments/comparison/plan';
import { accuracyFigureRows, methodResults } from '../experiments/comparison/rows';
import type { FigureSpec } from './render';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** Test accuracy (fraction) per method: a bar for the mean over folds, a dot per fold, a dashed rule at chance. */
export function accuracyByMethodSpec(rows: { method: string; fold: number; acc: number }[], chance: number, title = 'Test accuracy per method (bar: mean over folds; dots: folds)'): FigureSpec {
  const order = [...new Set(rows.map((r) => r.method))];
  const x = { field: 'method', type: 'nominal', sort: order, title: null, axis: { labelAngle: 0 } };
  return {
    $schema: SCHEMA, title, width: 70 * order.length, height: 220, data: { values: rows.map((r) => ({ ...r, fold: `fold ${r.fold}` })) },
    layer: [
      { mark: { type: 'bar', opacity: 0.35 }, encoding: { x, y: { aggregate: 'mean', field: 'acc', type: 'quantitative', title: 'test accuracy', scale: { domain: [0, 1] } }, color: { field: 'method', type: 'nominal', sort: order, legend: null } } },
      { mark: { type: 'point', filled: true, size: 50 }, encoding: { x, y: { field: 'acc', type: 'quantitative' }, color: { field: 'method', type: 'nominal', sort: order, legend: null }, shape: { field: 'fold', type: 'nominal', title: null } } },
      { data: { values: [{ chance, label: 'chance' }] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'grey' }, encoding: { y: { field: 'chance', type: 'quantitative' } } },
    ],
  } as FigureSpec;
}

/** Accuracy (mean ± sd over folds) against each factor's level: one panel per factor, one line per method. */
export function factorCurvesSpec(rows: { factor: string; level: number; method: string; acc_mean: number; acc_std: number }[], title = 'Accuracy as a disturbance grows (mean ± sd over folds)'): FigureSpec {
  const methods = [...new Set(rows.map((r) => r.method))];
  const values = rows.map((r) => ({ ...r, lo: r.acc_mean - r.acc_std, hi: r.acc_mean + r.acc_std }));
  const color = { field: 'method', type: 'nominal', sort: methods };
  return {
    $schema: SCHEMA, title, data: { values },
    facet: { column: { field: 'factor', type: 'nominal', title: null, sort: ['confound', 'pose', 'light'] } },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 200, height: 200,
      layer: [
        { mark: { type: 'errorbar', opacity: 0.5 }, encoding: { x: { field: 'level', type: 'quantitative', title: 'level' }, y: { field: 'lo', type: 'quantitative', title: 'test accuracy' }, y2: { field: 'hi' }, color } },
        { mark: { type: 'line', point: true }, encoding: { x: { field: 'level', type: 'quantitative' }, y: { field: 'acc_mean', type: 'quantitative' }, color } },
      ],
    },
  } as FigureSpec;
}

/** Identity-probe accuracy per method (bar: mean over folds; dots: folds) with chance (1 / subjects) as a dashed rule. */
export function leakageSpec(rows: { method: string; fold: number; accuracy: number; chance: number }[], title = 'Identity leakage: a linear probe names the subject from the expression features (lower is better)'): FigureSpec {
  const order = [...new Set(rows.map((r) => r.method))];
  const x = { field: 'method', type: 'nominal', sort: order, title: null, axis: { labelAngle: 0 } };
  const chance = rows.reduce((a, r) => a + r.chance, 0) / Math.max(rows.length, 1);
  return {
    $schema: SCHEMA, title, width: 70 * order.length, height: 220, data: { values: rows },
    layer: [
      { mark: { type: 'bar', opacity: 0.35 }, encoding: { x, y: { aggregate: 'mean', field: 'accuracy', type: 'quantitative', title: 'probe accuracy (subject)', scale: { domain: [0, 1] } }, color: { field: 'method', type: 'nominal', sort: order, legend: null } } },
      { mark: { type: 'point', filled: true, size: 50, color: 'black' }, encoding: { x, y: { field: 'accuracy', type: 'quantitative' } } },
      { data: { values: [{ chance }] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'grey' }, encoding: { y: { field: 'chance', type: 'quantitative' } } },
    ],
  } as FigureSpec;
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
export async function redrawComparisonFigures(
  config: Config, draw: (spec: FigureSpec, name: string) => Promise<string>, opts: { resultsDir?: string } = {},
): Promise<ComparisonFigure[]> {
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
