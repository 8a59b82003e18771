/**
 * Standard figures of a stored run, drawn only from its stored tables (so
 * regenerating them needs no training): learning curves per fold with their
 * mean, a row-normalised confusion-matrix heatmap, per-class accuracy bars.
 * Each function returns a vega-lite spec; `drawRunFigures` renders all three.
 * @see notebooks/07-figures.ipynb
 */
import type * as dfd from 'danfojs-node';
import { confusionMatrix, perClassAccuracy } from '../train/metrics';
import { frameRows, Row, StoredRun } from '../results/store';
import { Figure, FigureSpec, renderFigure } from './render';

const rowsOf = (t: dfd.DataFrame | Row[]) => (Array.isArray(t) ? t : frameRows(t));

/**
 * Learning curves: one thin line per fold and the mean over folds (thick),
 * one panel per metric (columns of results.csv, e.g. test_acc, train_loss).
 */
export function learningCurvesSpec(results: dfd.DataFrame | Row[], metrics = ['train_loss', 'test_loss', 'train_acc', 'test_acc'], title = 'Learning curves'): FigureSpec {
  const rows = rowsOf(results);
  const missing = metrics.filter((m) => rows.length && !(m in rows[0]));
  if (missing.length) throw new Error(`learning curves: no column ${missing.join(', ')} in the results (columns: ${Object.keys(rows[0]).join(', ')})`);
  const values = rows.flatMap((r) => metrics.map((m) => ({ epoch: r.epoch, fold: `fold ${r.fold}`, metric: m, value: r[m] })))
    .filter((v) => typeof v.value === 'number' && Number.isFinite(v.value));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values },
    facet: { column: { field: 'metric', type: 'nominal', sort: metrics, title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 220, height: 160,
      layer: [
        { mark: { type: 'line', strokeWidth: 1, opacity: 0.5 }, encoding: {
          x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
          y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
          color: { field: 'fold', type: 'nominal', title: 'fold' },
        } },
        { mark: { type: 'line', strokeWidth: 3, color: 'black' }, encoding: {
          x: { field: 'epoch', type: 'quantitative' },
          y: { aggregate: 'mean', field: 'value', type: 'quantitative' },
        } },
      ],
    },
  } as FigureSpec;
}

/** Confusion matrix of predictions (rows: true class, columns: predicted), row-normalised %, counts kept in the tooltip. */
export function confusionHeatmapSpec(predictions: dfd.DataFrame | Row[], classes: string[], title = 'Confusion matrix (% of each true class)'): FigureSpec {
  const rows = rowsOf(predictions);
  const m = confusionMatrix(rows.map((r) => r.label as number), rows.map((r) => r.prediction as number), classes.length);
  const values = m.flatMap((row, t) => {
    const n = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => ({ true: classes[t], predicted: classes[p], count, percent: n ? (100 * count) / n : 0 }));
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title, data: { values }, width: 28 * classes.length, height: 28 * classes.length,
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: classes },
      y: { field: 'true', type: 'nominal', sort: classes },
    },
    layer: [
      { mark: 'rect', encoding: {
        color: { field: 'percent', type: 'quantitative', scale: { scheme: 'blues', domain: [0, 100] }, title: '%' },
        tooltip: [{ field: 'true' }, { field: 'predicted' }, { field: 'count' }, { field: 'percent', format: '.1f' }],
      } },
      { mark: { type: 'text', fontSize: 9 }, encoding: {
        text: { field: 'percent', type: 'quantitative', format: '.0f' },
        color: { condition: { test: 'datum.percent > 50', value: 'white' }, value: 'black' },
      } },
    ],
  } as FigureSpec;
}

/** Accuracy (recall) of each class, from predictions. */
export function perClassAccuracySpec(predictions: dfd.DataFrame | Row[], classes: string[], title = 'Accuracy per class'): FigureSpec {
  const rows = rowsOf(predictions);
  const m = confusionMatrix(rows.map((r) => r.label as number), rows.map((r) => r.prediction as number), classes.length);
  const values = perClassAccuracy(m).map((acc, k) => ({ class: classes[k], accuracy: acc, n: m[k].reduce((a, b) => a + b, 0) }))
    .filter((v) => v.n > 0);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title, data: { values }, width: 30 * classes.length, height: 160,
    mark: 'bar',
    encoding: {
      x: { field: 'class', type: 'nominal', sort: classes, title: null },
      y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] } },
      tooltip: [{ field: 'class' }, { field: 'accuracy', format: '.3f' }, { field: 'n' }],
    },
  } as FigureSpec;
}

/** Class names of a stored run (from its config, else its run.json). */
export function runClasses(run: StoredRun): string[] {
  const classes = run.config.data?.classes ?? (run.meta.dataset as { classes?: string[] } | undefined)?.classes;
  if (!classes) throw new Error(`run ${run.runId}: no class names in config.json or run.json`);
  return classes;
}

/** Renders a run's learning curves, confusion matrix and per-class accuracy under figures/<method>/<run id>-*. */
export async function drawRunFigures(run: StoredRun, dir?: string): Promise<Figure[]> {
  const classes = runClasses(run);
  const stem = `${run.config.method}/${run.runId}`;
  return [
    await renderFigure(learningCurvesSpec(run.results, undefined, `${run.runId}: learning curves`), `${stem}-curves`, dir),
    await renderFigure(confusionHeatmapSpec(run.predictions, classes), `${stem}-confusion`, dir),
    await renderFigure(perClassAccuracySpec(run.predictions, classes), `${stem}-per-class`, dir),
  ];
}
