/**
 * GNDL's figures, drawn from stored results: accuracy against λ (Fig. 7,
 * with the paper's λ = 5 anchor for a chosen dataset) and the joint 2-D
 * embedding of V_real and V_gen coloured by class (Fig. 8).
 * @see notebooks/03-gndl.ipynb
 */
import type { Row } from '../results/store';
import type { FigureSpec } from './render';

/** Accuracy (fraction) against λ on a log axis, ±1 sd over folds, and the paper's λ = 5 point. */
export function lambdaCurveSpec(rows: { lambda: number; acc_mean: number; acc_std: number }[], paper: { label: string; acc: number } | null, title = 'Accuracy against λ (mean ± sd over folds)'): FigureSpec {
  // λ = 0 has no place on a log axis: drawn at 0.01 and labelled
  const values = rows.map((r) => ({ lambda: r.lambda === 0 ? 0.01 : r.lambda, label: String(r.lambda), acc: r.acc_mean, lo: r.acc_mean - r.acc_std, hi: r.acc_mean + r.acc_std, source: 'ours (synthetic)' }));
  const layers: unknown[] = [
    { mark: { type: 'errorbar' }, encoding: { x: { field: 'lambda', type: 'quantitative', scale: { type: 'log' }, title: 'λ (0 drawn at 0.01)' }, y: { field: 'lo', type: 'quantitative', title: 'accuracy' }, y2: { field: 'hi' } } },
    { mark: { type: 'line', point: true }, encoding: { x: { field: 'lambda', type: 'quantitative' }, y: { field: 'acc', type: 'quantitative' }, color: { field: 'source', type: 'nominal', title: null } } },
  ];
  if (paper) {
    layers.push({ data: { values: [{ lambda: 5, acc: paper.acc, source: paper.label }] }, mark: { type: 'point', shape: 'diamond', size: 120, filled: true },
      encoding: { x: { field: 'lambda', type: 'quantitative' }, y: { field: 'acc', type: 'quantitative' }, color: { field: 'source', type: 'nominal', title: null } } });
  }
  return { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title, width: 360, height: 220, data: { values }, layer: layers } as FigureSpec;
}

/** V_real (squares) and V_gen (crosses) in one 2-D embedding, coloured by class. */
export function deviationEmbeddingSpec(points: Row[], title = 'V_real (squares) and V_gen (crosses), one test fold, UMAP'): FigureSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title, width: 380, height: 320, data: { values: points },
    mark: { type: 'point', filled: true, size: 40, opacity: 0.8 },
    encoding: {
      x: { field: 'x', type: 'quantitative', axis: null }, y: { field: 'y', type: 'quantitative', axis: null },
      color: { field: 'class', type: 'nominal' },
      shape: { field: 'kind', type: 'nominal', scale: { range: ['square', 'cross'] }, title: null },
    },
  } as FigureSpec;
}
