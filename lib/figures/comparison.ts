/**
 * Notebook 06's figures as vega-lite specs, drawn from stored results:
 * accuracy per method with one dot per fold, accuracy against the strength of
 * each disturbance factor (one line per method), and the identity leakage of
 * each method's expression features beside chance.
 * @see notebooks/06-comparison.ipynb
 */
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
